# The stand-in build of saebench (TEST-ONLY; tests/standin/README.md): the
# CUDA backend cuda/*.cu compiled as C++20 with g++ against the CPU stand-in
# (-DSB_STANDIN: kernel launches go through cuda/launch.h to
# tests/standin/include/standin_launch.h and run through the block simulation
# of tests/sim/sim_cuda.h), linked with the host library's objects (built
# apart, with -DSB_STANDIN, under build/standin/obj), src/main.c and
# libstandin.a into build/standin/saebench-standin. Never ./saebench.
# Included by the top Makefile after tests/standin/standin.mk.
#   make standin-saebench   build it
#   make test-standin       build it and run tests/standin/run-standin-tests.sh
#   make test-battery-dryrun  the GPU battery's dry run on it (scripts/gpu-results.sh --standin)
#   make examples-standin  the CUDA example plugin against the stand-in (run by make test-plugin)
#   make test-standin-full  the direct GPU test programs at full size and calibrate on it (minutes)
# Every variable here starts with STANDIN_SB_.

STANDIN_SB_OBJDIR := $(STANDIN_BUILD)/obj
STANDIN_SB_BIN    := $(STANDIN_BUILD)/saebench-standin
# The kernel headers as the stand-in compiles them (tests/standin/shared-notes.sh:
# each __shared__ declaration followed by SIM_SHARED_NOTE, the launch layer's
# static shared-memory count), found before cuda/'s own.
STANDIN_SB_CUH_DIR := $(STANDIN_BUILD)/cuh
STANDIN_SB_CUH := $(patsubst cuda/%,$(STANDIN_SB_CUH_DIR)/%,$(wildcard cuda/*.cuh)) \
    $(STANDIN_SB_CUH_DIR)/fault_kernels.cuh
STANDIN_SB_CXXFLAGS := -std=c++20 $(STANDIN_OPT) -pthread -Wall -Wextra -Werror -Wno-unknown-pragmas \
    -Wno-unused-variable -Wno-unused-function -MMD -MP -DSB_STANDIN $(STANDIN_INC) -Itests/sim \
    -I$(STANDIN_SB_CUH_DIR) -Icuda -Isrc $(PREFIX_INC) $(STANDIN_SANFLAGS)
STANDIN_SB_CFLAGS := $(OPT) -std=c11 -fopenmp -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -DSB_STANDIN -Isrc \
    $(PREFIX_INC) $(STANDIN_SANFLAGS) -DSB_GIT='"$(GIT_REV)"' -DSB_BUILD_CUDA='"CPU stand-in (not a GPU)"'
STANDIN_SB_LDLIBS := $(PREFIX_LIB) -fopenmp -llapacke -lopenblas -lcjson -lm -pthread $(STANDIN_SANFLAGS)

STANDIN_SB_CU  := $(wildcard cuda/*.cu)
STANDIN_SB_OBJ := $(SRC:%.c=$(STANDIN_SB_OBJDIR)/%.o) $(STANDIN_SB_CU:%.cu=$(STANDIN_SB_OBJDIR)/%.o)
STANDIN_SB_MAIN := $(STANDIN_SB_OBJDIR)/src/main.o

# The fake NVML (tests/standin/fake_nvml.c): the stand-in build's src/nvml.c
# opens it by its full path instead of libnvidia-ml.so.1 (SB_NVML_LIB, src/nvml.h);
# ./saebench never names it.
STANDIN_SB_NVML := $(STANDIN_BUILD)/libfake-nvml.so
$(STANDIN_SB_OBJDIR)/src/nvml.o: STANDIN_SB_CFLAGS += -DSB_NVML_LIB='"$(abspath $(STANDIN_SB_NVML))"'
$(STANDIN_SB_NVML): $(STANDIN_DIR)/fake_nvml.c
	@mkdir -p $(dir $@)
	$(STANDIN_CC) -std=c11 $(STANDIN_OPT) -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -o $@ $<

.PHONY: standin-saebench test-standin test-standin-nvml
standin-saebench: $(STANDIN_SB_BIN) $(STANDIN_SB_NVML)

$(STANDIN_SB_BIN): $(STANDIN_SB_MAIN) $(STANDIN_SB_OBJ) $(STANDIN_LIB)
	$(STANDIN_CXX) -o $@ $(STANDIN_SB_MAIN) $(STANDIN_SB_OBJ) $(STANDIN_LIB) $(STANDIN_SB_LDLIBS)

$(STANDIN_SB_OBJDIR)/%.o: %.c $(STANDIN_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(STANDIN_CC) $(STANDIN_SB_CFLAGS) -c $< -o $@

$(STANDIN_SB_CUH_DIR)/%.cuh: cuda/%.cuh $(STANDIN_DIR)/shared-notes.sh
	@$(STANDIN_DIR)/shared-notes.sh $< $@
$(STANDIN_SB_CUH_DIR)/%.cuh: $(STANDIN_DIR)/kernels/%.cuh $(STANDIN_DIR)/shared-notes.sh
	@$(STANDIN_DIR)/shared-notes.sh $< $@

# A translation unit with kernel launches gets its prelude force-included
# (tests/standin/launch/<name>.h: the kernel header once per residency slot).
$(STANDIN_SB_OBJDIR)/cuda/%.o: cuda/%.cu $(STANDIN_FLAGS_STAMP) | $(STANDIN_SB_CUH)
	@mkdir -p $(dir $@)
	$(STANDIN_CXX) $(STANDIN_SB_CXXFLAGS) $(if $(wildcard $(STANDIN_DIR)/launch/$*.h),-include $(STANDIN_DIR)/launch/$*.h) -x c++ -c $< -o $@

$(STANDIN_SB_MAIN) $(STANDIN_SB_OBJDIR)/src/verdict.o: $(REV_STAMP)

# The direct GPU test programs (tests/gpu/*.c), the fault tests
# (tests/standin/fault_test.cpp) and the failure paths
# (tests/standin/paths_test.cpp), linked against the same stand-in objects:
# build/standin/tests/NAME. The battery runs rs_backend_test and tiled_trace
# at small sizes only; test-standin-full at their full sizes (minutes).
STANDIN_SB_TESTDIR := $(STANDIN_BUILD)/tests
STANDIN_SB_GPU_TESTS := $(patsubst tests/gpu/%.c,$(STANDIN_SB_TESTDIR)/%,$(wildcard tests/gpu/*.c))
STANDIN_SB_OWN_TESTS := $(STANDIN_SB_TESTDIR)/fault_test $(STANDIN_SB_TESTDIR)/paths_test
STANDIN_SB_TESTS := $(STANDIN_SB_GPU_TESTS) $(STANDIN_SB_OWN_TESTS)
.PHONY: standin-tests
standin-tests: $(STANDIN_SB_TESTS)

$(STANDIN_SB_OBJDIR)/tests/gpu/%.o: tests/gpu/%.c $(STANDIN_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(STANDIN_CC) $(STANDIN_SB_CFLAGS) -Wno-unused-function $(STANDIN_INC) -Icuda -Itests/gpu -c $< -o $@

$(STANDIN_SB_OBJDIR)/tests/standin/%_test.o: tests/standin/%_test.cpp $(STANDIN_FLAGS_STAMP) | $(STANDIN_SB_CUH)
	@mkdir -p $(dir $@)
	$(STANDIN_CXX) $(STANDIN_SB_CXXFLAGS) -Itests/gpu -c $< -o $@

$(STANDIN_SB_TESTDIR)/%: $(STANDIN_SB_OBJDIR)/tests/gpu/%.o $(STANDIN_SB_OBJ) $(STANDIN_LIB)
	@mkdir -p $(dir $@)
	$(STANDIN_CXX) -o $@ $< $(STANDIN_SB_OBJ) $(STANDIN_LIB) $(STANDIN_SB_LDLIBS)

$(STANDIN_SB_OWN_TESTS): $(STANDIN_SB_TESTDIR)/%: $(STANDIN_SB_OBJDIR)/tests/standin/%.o $(STANDIN_SB_OBJ) $(STANDIN_LIB)
	@mkdir -p $(dir $@)
	$(STANDIN_CXX) -o $@ $< $(STANDIN_SB_OBJ) $(STANDIN_LIB) $(STANDIN_SB_LDLIBS)

# The battery also checks that ./saebench carries nothing of the stand-in.
test-standin: $(STANDIN_SB_BIN) $(STANDIN_SB_TESTS) $(STANDIN_SB_NVML) saebench
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 STANDIN_TESTS=$(STANDIN_SB_TESTDIR) \
	    tests/standin/run-standin-tests.sh $(STANDIN_SB_BIN) ./saebench
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 tests/standin/run-nvml-tests.sh $(STANDIN_SB_BIN) ./saebench
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 tests/standin/run-clock-tests.sh $(STANDIN_SB_BIN) ./saebench
	@$(GPU_SCRIPT_ON_STANDIN)

# The SM clock of every timed rep, throttled reps retaken, --cold (part of test-standin).
.PHONY: test-standin-clock
test-standin-clock: $(STANDIN_SB_BIN) saebench
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 tests/standin/run-clock-tests.sh $(STANDIN_SB_BIN) ./saebench

# The GPU battery's direct programs at their full sizes (rs_backend_test, tiled_trace) and the
# device calibration's small branch through the stand-in: minutes of CPU, not part of make test
# (tests/standin/run-standin-full.sh).
.PHONY: test-standin-full
test-standin-full: $(STANDIN_SB_BIN) $(STANDIN_SB_TESTS) $(STANDIN_SB_NVML)
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 STANDIN_TESTS=$(STANDIN_SB_TESTDIR) \
	    tests/standin/run-standin-full.sh $(STANDIN_SB_BIN)

# make test-gpu's own script (tests/gpu/run-gpu-tests.sh), its checks, against the stand-in:
# the shell logic and every assertion of the GPU test battery run on every landing, not first
# on a lent GPU (GPU_TESTS_STANDIN=1: small substitutes for the canonical shapes, the direct
# programs quick; part of test-standin, about 30 s).
GPU_SCRIPT_ON_STANDIN = OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 GPU_TESTS_STANDIN=1 GPU_TESTS_PARTS=checks \
    GPU_TESTS_BIN_DIR=$(STANDIN_SB_TESTDIR) tests/gpu/run-gpu-tests.sh $(STANDIN_SB_BIN)
.PHONY: test-standin-gpu-script
test-standin-gpu-script: $(STANDIN_SB_BIN) $(STANDIN_SB_TESTS)
	@$(GPU_SCRIPT_ON_STANDIN)

# The device's conditions and the validity block through the fake NVML alone (part of test-standin).
test-standin-nvml: $(STANDIN_SB_BIN) $(STANDIN_SB_NVML) saebench
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 tests/standin/run-nvml-tests.sh $(STANDIN_SB_BIN) ./saebench

# The CUDA example plugin (examples/solver-cuda/) built against the stand-in: the same
# source, the stand-in's headers, libstandin.a linked in (its objects are -fPIC) with its
# symbols kept inside the library. Loaded by the shipped ./saebench in make test-plugin.
STANDIN_SB_CUDA_PLUGIN := $(STANDIN_BUILD)/examples/solver-cuda-standin.so
.PHONY: examples-standin
examples-standin: $(STANDIN_SB_CUDA_PLUGIN)
$(STANDIN_SB_CUDA_PLUGIN): examples/solver-cuda/solver_cuda.c include/saebench/solver.h $(STANDIN_LIB)
	@mkdir -p $(dir $@)
	$(STANDIN_CC) -std=c11 $(STANDIN_OPT) -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -Iinclude \
	    $(STANDIN_INC) -o $@ $< $(STANDIN_LIB) -Wl,--exclude-libs,ALL -llapacke -lopenblas -lstdc++ -lm -pthread
test-plugin: $(STANDIN_SB_CUDA_PLUGIN)

# The GPU battery's dry run (scripts/gpu-results.sh --standin) against this build, and its
# archive (tests/standin/run-battery-dryrun.sh); also that no verdict under results/ is the
# stand-in's.
.PHONY: test-battery-dryrun
test-battery-dryrun: $(STANDIN_SB_BIN)
	@OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 tests/standin/run-battery-dryrun.sh

-include $(STANDIN_SB_OBJ:.o=.d) $(STANDIN_SB_MAIN:.o=.d) $(STANDIN_SB_TESTS:$(STANDIN_SB_TESTDIR)/%=$(STANDIN_SB_OBJDIR)/tests/gpu/%.d) \
    $(STANDIN_SB_OWN_TESTS:$(STANDIN_SB_TESTDIR)/%=$(STANDIN_SB_OBJDIR)/tests/standin/%.d)

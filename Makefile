# saebench — build, demo and tests.
#   make                 build ./saebench (CUDA=auto: the cuda/ backend when nvcc is found)
#   make CUDA=0|1        force host-only / CUDA build; CUDA_ARCH="80 90" picks SM targets
#   make demo            install missing packages, build, run resident-solve on the host
#   make test            install missing packages, build, run every CPU test
#   make test-asan       the unit and CLI tests under AddressSanitizer + UBSan
#   make test-gpu        device tests (needs a GPU; see tests/gpu/); test-gpu-build only compiles them
#   make examples        the example solver plugins (examples/: solver-lapacke; solver-rust where cargo is;
#                        solver-cuda with CUDA) into $(BUILD)/examples/
#   make examples-standin  the CUDA example against the CPU stand-in (tests/standin/)
#   make test-plugin     --backend plugin: the examples and plugins that misbehave on purpose
#   make fuzz            libFuzzer on the .npy, shape and calibration readers (FUZZ_SECONDS each)
#   SB_PREFIX=DIR        headers/libraries unpacked by scripts/gpu-node-setup.sh

CC      ?= gcc
NVCC    ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
CUDA    ?= auto
CUDA_ARCH ?= 80 90
CUDA_HOME ?= $(patsubst %/bin/nvcc,%,$(NVCC))
SAN     ?=

ifeq ($(CUDA),auto)
  ifneq ($(NVCC),)
    override CUDA := 1
  else
    override CUDA := 0
  endif
endif

# One object tree per configuration, so switching CUDA=0/1 never mixes objects.
BUILD   ?= build/$(if $(filter 1,$(CUDA)),cuda,host)
CONFIG  := CUDA=$(CUDA) ARCH=$(CUDA_ARCH) SAN=$(SAN) PREFIX=$(SB_PREFIX) BUILD=$(BUILD)
CONFIG_STAMP := build/.config-saebench
$(shell mkdir -p build; [ "$$(cat $(CONFIG_STAMP) 2>/dev/null)" = "$(CONFIG)" ] || echo "$(CONFIG)" > $(CONFIG_STAMP))

BUILD_CUDA := $(if $(filter 1,$(CUDA)),on (sm $(CUDA_ARCH)),off)
# A copy without .git (a GPU node's) names its commit through SB_GIT_REV.
ifneq ($(SB_GIT_REV),)
  GIT_REV := $(SB_GIT_REV)
else
  GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
endif

ifneq ($(SB_PREFIX),)
  PREFIX_INC := -I$(SB_PREFIX)/usr/include -I$(SB_PREFIX)/usr/include/x86_64-linux-gnu
  PREFIX_LIB := -Wl,--disable-new-dtags $(foreach d,$(SB_PREFIX)/usr/lib/x86_64-linux-gnu $(SB_PREFIX)/usr/lib/x86_64-linux-gnu/openblas-pthread,-L$(d) -Wl,-rpath,$(abspath $(d)))
endif

OPT     ?= -O2 -g
override CFLAGS += $(OPT) -std=c11 -fopenmp -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP -Isrc $(PREFIX_INC) $(SAN) -DSB_GIT='"$(GIT_REV)"' -DSB_BUILD_CUDA='"$(BUILD_CUDA)"'
LDLIBS  := $(PREFIX_LIB) -fopenmp -lopenblas -llapacke -lcjson -lm -ldl $(SAN)

SRC := $(filter-out src/main.c src/cuda_stub.c,$(wildcard src/*.c src/host/*.c src/oracle/*.c))
OBJ := $(SRC:%.c=$(BUILD)/%.o)

ifeq ($(CUDA),1)
  CU_SRC    := $(wildcard cuda/*.cu)
  CU_OBJ    := $(CU_SRC:%.cu=$(BUILD)/%.o)
  GENCODE   := $(foreach a,$(CUDA_ARCH),-gencode arch=compute_$(a),code=sm_$(a))
  NVCCFLAGS ?= -O3
  NVCCFLAGS += -std=c++17 $(GENCODE) -Werror all-warnings -Xcompiler -Wall,-Wextra -Isrc -Icuda $(PREFIX_INC) -MMD -MP
  LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcusolver -lcublas -lcudart -lstdc++
  BACKEND_OBJ := $(CU_OBJ)
else
  BACKEND_OBJ := $(BUILD)/src/cuda_stub.o
endif

LIB := $(BUILD)/libsaebench.a

.PHONY: all deps demo test test-unit test-cli test-ab test-asan test-gpu bench-host clean examples test-plugin
all: saebench examples

saebench: $(BUILD)/src/main.o $(LIB) $(CONFIG_STAMP)
	$(CC) -o $@ $(BUILD)/src/main.o $(LIB) $(LDLIBS)
	@echo "built ./saebench (CUDA=$(CUDA))"

# The test binary with the fake device (tests/fake/fake_device.c) linked in:
# the honesty paths run through it; the shipped saebench never has it.
FAKE_BIN := $(BUILD)/saebench-fake
$(FAKE_BIN): $(BUILD)/src/main.o $(BUILD)/tests/fake/fake_device.o $(LIB)
	$(CC) -o $@ $(BUILD)/src/main.o $(BUILD)/tests/fake/fake_device.o $(LIB) $(LDLIBS)

$(LIB): $(OBJ) $(BACKEND_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The objects that carry the commit (--version, every verdict's tool.git) are rebuilt
# when it changes: a new commit, an edit (-dirty), or a GPU node's SB_GIT_REV.
REV_STAMP := $(BUILD)/.rev
$(shell mkdir -p $(BUILD); [ "$$(cat $(REV_STAMP) 2>/dev/null)" = "$(GIT_REV)" ] || echo "$(GIT_REV)" > $(REV_STAMP))
$(BUILD)/src/main.o $(BUILD)/src/verdict.o: $(REV_STAMP)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -c $< -o $@

# Solver plugins (include/saebench/solver.h, docs/plugins.md) ------------------
# Built like any user's plugin: the public header only, nothing of saebench's.
PLUGIN_CFLAGS := $(OPT) -std=c11 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -Iinclude $(PREFIX_INC)
PLUGIN_LDLIBS := $(PREFIX_LIB) -llapacke -lopenblas -lm
# The Rust example is built only where cargo is (Debian's, which make deps installs; else the
# first on PATH): without cargo, make skips it and test-plugin says SKIP.
CARGO ?= $(firstword $(wildcard /usr/bin/cargo) $(shell command -v cargo 2>/dev/null))
# cargo compiles with the first rustc on PATH: name the one beside it, so that Debian's cargo
# runs Debian's rustc even where rustup's ~/.cargo/bin comes first on PATH.
RUSTC ?= $(firstword $(wildcard $(dir $(CARGO))rustc) rustc)
RUST_EXAMPLE := $(if $(CARGO),$(BUILD)/examples/solver-rust.so)
EXAMPLE_PLUGINS := $(BUILD)/examples/solver-lapacke.so $(RUST_EXAMPLE)
examples: $(EXAMPLE_PLUGINS)
	$(if $(CARGO),,@echo "examples: SKIP examples/solver-rust (no cargo; make deps installs Debian's)")

$(BUILD)/examples/solver-lapacke.so: examples/solver-lapacke/solver_lapacke.c include/saebench/solver.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -o $@ $< $(PLUGIN_LDLIBS)

# The CUDA example (examples/solver-cuda/: cuBLAS and cuSOLVER through the runtime's C API,
# compiled by the C compiler) in a CUDA build; its stand-in build, for a machine without a
# GPU, is tests/standin/standin-build.mk's (make examples-standin).
ifeq ($(CUDA),1)
EXAMPLE_PLUGINS += $(BUILD)/examples/solver-cuda.so
endif
$(BUILD)/examples/solver-cuda.so: examples/solver-cuda/solver_cuda.c include/saebench/solver.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -I$(CUDA_HOME)/include -o $@ $< -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 \
	    -lcusolver -lcublas -lcudart -lm

# Offline, locked to its Cargo.lock (no dependencies), warnings as errors; cargo's home and
# target directory inside $(BUILD), so nothing is written to ~/.cargo or the source tree.
RUST_CARGO := $(BUILD)/examples/solver-rust-cargo
$(BUILD)/examples/solver-rust.so: examples/solver-rust/Cargo.toml examples/solver-rust/Cargo.lock \
                                  $(wildcard examples/solver-rust/src/*.rs)
	@mkdir -p $(dir $@)
	RUSTC=$(RUSTC) CARGO_HOME=$(abspath $(RUST_CARGO))/home RUSTFLAGS="-D warnings" \
	    $(CARGO) build --offline --locked --release \
	    --manifest-path examples/solver-rust/Cargo.toml --target-dir $(RUST_CARGO)/target
	cp $(RUST_CARGO)/target/release/libsaebench_solver_rust.so $@

# The Rust example's #[repr(C)] structs against the header, field by field: its cargo test,
# given the offsets and sizes tests/plugins/abi_layout.c prints. Part of test-plugin where
# cargo is.
RUST_LAYOUT := $(if $(CARGO),$(BUILD)/examples/solver-rust-layout.ok)
$(BUILD)/examples/solver-rust-layout.ok: tests/plugins/abi_layout.c include/saebench/solver.h \
                                         examples/solver-rust/Cargo.toml examples/solver-rust/Cargo.lock \
                                         $(wildcard examples/solver-rust/src/*.rs)
	@mkdir -p $(dir $@) $(BUILD)/tests/plugins
	$(CC) $(OPT) -std=c11 -Wall -Wextra -Werror -Iinclude -o $(BUILD)/tests/plugins/abi_layout $<
	$(BUILD)/tests/plugins/abi_layout >$(BUILD)/examples/abi-layout.txt
	SAEBENCH_ABI_LAYOUT=$(abspath $(BUILD)/examples/abi-layout.txt) RUSTC=$(RUSTC) \
	    CARGO_HOME=$(abspath $(RUST_CARGO))/home RUSTFLAGS="-D warnings" \
	    $(CARGO) test --offline --locked --release --manifest-path examples/solver-rust/Cargo.toml \
	    --target-dir $(RUST_CARGO)/target -- --nocapture >$@.tmp 2>&1 || { cat $@.tmp; exit 1; }
	@grep "^layout: .* fields at the C header's offsets and sizes" $@.tmp
	@mv $@.tmp $@

# tests/plugins/test_plugin.c, one library per misbehaviour (TP_<MODE> in the source).
TEST_PLUGIN_MODES := wrong error segv hang exit abi nosym newer device-only print claims-device load-crash \
                     bad-telemetry bad-name old-desc
TEST_PLUGINS := $(TEST_PLUGIN_MODES:%=$(BUILD)/tests/plugins/tp-%.so)
$(BUILD)/tests/plugins/tp-%.so: tests/plugins/test_plugin.c include/saebench/solver.h
	@mkdir -p $(dir $@)
	$(CC) $(PLUGIN_CFLAGS) -DTP_MODE=TP_$(shell echo '$*' | tr 'a-z-' 'A-Z_') -o $@ $< $(PLUGIN_LDLIBS)

# Tests -------------------------------------------------------------------
# tests/unit: cmocka programs against libsaebench.a.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) -lcmocka $(LDLIBS)

# tests/sim: the CUDA kernels' source run on the CPU (one OS thread or fiber per
# CUDA thread, barriers for __syncthreads, the blocks of a grid concurrent and
# started in several orders: tests/sim/sim_cuda.h) against LAPACKE. Needs no GPU
# and no nvcc. One rule for all; the kernel headers each includes are tracked
# through -MMD. sim_encode also uses the library (the host fast path and the
# reference it is checked against).
SIM_BIN := $(patsubst tests/sim/%.cpp,$(BUILD)/tests/%,$(wildcard tests/sim/sim_*.cpp))
SIM_CXXFLAGS := -std=c++20 -O2 -pthread -Wall -Wextra -Werror -Wno-unknown-pragmas -MMD -MP -Icuda -Isrc $(PREFIX_INC) $(SAN)

$(BUILD)/tests/sim_%: tests/sim/sim_%.cpp $(LIB)
	@mkdir -p $(dir $@)
	$(CXX) $(SIM_CXXFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# tests/gpu: programs that call the CUDA backend directly; they run only on a GPU
# (make test-gpu), and a CUDA build compiles and links them in make test.
GPU_TEST_BIN := $(patsubst tests/gpu/%.c,$(BUILD)/tests/gpu/%,$(wildcard tests/gpu/*.c))

$(BUILD)/tests/gpu/%: tests/gpu/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Icuda -I$(CUDA_HOME)/include -o $@ $< $(LIB) $(LDLIBS)

deps:
	@./scripts/install-deps.sh

demo:
	@./scripts/install-deps.sh --build
	@$(MAKE) --no-print-directory saebench
	./saebench resident-solve --shape sae-2k-2048 --backend host --out demo-verdict.json
	@echo "verdict written to demo-verdict.json"

# make test: each part's name and elapsed seconds, then the total (tests/lib/parts.sh).
TEST_PARTS := build test-unit test-sim test-standin-lib test-standin test-battery-dryrun test-cli test-plugin test-safety test-report test-multiplex test-ab fuzz-regressions $(if $(filter 1,$(CUDA)),test-gpu-build)
test: deps
	@tests/lib/parts.sh "$(MAKE) --no-print-directory" $(TEST_PARTS)

.PHONY: build test-sim
build: saebench $(FAKE_BIN) $(UNIT_BIN) $(SIM_BIN) $(EXAMPLE_PLUGINS) $(TEST_PLUGINS)

test-unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

test-sim: $(SIM_BIN)
	@set -e; for t in $(SIM_BIN); do echo "== $$t"; s=$$(date +%s); $$t; echo "   ($$t: $$(( $$(date +%s) - s )) s)"; done

test-cli: saebench $(FAKE_BIN)
	@tests/cli/run-cli-tests.sh ./saebench $(FAKE_BIN)

# --backend plugin: the example plugins (the CUDA one on the CPU stand-in: its prerequisite
# is added in tests/standin/standin-build.mk) and the misbehaving ones of tests/plugins/
test-plugin: saebench $(EXAMPLE_PLUGINS) $(TEST_PLUGINS) $(RUST_LAYOUT)
	@SB_RUST_EXAMPLE='$(RUST_EXAMPLE)' tests/cli/run-plugin-tests.sh ./saebench $(BUILD) $(STANDIN_SB_CUDA_PLUGIN)

# outputs that are nodes, links or inputs; FIFOs as inputs and outputs (docs/safety.md)
.PHONY: test-safety
test-safety: saebench
	@tests/cli/run-safety-tests.sh ./saebench
	@tests/cli/run-script-safety-tests.sh ./saebench

# multiplex through the CLI on the tiny matrices, and every refusal before work
test-multiplex: saebench
	@tests/multiplex/run-multiplex-tests.sh ./saebench

# report and compare on the verdict fixtures of tests/report/ (--html needs gnuplot-nox)
test-report: saebench
	@tests/report/run-report-tests.sh ./saebench

test-ab: saebench
	@tests/cli/run-ab-tests.sh ./saebench

# Sweeps and the dashboard for real: a one-node Slurm started here (installs slurmctld,
# slurmd, slurm-client, munge; needs root, else skips), and the --html dashboard in
# headless Chromium (installs chromium; skips when it cannot). docs/example-report/ from
# host verdicts of plans/example.plan, written to results/host-2cpu/<UTC date>/.
.PHONY: test-slurm test-dashboard example-report
test-slurm: deps saebench
	@tests/slurm/run-slurm-test.sh ./saebench

test-dashboard: deps saebench
	@tests/report/run-dashboard-test.sh ./saebench

example-report: deps saebench
	@set -e; run=results/host-2cpu/$$(date -u +%Y-%m-%dT%H-%M-%S); \
	scripts/sweep.sh plans/example.plan --out "$$run" --no-html; \
	sets=; for d in results/*/; do d=$${d%/}; [ "$$d" = results/sweeps ] || sets="$$sets $$d"; done; \
	rm -rf docs/example-report; mkdir -p docs/example-report; \
	./saebench report $$sets --html docs/example-report --out docs/example-report/report.txt; \
	rm -f docs/example-report/gnuplot.log; \
	echo "docs/example-report/ from:$$sets"

# Sanitizers: a separate build tree, host-only (the CUDA runtime and ASan disagree).
test-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan CUDA=0 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    OPT="-O1 -g" saebench-asan
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(MAKE) --no-print-directory BUILD=build-asan CUDA=0 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    OPT="-O1 -g" test-unit test-sim
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    tests/cli/run-cli-tests.sh ./build-asan/saebench ./build-asan/saebench-fake
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    tests/multiplex/run-multiplex-tests.sh ./build-asan/saebench
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    tests/cli/run-ab-tests.sh ./build-asan/saebench
	@$(MAKE) --no-print-directory STANDIN_BUILD=build-asan/standin SAN="-fsanitize=address,undefined" test-standin-lib

saebench-asan: $(BUILD)/src/main.o $(LIB) $(UNIT_BIN) $(SIM_BIN) $(FAKE_BIN)
	$(CC) -o $(BUILD)/saebench $(BUILD)/src/main.o $(LIB) $(LDLIBS)

test-gpu: saebench $(GPU_TEST_BIN)
	@BUILD=$(BUILD) tests/gpu/run-gpu-tests.sh ./saebench

# The GPU test programs compiled and linked (no GPU needed), so a lent GPU's
# time is never spent on a build error: part of `make test` in a CUDA build.
.PHONY: test-gpu-build
test-gpu-build: $(GPU_TEST_BIN)
	@echo "built: $(GPU_TEST_BIN)"

bench-host: saebench
	@scripts/bench-host-vs-numpy.sh ./saebench

clean:
	rm -rf build build-asan build-fuzz saebench demo-verdict.json

# libFuzzer harnesses of every reader of user files: make fuzz [FUZZ_SECONDS=N],
# make fuzz-regressions (replays tests/fuzz/regressions/, part of make test).
include tests/fuzz/fuzz.mk

# The test-only CPU stand-in for the CUDA runtime, cuBLAS and cuSOLVER, and its
# tests against LAPACKE (tests/standin/README.md); never linked into ./saebench.
include tests/standin/standin.mk
# The stand-in build of saebench (cuda/*.cu with g++ against it) and its battery.
include tests/standin/standin-build.mk

-include $(OBJ:.o=.d) $(BUILD)/src/main.d $(BUILD)/tests/fake/fake_device.d $(BACKEND_OBJ:.o=.d) $(SIM_BIN:=.d) $(UNIT_BIN:=.d) $(GPU_TEST_BIN:=.d)

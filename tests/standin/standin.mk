# The CPU stand-in for the CUDA runtime, cuBLAS and cuSOLVER (TEST-ONLY; see
# tests/standin/README.md). Meant to be included by the top Makefile; also runs
# alone:  make -f tests/standin/standin.mk test-standin-lib [SAN="-fsanitize=address,undefined"]
#   standin-lib        build/standin/libstandin.a
#   test-standin-lib   its cmocka tests (build/standin/test_standin)
# Every variable here starts with STANDIN_ so that including it changes nothing
# else; SAN (sanitizer flags) is shared with the top Makefile. A change of SAN or
# of the flags rebuilds the library (build/standin/.flags).

STANDIN_SAVED_GOAL := $(.DEFAULT_GOAL)
STANDIN_DIR     := tests/standin
STANDIN_BUILD   := build/standin
STANDIN_LIB     := $(STANDIN_BUILD)/libstandin.a
STANDIN_TEST    := $(STANDIN_BUILD)/test_standin
SAN             ?=
STANDIN_CXX     ?= $(if $(filter default,$(origin CXX)),g++,$(CXX))
STANDIN_CC      ?= $(if $(filter default,$(origin CC)),gcc,$(CC))
STANDIN_OPT     ?= -O1 -g
STANDIN_INC     := -I$(STANDIN_DIR)/include
STANDIN_SANFLAGS := $(SAN)$(if $(SAN), -fno-omit-frame-pointer)
# -fPIC: the library also goes into a shared object (the stand-in build of the
# CUDA example plugin, examples/solver-cuda/), not only into executables.
STANDIN_CXXFLAGS := -std=c++20 $(STANDIN_OPT) -fPIC -Wall -Wextra -Werror -pthread -MMD -MP $(STANDIN_INC) $(STANDIN_SANFLAGS)
STANDIN_CFLAGS  := -std=c11 -D_GNU_SOURCE $(STANDIN_OPT) -Wall -Wextra -Werror -MMD -MP $(STANDIN_INC) $(STANDIN_SANFLAGS)
STANDIN_LDLIBS  := -llapacke -lopenblas -lcmocka -pthread -lm $(STANDIN_SANFLAGS)

STANDIN_SRC     := $(wildcard $(STANDIN_DIR)/standin_*.cpp)
STANDIN_OBJ     := $(STANDIN_SRC:$(STANDIN_DIR)/%.cpp=$(STANDIN_BUILD)/%.o)
STANDIN_FLAGS_STAMP := $(STANDIN_BUILD)/.flags
STANDIN_FLAGS_NOW := $(STANDIN_CXX) $(STANDIN_CXXFLAGS) | $(STANDIN_CC) $(STANDIN_CFLAGS)
$(shell mkdir -p $(STANDIN_BUILD); [ "$$(cat $(STANDIN_FLAGS_STAMP) 2>/dev/null)" = "$(STANDIN_FLAGS_NOW)" ] || echo "$(STANDIN_FLAGS_NOW)" > $(STANDIN_FLAGS_STAMP))

.PHONY: standin-lib test-standin-lib
standin-lib: $(STANDIN_LIB)

$(STANDIN_LIB): $(STANDIN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(STANDIN_BUILD)/%.o: $(STANDIN_DIR)/%.cpp $(STANDIN_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(STANDIN_CXX) $(STANDIN_CXXFLAGS) -c $< -o $@

$(STANDIN_BUILD)/test_standin.o: $(STANDIN_DIR)/test_standin.c $(STANDIN_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(STANDIN_CC) $(STANDIN_CFLAGS) -c $< -o $@

$(STANDIN_TEST): $(STANDIN_BUILD)/test_standin.o $(STANDIN_BUILD)/test_standin_cxx.o $(STANDIN_LIB)
	$(STANDIN_CXX) -o $@ $(STANDIN_BUILD)/test_standin.o $(STANDIN_BUILD)/test_standin_cxx.o $(STANDIN_LIB) $(STANDIN_LDLIBS)

# One OpenBLAS thread: the matrices are tiny and the machine is shared.
test-standin-lib: $(STANDIN_TEST)
	@echo "== $(STANDIN_TEST)"
	@OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1} \
	    UBSAN_OPTIONS=$${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} $(STANDIN_TEST)

-include $(STANDIN_OBJ:.o=.d) $(STANDIN_BUILD)/test_standin.d $(STANDIN_BUILD)/test_standin_cxx.d

# Included after the top Makefile's first target, this fragment leaves that
# target the default; run alone, standin-lib is.
ifneq ($(STANDIN_SAVED_GOAL),)
.DEFAULT_GOAL := $(STANDIN_SAVED_GOAL)
endif

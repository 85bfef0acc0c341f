# libFuzzer harnesses for every reader of untrusted input (a makefile fragment).
#
#   make fuzz                      build the harnesses, fuzz each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=600     longer run (the corpus in build-fuzz/corpus/ grows across runs)
#   make fuzz-regressions          replay every saved crash input once; passes when none crash
#   make fuzz-clean                remove build-fuzz/
#
# Harnesses (tests/fuzz/fuzz_<name>.c; inputs that crashed go to tests/fuzz/regressions/<name>/):
#   npy          sb_npy_read               (--x/--w/--rhs .npy files)
#   shape        sb_shape_parse            (shapes/*.json, --shape FILE.json)
#   calibration  sb_calibration_load, sb_ceilings_for   (--calibration FILE)
#   verdict      sb_vrec_read, the compare rule on it  (report and compare: verdict files)
#
# Included by the top-level Makefile; also works alone:
#   make -f tests/fuzz/fuzz.mk fuzz
# The project's sources are compiled again by clang with coverage and ASan/UBSan/LSan into
# build-fuzz/ (never build/), host-only: src/cuda_stub.c stands in for the CUDA backend,
# exactly as in a CUDA=0 build. Needs clang and its libFuzzer runtime (Debian:
# clang, libclang-rt-<version>-dev) and python3 for the seed inputs. The verdict seeds are
# the fixtures of tests/report/fixtures/.

# The top-level Makefile's default goal must stay its own, wherever this is included.
FUZZ_SAVED_GOAL := $(.DEFAULT_GOAL)

FUZZ_DIR      := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_BUILD    ?= build-fuzz
# Per-input limit: anything slower than this is reported (and saved) as a hang.
FUZZ_TIMEOUT  ?= 10
# Extra libFuzzer flags, e.g. FUZZ_FLAGS=-only_ascii=1
FUZZ_FLAGS    ?=
FUZZ_HARNESSES := npy shape calibration verdict

FUZZ_PREFIX_INC := $(if $(SB_PREFIX),-I$(SB_PREFIX)/usr/include -I$(SB_PREFIX)/usr/include/x86_64-linux-gnu)
FUZZ_PREFIX_LIB := $(if $(SB_PREFIX),$(foreach d,$(SB_PREFIX)/usr/lib/x86_64-linux-gnu $(SB_PREFIX)/usr/lib/x86_64-linux-gnu/openblas-pthread,-L$(d) -Wl,-rpath,$(abspath $(d))))

# UBSan findings abort (and so become crash inputs) instead of printing and going on.
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# Project sources: warnings shown but not fatal here (the gcc build owns -Werror, and a
# clang-only warning must not stop a fuzzing run); the harnesses themselves use -Werror.
# No -fopenmp: the readers are serial, and one thread keeps every finding reproducible, so
# the project's '#pragma omp' loops compile as plain loops (and their warning is silenced).
FUZZ_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unknown-pragmas -Wno-source-uses-openmp \
               -Isrc $(FUZZ_PREFIX_INC) $(FUZZ_SAN) -MMD -MP
FUZZ_LDLIBS := $(FUZZ_PREFIX_LIB) -lopenblas -llapacke -lcjson -lm

# The same source set as the main Makefile's CUDA=0 build: everything but main.c, plus the stub.
FUZZ_SRC := $(filter-out src/main.c src/cuda_stub.c,$(wildcard src/*.c src/host/*.c src/oracle/*.c)) src/cuda_stub.c
FUZZ_OBJ := $(FUZZ_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB := $(FUZZ_BUILD)/libsaebench-fuzz.a
FUZZ_BIN := $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_STAMP := $(FUZZ_BUILD)/.flags

fuzz_dict_npy         := $(FUZZ_DIR)/npy.dict
fuzz_dict_shape       := $(FUZZ_DIR)/json.dict
fuzz_dict_calibration := $(FUZZ_DIR)/json.dict
fuzz_dict_verdict     := $(FUZZ_DIR)/verdict.dict

.PHONY: fuzz fuzz-build fuzz-regressions fuzz-runtime fuzz-seeds fuzz-clean FUZZ_FORCE

fuzz: fuzz-build fuzz-seeds
	@set -u; failed=""; \
	for h in $(FUZZ_HARNESSES); do \
	    case $$h in npy) dict=$(fuzz_dict_npy);; verdict) dict=$(fuzz_dict_verdict);; *) dict=$(fuzz_dict_shape);; esac; \
	    art=$(FUZZ_DIR)/regressions/$$h; log=$(FUZZ_BUILD)/logs/$$h.log; \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$h $$art $(FUZZ_BUILD)/logs; \
	    echo "fuzz: $$h for $(FUZZ_SECONDS) s (log $$log)"; \
	    if UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	        $(FUZZ_BUILD)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	            -artifact_prefix=$$art/ -dict=$$dict -print_final_stats=1 $(FUZZ_FLAGS) \
	            $(FUZZ_BUILD)/corpus/$$h $(FUZZ_BUILD)/seed-corpus/$$h >$$log 2>&1; then \
	        execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -n 1); \
	        corpus=$$(ls $(FUZZ_BUILD)/corpus/$$h | wc -l); \
	        echo "fuzz: $$h ok: $${execs:-?} executions, corpus $$corpus inputs, no crash"; \
	    else \
	        tail -n 60 $$log; \
	        echo "fuzz: $$h FAILED; the input that failed is in $$art/ (replay: $(FUZZ_BUILD)/fuzz_$$h FILE)"; \
	        failed="$$failed $$h"; \
	    fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failing harnesses:$$failed" >&2; exit 1; fi

# Replaying nothing builds nothing: the clang build is needed only when an input is saved.
FUZZ_SAVED := $(wildcard $(foreach h,$(FUZZ_HARNESSES),$(FUZZ_DIR)/regressions/$(h)/*))
fuzz-regressions: $(if $(FUZZ_SAVED),fuzz-build)
	@set -u; failed=0; \
	for h in $(FUZZ_HARNESSES); do \
	    n=0; \
	    for f in $(FUZZ_DIR)/regressions/$$h/*; do \
	        [ -f "$$f" ] || continue; n=$$((n + 1)); \
	        if ! UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	            $(FUZZ_BUILD)/fuzz_$$h -timeout=$(FUZZ_TIMEOUT) "$$f" >$(FUZZ_BUILD)/regression.log 2>&1; then \
	            tail -n 40 $(FUZZ_BUILD)/regression.log; \
	            echo "fuzz-regressions: $$h: $$f FAILS"; failed=$$((failed + 1)); \
	        fi; \
	    done; \
	    echo "fuzz-regressions: $$h: $$n saved input(s) replayed"; \
	done; \
	if [ $$failed -ne 0 ]; then echo "fuzz-regressions: $$failed input(s) still fail" >&2; exit 1; fi

fuzz-build: $(FUZZ_BIN)

# One line naming what to install, instead of a wall of linker errors.
fuzz-runtime:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
	    echo "fuzz: $(FUZZ_CC) not found: install the Debian packages clang and libclang-rt-14-dev (or set FUZZ_CC)" >&2; exit 1; }
	@mkdir -p $(FUZZ_BUILD); printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
	    > $(FUZZ_BUILD)/probe.c; \
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(FUZZ_BUILD)/probe.c -o $(FUZZ_BUILD)/probe >$(FUZZ_BUILD)/probe.log 2>&1 || { \
	    if ! $(FUZZ_CC) --version 2>/dev/null | grep -q clang; then \
	        echo "fuzz: FUZZ_CC=$(FUZZ_CC) is not clang; libFuzzer needs clang (Debian packages clang and libclang-rt-14-dev)" >&2; exit 1; fi; \
	    v=$$($(FUZZ_CC) -dumpversion 2>/dev/null | cut -d. -f1); \
	    echo "fuzz: $(FUZZ_CC) cannot link -fsanitize=fuzzer,address,undefined: install the Debian package libclang-rt-$${v:-14}-dev (libFuzzer and sanitizer runtimes; see $(FUZZ_BUILD)/probe.log)" >&2; exit 1; }
	@rm -f $(FUZZ_BUILD)/probe $(FUZZ_BUILD)/probe.c $(FUZZ_BUILD)/probe.log
	@[ -f $(FUZZ_BUILD)/.gitignore ] || echo '*' > $(FUZZ_BUILD)/.gitignore

# The seed inputs ($(FUZZ_BUILD)/seed-corpus/) are rebuilt every run (cheap); the corpus
# beside them ($(FUZZ_BUILD)/corpus/) keeps what the fuzzer found.
fuzz-seeds: fuzz-runtime
	@rm -rf $(FUZZ_BUILD)/seed-corpus # made below from the repo's files, inside the fuzz build folder
	@python3 $(FUZZ_DIR)/make_seeds.py $(FUZZ_BUILD)/seed-corpus
	@mkdir -p $(FUZZ_BUILD)/seed-corpus/shape
	@cp shapes/*.json $(FUZZ_BUILD)/seed-corpus/shape/
	@cp shapes/*.json $(FUZZ_BUILD)/seed-corpus/calibration/
	@mkdir -p $(FUZZ_BUILD)/seed-corpus/verdict
	@for f in $$(find $(FUZZ_DIR)/../report/fixtures -type f | sort); do \
	    cp "$$f" $(FUZZ_BUILD)/seed-corpus/verdict/$$(echo "$${f#$(FUZZ_DIR)/../report/fixtures/}" | tr / _); done

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/fuzz_input.h $(FUZZ_LIB) $(FUZZ_STAMP)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(FUZZ_LDLIBS)

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Coverage instrumentation for the library code; the fuzzer's main() comes with the harness.
$(FUZZ_BUILD)/obj/%.o: %.c $(FUZZ_STAMP) | fuzz-runtime
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# Rewritten only when the compiler or flags change, so a change rebuilds everything once.
$(FUZZ_STAMP): FUZZ_FORCE
	@mkdir -p $(dir $@)
	@want='$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LDLIBS)'; \
	[ "$$(cat $@ 2>/dev/null)" = "$$want" ] || echo "$$want" > $@

fuzz-clean:
	rm -rf $(FUZZ_BUILD) # make fuzz-clean: the fuzz build folder this makefile creates

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:%=%.d)

# Alone (make -f tests/fuzz/fuzz.mk) the default is fuzz; included, the includer's stays.
ifeq ($(FUZZ_SAVED_GOAL)$(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST)),)
.DEFAULT_GOAL := fuzz
else
.DEFAULT_GOAL := $(FUZZ_SAVED_GOAL)
endif

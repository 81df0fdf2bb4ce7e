# fuzz/fuzz.mk - fuzzing the pure parsers; included by the Makefile, run
# from the top directory. fuzz/README.md is the guide.
#
#   make fuzz           libFuzzer harnesses (clang, ASan+UBSan) in build/fuzz/;
#                       h1 and h1_lean (fast, one cut) share a corpus
#   make fuzz-run       run each for FUZZ_SECONDS (60), one after the other;
#                       FUZZ_TARGETS="h1 url" picks some. New inputs go to
#                       build/fuzz/corpus-<h>/, crashes to
#                       build/fuzz/artifacts-<h>/; fuzz/corpus/ is read only.
#   make fuzz-replay    replay drivers (CC + ASan+UBSan, no libFuzzer) in
#                       build/fuzz-replay/, then fuzz/corpus/*/ through them
#   make fuzz-afl       AFL++ builds in build/fuzz-afl/ (afl-clang-fast)
#   make fuzz-cov       line coverage of each harness's modules by the
#                       corpora (llvm-cov)
#
# The replay drivers are in TEST_PREREQS, so `make test` builds them.

FUZZ_NAMES := h1 h1_lean jfield url decode
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_SECONDS ?= 60
FUZZ_CLANG ?= clang
AFL_CC ?= afl-clang-fast
LLVM_PROFDATA ?= $(firstword \
    $(shell command -v llvm-profdata llvm-profdata-14 2>/dev/null))
LLVM_COV ?= $(firstword $(shell command -v llvm-cov llvm-cov-14 2>/dev/null))

# The modules each harness links besides itself, the libraries it needs,
# and the sources fuzz-cov reports on (default: src/<h>.c).
fuzz_h1_MODS := h1
fuzz_h1_lean_MODS := h1
fuzz_h1_lean_COV := src/h1.c
# Comparison tracing costs the lean h1 harness more than half its time
# (measured: about 2.5 times the executions per second without it, and
# as much coverage in the same minute); http.dict gives the tokens it
# would find. fuzz_h1 keeps the tracing.
fuzz_h1_lean_LIBFUZZER_FLAGS := -fno-sanitize-coverage=trace-cmp
fuzz_jfield_MODS := jfield
fuzz_url_MODS := url
fuzz_decode_MODS := crc decode_common decode_zlib jfield
fuzz_decode_LIBS := $(ZLIB_LIBS)
fuzz_decode_COV := src/decode_zlib.c src/decode_common.c src/crc.c

# Whole-program builds (harness + module sources in one command), so no
# dependency files: the headers are listed by hand.
FUZZ_CFLAGS := $(filter-out -MMD -MP,$(BASE_CFLAGS)) -g -fno-omit-frame-pointer
FUZZ_OPT ?= -O2
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_HDRS := fuzz/fuzz.h fuzz/fuzz_h1.h $(wildcard include/*.h)

FUZZ_BINS := $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_REPLAY_BINS := $(patsubst %,build/fuzz-replay/fuzz_%,$(FUZZ_NAMES))
FUZZ_AFL_BINS := $(patsubst %,build/fuzz-afl/fuzz_%,$(FUZZ_NAMES))
FUZZ_COV_BINS := $(patsubst %,build/fuzz-cov/fuzz_%,$(FUZZ_NAMES))
# "h=src/a.c,src/b.c" for each harness with a fuzz_<h>_COV list.
fuzz_comma := ,
fuzz_space := $(subst ,, )
FUZZ_COV_MAP := $(foreach h,$(FUZZ_NAMES),$(if $(fuzz_$(h)_COV),\
    $(h)=$(subst $(fuzz_space),$(fuzz_comma),$(strip $(fuzz_$(h)_COV)))))

TEST_PREREQS += $(FUZZ_REPLAY_BINS)

.PHONY: fuzz fuzz-run fuzz-replay fuzz-afl fuzz-cov

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" \
		fuzz/ci-run

fuzz-replay: $(FUZZ_REPLAY_BINS)
	$(Q)fuzz/replay-all build/fuzz-replay

fuzz-afl:
	$(Q)if command -v $(AFL_CC) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(FUZZ_AFL_BINS); \
	else \
		echo "fuzz-afl: $(AFL_CC) not found (Debian: apt-get install afl++)"; \
	fi

# Coverage: replay each corpus (a crashing file is reported and skipped;
# the other children merge their profiles into one file, "%1m"), then
# one report per module over what its corpora reach.
fuzz-cov: $(FUZZ_COV_BINS)
	$(Q)test -n "$(LLVM_PROFDATA)" -a -n "$(LLVM_COV)" || \
		{ echo "fuzz-cov: llvm-profdata/llvm-cov not found"; exit 1; }
	$(Q)for h in $(FUZZ_NAMES); do \
		rm -f build/fuzz-cov/$$h-*.profraw; \
		dirs=fuzz/corpus/$$h; \
		case $$h in h1|h1_lean) dirs=$$(ls -d fuzz/corpus/h1*/);; esac; \
		test -d build/fuzz/corpus-$$h && dirs="$$dirs build/fuzz/corpus-$$h"; \
		echo "== $$h ($$dirs)"; \
		LLVM_PROFILE_FILE=build/fuzz-cov/$$h-%1m.profraw \
			build/fuzz-cov/fuzz_$$h $$dirs 2>&1 | grep -v '^fuzz/' ; \
		$(LLVM_PROFDATA) merge -o build/fuzz-cov/$$h.profdata \
			build/fuzz-cov/$$h-*.profraw || exit 1; \
		srcs=src/$$h.c; \
		for m in $(FUZZ_COV_MAP); do \
			test "$${m%%=*}" = "$$h" && srcs=$$(echo "$${m#*=}" | tr , ' '); \
		done; \
		$(LLVM_COV) report build/fuzz-cov/fuzz_$$h \
			-instr-profile=build/fuzz-cov/$$h.profdata $$srcs || exit 1; \
	done
	@echo "line by line: $(LLVM_COV) show build/fuzz-cov/fuzz_h1" \
		"-instr-profile=build/fuzz-cov/h1.profdata src/h1.c"

build/fuzz build/fuzz-replay build/fuzz-afl build/fuzz-cov:
	$(Q)mkdir -p $@

# One set of rules per harness: libFuzzer, replay (objects shared with the
# asan flavor), AFL++ (its libFuzzer-compatible driver), coverage.
define fuzz_rules
fuzz_$(1)_SRCS := fuzz/fuzz_$(1).c $$(patsubst %,src/%.c,$$(fuzz_$(1)_MODS))

build/fuzz/fuzz_$(1): $$(fuzz_$(1)_SRCS) $$(FUZZ_HDRS) | build/fuzz
	@$$(if $$(Q),echo "  FUZZ(libFuzzer) $$@")
	$$(Q)$$(FUZZ_CLANG) $$(FUZZ_CFLAGS) $$(FUZZ_OPT) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$$(fuzz_$(1)_LIBFUZZER_FLAGS) \
		$$(filter %.c,$$^) $$(fuzz_$(1)_LIBS) -o $$@

build/fuzz-replay/fuzz_$(1): build/fuzz-replay/fuzz_$(1).o \
		build/fuzz-replay/replay.o \
		$$(patsubst %,build/asan/%.o,$$(fuzz_$(1)_MODS))
	@$$(if $$(Q),echo "  LD(fuzz-replay) $$@")
	$$(Q)$$(CC) $$(asan_LDFLAGS) $$^ $$(fuzz_$(1)_LIBS) -o $$@

build/fuzz-afl/fuzz_$(1): $$(fuzz_$(1)_SRCS) $$(FUZZ_HDRS) | build/fuzz-afl
	@$$(if $$(Q),echo "  FUZZ(AFL++) $$@")
	$$(Q)AFL_QUIET=1 $$(AFL_CC) $$(FUZZ_CFLAGS) $$(FUZZ_OPT) \
		-fsanitize=fuzzer $$(FUZZ_SAN) $$(filter %.c,$$^) \
		$$(fuzz_$(1)_LIBS) -o $$@

build/fuzz-cov/fuzz_$(1): $$(fuzz_$(1)_SRCS) fuzz/replay.c $$(FUZZ_HDRS) \
		| build/fuzz-cov
	@$$(if $$(Q),echo "  FUZZ(coverage) $$@")
	$$(Q)$$(FUZZ_CLANG) $$(FUZZ_CFLAGS) -O1 -fprofile-instr-generate \
		-fcoverage-mapping $$(filter %.c,$$^) $$(fuzz_$(1)_LIBS) -o $$@
endef
$(foreach h,$(FUZZ_NAMES),$(eval $(call fuzz_rules,$(h))))

build/fuzz-replay/%.o: fuzz/%.c | build/fuzz-replay
	@$(if $(Q),echo "  CC(fuzz-replay) $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(asan_CFLAGS) -c $< -o $@

-include $(wildcard build/fuzz-replay/*.d)

# pokefetch - GNU make, one file.
#
#   make            build build/release/pokefetch (and ./pokefetch, a link)
#   make demo       the main job offline: local nginx + TLS, ids 1-150
#   make test       unit tests (plain and ASan+UBSan) and integration tests
#   make unit       unit tests only, plain build
#   make asan       pokefetch and unit tests with ASan+UBSan (= make ubsan)
#   make pokefetch-curl   the same program over libcurl's transport
#   make NO_ZLIB=1  build without zlib: no gzip/deflate bodies
#   make static     build/static/pokefetch: linked statically, stripped
#   make aarch64    build/aarch64/pokefetch: 64-bit Arm, cross-compiled,
#                   static; make test-aarch64 runs it under
#                   qemu-aarch64 against the lab (tests/aarch64)
#   make small      the size profile (-Os, LTO, --gc-sections, stripped):
#                   build/small/pokefetch and build/static-small/pokefetch
#                   (README "Minimal images")
#   make CA_BUNDLE=FILE  FILE (PEM) compiled in, the trust store used
#                   when no other holds a CA (any flavor: make static
#                   CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt)
#   make bench      bench/run (see bench/README.md)
#   make bench-decode   bench/inflate-extract: decoder, extractor, CRC-32
#   make build/bench/bench_jfield   the extractor against jsmn
#   make soak       200 000 seeded runs of the pool over a simulated
#                   network (tests/test_pool), then 100 000 requests,
#                   256 connections, injected resets (tests/soak); make
#                   test runs shorter forms of both
#   make deps       install what is missing (apt-get as root on Debian)
#   make install    the binary `make` builds and its manual page (docs/
#                   pokefetch.1) under $(DESTDIR)$(PREFIX), PREFIX
#                   /usr/local by default; make uninstall removes them
#   make fmt / fmt-check / clean
#
# V=1 shows full command lines; WERROR=1 turns warnings into errors.

CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

OPENSSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
OPENSSL_LIBS := $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
# zlib is the one optional dependency (gzip/deflate bodies). The
# nozlib flavor links decode_none instead of decode_zlib, nothing else
# changes; NO_ZLIB=1 makes it the one `make` builds.
ZLIB_LIBS := $(shell $(PKG_CONFIG) --libs zlib 2>/dev/null || echo -lz)
ifeq ($(NO_ZLIB),1)
MAIN_FLAVOR := nozlib
else
MAIN_FLAVOR := release
endif
CURL_LIBS := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wformat=2 -Wvla -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif
BASE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
               -Iinclude $(WARN) -MMD -MP
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Modules in dependency order (see README "Source tour"). The pure ones
# build and test with no OpenSSL and no sockets. ca_bundle is made, not
# written: the CA bundle compiled in (CA_BUNDLE, below), or none.
PURE_MODULES := buf url origin h1 jfield decode_common esc timeline trace progress tlssess
IO_MODULES := loop net tlsio ca_bundle conn transport_h1 sched out jsonw har \
              statsjson waterfall observe cli
# The libcurl build: the same program with transport_curl in
# place of the hand-written transport and everything only it needs.
CURL_BUILD_MODULES := loop net tlsio ca_bundle transport_curl sched out jsonw \
                      har statsjson waterfall observe cli
# CA_BUNDLE=FILE: FILE's PEM text compiled in by src/embed-ca (od and
# sed, no xxd), with its path, date and number of certificates for
# --version. A path without spaces; empty: no bundle.
CA_BUNDLE ?=
CA_BUNDLE_PATH := $(if $(CA_BUNDLE),$(abspath $(CA_BUNDLE)))
UNIT_TESTS := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c)) test_jfield_nosimd

# Flavors: release (plain), asan (ASan+UBSan), nozlib (plain, no zlib).
# Objects in build/<flavor>; each names its decoder (with zlib, also the
# CRC-32 it checks gzip with) and its zlib flags.
release_CFLAGS := $(CFLAGS)
release_LDFLAGS := $(LDFLAGS)
release_DECODER := decode_zlib crc
release_ZLIB := $(ZLIB_LIBS)
asan_CFLAGS := -O1 -g $(SAN_FLAGS)
asan_LDFLAGS := $(SAN_FLAGS)
asan_DECODER := decode_zlib crc
asan_ZLIB := $(ZLIB_LIBS)
nozlib_CFLAGS := $(CFLAGS)
nozlib_LDFLAGS := $(LDFLAGS)
nozlib_DECODER := decode_none
nozlib_ZLIB :=
# The size profile: unused functions and data dropped at link time.
small_CFLAGS := -Os -flto -ffunction-sections -fdata-sections
small_LDFLAGS := $(small_CFLAGS) -flto=auto -Wl,--gc-sections -s $(LDFLAGS)
small_DECODER := decode_zlib crc
small_ZLIB := $(ZLIB_LIBS)

# A source file into an object; $(1) is the flavor, $(2) the linkage that
# --version reports (cli.c prints POKEFETCH_LINKAGE).
compile_src = $(CC) $(BASE_CFLAGS) $($(1)_CFLAGS) $(OPENSSL_CFLAGS) \
	$(CURL_CFLAGS) -DPOKEFETCH_LINKAGE='"$(2)"' -c $< -o $@

.PHONY: all test unit asan ubsan demo soak bench bench-decode deps fmt fmt-check clean pokefetch-curl \
	static static-curl small aarch64 test-aarch64 install uninstall
all: build/$(MAIN_FLAVOR)/pokefetch
	$(Q)ln -sf build/$(MAIN_FLAVOR)/pokefetch pokefetch

pokefetch-curl: build/release/pokefetch-curl
	$(Q)ln -sf build/release/pokefetch-curl pokefetch-curl

define variant_rules
build/$(1)/%.o: src/%.c | build/$(1)
	@$$(if $$(Q),echo "  CC($(1)) $$<")
	$$(Q)$$(call compile_src,$(1),dynamic)

build/$(1)/tests/%.o: tests/%.c | build/$(1)/tests
	@$$(if $$(Q),echo "  CC($(1)) $$<")
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$($(1)_CFLAGS) -Itests -c $$< -o $$@

build/$(1)/pokefetch: $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER) $(IO_MODULES) main)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(OPENSSL_LIBS) $$($(1)_ZLIB) -o $$@

build/$(1)/pokefetch-curl: $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER) $(CURL_BUILD_MODULES) main)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(CURL_LIBS) $$(OPENSSL_LIBS) $$($(1)_ZLIB) -o $$@

# Unit tests link zlib in every flavor: test_decode makes its fixtures
# with it.
build/$(1)/test_%: build/$(1)/tests/test_%.o $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER))
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(ZLIB_LIBS) -o $$@

# The scheduler and the hand-written transport over a simulated network
# (the test provides conn, loop, net and the TLS context itself).
build/$(1)/test_pool: build/$(1)/tests/test_pool.o $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER) transport_h1 sched)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(ZLIB_LIBS) -o $$@

# The HAR writer and --stats json, writing through out into files.
build/$(1)/test_har: build/$(1)/tests/test_har.o $(patsubst %,build/$(1)/%.o,timeline esc out jsonw har statsjson)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ -o $$@

# The waterfall over made-up runs (tests/tl_synth.c), written through out.
build/$(1)/test_waterfall: build/$(1)/tests/test_waterfall.o build/$(1)/tests/tl_synth.o $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) waterfall out)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ -o $$@

# The extractor's portable path (no SSE2), tested on every machine.
build/$(1)/test_jfield_nosimd: tests/test_jfield.c src/jfield.c src/buf.c \
		$(wildcard tests/*.h) include/jfield.h include/buf.h | build/$(1)
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$(filter-out -MMD -MP,$$(BASE_CFLAGS)) $$($(1)_CFLAGS) -DJF_NO_SIMD -Itests $$(filter %.c,$$^) $$($(1)_LDFLAGS) -o $$@

# The CA bundle's object, made again when CA_BUNDLE changes (see
# ca_bundle.c below). build/<flavor>/ca/ holds the same programs with
# another bundle, leaving the flavor's own as they are: the integration
# tests embed their lab CA with make build/release/ca/pokefetch
# CA_BUNDLE=FILE.
build/$(1)/ca_bundle.o build/$(1)/ca/ca_bundle.o: %/ca_bundle.o: %/ca_bundle.c
	@$$(if $$(Q),echo "  CC($(1)) $$<")
	$$(Q)$$(CC) $$(filter-out -MMD -MP,$$(BASE_CFLAGS)) $$($(1)_CFLAGS) -c $$< -o $$@

build/$(1)/ca/pokefetch: $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER) $(filter-out ca_bundle,$(IO_MODULES)) main) build/$(1)/ca/ca_bundle.o
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(OPENSSL_LIBS) $$($(1)_ZLIB) -o $$@

build/$(1)/ca/pokefetch-curl: $(patsubst %,build/$(1)/%.o,$(PURE_MODULES) $($(1)_DECODER) $(filter-out ca_bundle,$(CURL_BUILD_MODULES)) main) build/$(1)/ca/ca_bundle.o
	@$$(if $$(Q),echo "  LD($(1)) $$@")
	$$(Q)$$(CC) $$($(1)_LDFLAGS) $$^ $$(CURL_LIBS) $$(OPENSSL_LIBS) $$($(1)_ZLIB) -o $$@

build/$(1) build/$(1)/tests:
	$$(Q)mkdir -p $$@

-include $$(wildcard build/$(1)/*.d build/$(1)/tests/*.d)
endef
$(eval $(call variant_rules,release))
$(eval $(call variant_rules,asan))
$(eval $(call variant_rules,nozlib))
$(eval $(call variant_rules,small))

# Static flavors: flavor $(1) links flavor $(2)'s objects with -static and
# strips the result; only cli.o is its own, since --version names the
# linkage. So CI pays one compile and one link for it, not a whole flavor.
# glibc's libc.a warns at link time that getaddrinfo (ours),
# gethostbyname and dlopen (libcrypto's) need, at run time, the shared
# libraries of the glibc it was linked with: true for NSS modules other
# than files and dns (README "Minimal images" says which files the binary
# reads and what works without them), expected, so the LD line says so
# once instead; any other line the linker prints is shown as it is. (Each
# warning is two lines: "in function `f':" and the one naming the symbol.)
STATIC_LD_FILTER := awk '/: in function ./ { held = $$0; next } \
	/warning: Using .(getaddrinfo|gethostbyname|dlopen). in statically/ \
	{ held = ""; next } { if (held != "") print held; held = ""; print } \
	END { if (held != "") print held }'
STATIC_LIBS := $(shell $(PKG_CONFIG) --static --libs openssl zlib 2>/dev/null || \
	echo -lssl -lcrypto -ldl -pthread -lz)
define static_rules
build/$(1)/cli.o: src/cli.c | build/$(1)
	@$$(if $$(Q),echo "  CC($(1)) $$<")
	$$(Q)$$(call compile_src,$(2),static)

build/$(1)/pokefetch: $(patsubst %,build/$(2)/%.o,$(PURE_MODULES) $($(2)_DECODER) $(filter-out cli,$(IO_MODULES)) main) build/$(1)/cli.o
	@$$(if $$(Q),echo "  LD($(1)) $$@ (glibc's getaddrinfo/gethostbyname/dlopen warnings hidden: README \"Minimal images\")")
	$$(Q)$$(CC) $$($(2)_LDFLAGS) -static -s $$^ $$(STATIC_LIBS) -o $$@ 2>$$@.ld-log || \
		{ cat $$@.ld-log >&2; exit 1; }
	$$(Q)$$(STATIC_LD_FILTER) $$@.ld-log >&2

# The same with the CA bundle of CA_BUNDLE compiled in (flavor $(2)'s
# ca/ object), beside the one without: tests/emptyroot runs both.
build/$(1)/ca/pokefetch: $(patsubst %,build/$(2)/%.o,$(PURE_MODULES) $($(2)_DECODER) $(filter-out cli ca_bundle,$(IO_MODULES)) main) build/$(1)/cli.o build/$(2)/ca/ca_bundle.o
	@$$(if $$(Q),echo "  LD($(1)) $$@ (CA bundle $$(CA_BUNDLE_PATH))")
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$($(2)_LDFLAGS) -static -s $$^ $$(STATIC_LIBS) -o $$@ 2>$$@.ld-log || \
		{ cat $$@.ld-log >&2; exit 1; }
	$$(Q)$$(STATIC_LD_FILTER) $$@.ld-log >&2

build/$(1):
	$$(Q)mkdir -p $$@

-include $$(wildcard build/$(1)/*.d)
endef
$(eval $(call static_rules,static,release))
$(eval $(call static_rules,static-small,small))

static: build/static/pokefetch
small: build/small/pokefetch build/static-small/pokefetch

# 64-bit Arm: build/aarch64/pokefetch, cross-compiled with Debian's
# gcc-aarch64-linux-gnu and linked statically against the arm64 packages
# libssl-dev:arm64 and zlib1g-dev:arm64 (multiarch: dpkg
# --add-architecture arm64), which that gcc finds in
# /usr/include/aarch64-linux-gnu and /usr/lib/aarch64-linux-gnu by itself,
# as it does their glibc (libc6-dev:arm64).
# A flavor of its own, every object compiled for it: crc.c's PCLMULQDQ
# folds and jfield.c's SSE2 scan exist only on x86-64, so their portable
# twins (zlib's crc32_z, the scalar steps) are the ones compiled. Runs
# under qemu-aarch64 (tests/aarch64; README "Minimal images").
AARCH64_CC ?= aarch64-linux-gnu-gcc
AARCH64_OBJS := $(patsubst %,build/aarch64/%.o,$(PURE_MODULES) decode_zlib crc \
	$(IO_MODULES) main)
# Recursive: pkg-config runs only when this link does.
AARCH64_LIBS = $(shell PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig \
	$(PKG_CONFIG) --static --libs openssl zlib 2>/dev/null || \
	echo -lssl -lcrypto -ldl -pthread -lz)
aarch64: build/aarch64/pokefetch
# Its test alone (make test runs it too), with what it needs installed
# first; the native build for the comparison it prints.
test-aarch64:
	$(Q)tests/deps aarch64
	$(Q)$(MAKE) --no-print-directory build/aarch64/pokefetch build/release/pokefetch
	$(Q)tests/aarch64 build/aarch64/pokefetch

build/aarch64/%.o: src/%.c | build/aarch64
	@$(if $(Q),echo "  CC(aarch64) $<")
	$(Q)$(AARCH64_CC) $(BASE_CFLAGS) $(CFLAGS) -DPOKEFETCH_LINKAGE='"static"' -c $< -o $@

build/aarch64/ca_bundle.o: build/aarch64/ca_bundle.c
	@$(if $(Q),echo "  CC(aarch64) $<")
	$(Q)$(AARCH64_CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(CFLAGS) -c $< -o $@

build/aarch64/pokefetch: $(AARCH64_OBJS)
	@$(if $(Q),echo "  LD(aarch64) $@ (glibc's getaddrinfo/gethostbyname/dlopen warnings hidden: README \"Minimal images\")")
	$(Q)$(AARCH64_CC) -static -s $^ $(AARCH64_LIBS) -o $@ 2>$@.ld-log || \
		{ cat $@.ld-log >&2; exit 1; }
	$(Q)$(STATIC_LD_FILTER) $@.ld-log >&2

build/aarch64:
	$(Q)mkdir -p $@

-include $(wildcard build/aarch64/*.d)

# libcurl.a (libcurl4-openssl-dev) is there, but Debian 12 built it with
# GSS-API and LDAP (over GnuTLS), and libkrb5-dev and libp11-kit-dev ship
# no static archive (README "Minimal images").
static-curl:
	@echo "make static-curl: not possible with Debian 12's packages: libcurl.a" \
		"needs libgssapi_krb5, libkrb5, libk5crypto, libkrb5support" \
		"(libkrb5-dev) and libp11-kit (libp11-kit-dev, through libldap's" \
		"GnuTLS), which have no static archive" >&2; exit 1

.SECONDARY:

# The embedded bundle's source. ca_bundle.id holds the CA_BUNDLE it was
# made for and is rewritten only when that changes, so naming another
# file (or none) remakes it, as does a change of the file itself.
%/ca_bundle.c: %/ca_bundle.id src/embed-ca $(wildcard $(CA_BUNDLE_PATH))
	@$(if $(Q),echo "  GEN $@")
	$(Q)src/embed-ca $(CA_BUNDLE_PATH) >$@.tmp && mv $@.tmp $@

%/ca_bundle.id: FORCE
	@mkdir -p $(@D)
	@echo '$(CA_BUNDLE_PATH)' | cmp -s - $@ || echo '$(CA_BUNDLE_PATH)' >$@

.PHONY: FORCE
FORCE:

unit: $(patsubst %,build/release/%,$(UNIT_TESTS))
	$(Q)tests/run-unit build/release $(UNIT_TESTS)

asan: build/asan/pokefetch $(patsubst %,build/asan/%,$(UNIT_TESTS))
# One sanitizer build carries both: ASan and UBSan.
ubsan: asan

# Each entry point installs what it lacks first (see tests/deps); the
# sub-make then builds with the packages in place.
deps:
	$(Q)tests/deps build

demo:
	$(Q)tests/deps demo
	$(Q)$(MAKE) --no-print-directory all build/release/delayline
	$(Q)tests/lab/demo

# TEST_PREREQS: what tests/run-all needs built besides pokefetch and the
# unit tests; the included .mk files below add to it.
TEST_PREREQS :=
test:
	$(Q)tests/deps test
	$(Q)$(MAKE) --no-print-directory all asan pokefetch-curl \
		build/nozlib/pokefetch build/static/pokefetch build/aarch64/pokefetch \
		$(patsubst %,build/release/%,$(UNIT_TESTS)) $(TEST_PREREQS)
	$(Q)tests/run-all

soak:
	$(Q)tests/deps demo
	$(Q)$(MAKE) --no-print-directory all build/release/delayline \
		build/release/test_pool
	$(Q)POOL_SEED=5001 POOL_RUNS=200000 build/release/test_pool
	$(Q)SOAK_REQUESTS=100000 SOAK_CONNS=256 tests/soak

bench:
	$(Q)tests/deps bench
	$(Q)$(MAKE) --no-print-directory all pokefetch-curl build/release/delayline
	$(Q)bench/run

# The decoder's, the extractor's and each CRC-32 path's CPU on the lab's
# bodies (bench/README.md, "Inflate + extract CPU").
bench-decode:
	$(Q)bench/inflate-extract

# The extractor alone, against jsmn over whole bodies (bench/README.md).
build/bench/bench_jfield: bench/bench_jfield.c src/jfield.c include/jfield.h
	@mkdir -p build/bench
	$(Q)$(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(release_CFLAGS) $(filter %.c,$^) -o $@

# install: what `make` builds (INSTALL_BIN) and the manual page, as
# $(DESTDIR)$(PREFIX)/bin/pokefetch and .../share/man/man1/pokefetch.1;
# uninstall removes those two files and nothing else.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install
INSTALL_BIN ?= build/$(MAIN_FLAVOR)/pokefetch
install: $(INSTALL_BIN) docs/pokefetch.1
	$(INSTALL) -D -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/pokefetch
	$(INSTALL) -D -m 644 docs/pokefetch.1 $(DESTDIR)$(MANDIR)/man1/pokefetch.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pokefetch $(DESTDIR)$(MANDIR)/man1/pokefetch.1

fmt:
	clang-format -i src/*.c include/*.h tests/*.c tests/*.h

fmt-check:
	clang-format --dry-run --Werror src/*.c include/*.h tests/*.c tests/*.h

clean:
	rm -rf build pokefetch pokefetch-curl

# Parts kept beside the code they build (each documents its targets):
# fuzz/fuzz.mk (fuzz, fuzz-run, fuzz-replay), tests/lab/lab.mk (lab tools),
# tests/srv/srv.mk (the fault-injecting server), tests/waterfall.mk (the
# picture's sample maker and PNG checker).
-include fuzz/fuzz.mk
-include tests/lab/lab.mk
-include tests/srv/srv.mk
-include tests/waterfall.mk

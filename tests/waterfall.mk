# tests/waterfall.mk - tools of the waterfall's rendering test (included
# by the Makefile).
#
#   build/release/waterfall_sample   the SVG of a made-up run
#                                    (tests/waterfall_sample.c)
#   build/release/pngcheck           reads a PNG (zlib only) and says where
#                                    its coloured pixels are
#                                    (tests/pngcheck.c)
# tests/waterfall renders SVGs with headless Chromium and checks the
# pictures with these two.

build/release/waterfall_sample: build/release/tests/waterfall_sample.o \
		build/release/tests/tl_synth.o \
		$(patsubst %,build/release/%.o,$(PURE_MODULES) waterfall out)
	@$(if $(Q),echo "  LD(release) $@")
	$(Q)$(CC) $(release_LDFLAGS) $^ -o $@

build/release/pngcheck: tests/pngcheck.c | build/release
	@$(if $(Q),echo "  CC+LD(release) $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(release_CFLAGS) -MF build/release/pngcheck.d \
		$< $(release_LDFLAGS) $(ZLIB_LIBS) -o $@

TEST_PREREQS += build/release/waterfall_sample build/release/pngcheck

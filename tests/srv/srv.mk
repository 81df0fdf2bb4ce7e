# tests/srv/srv.mk - the fault-injecting test server (included by Makefile).
#
#   make build/release/faultsrv   tests/srv/faultsrv.c, plain flags
#   tests/srv/test-faultsrv       checks the server's scenarios with curl
#
# The server is a test tool, not part of pokefetch: one file, OpenSSL and
# zlib (its gzip/deflate scenarios), no module objects. It links zlib even
# with NO_ZLIB=1, as the unit tests do: a pokefetch built without zlib
# still needs compressed bodies thrown at it. It is built with the release
# flags; the integration tests that use it need it in TEST_PREREQS. Its
# dependency file lands in build/release/, where the Makefile already
# includes every *.d.

FAULTSRV_ZLIB_CFLAGS := $(shell $(PKG_CONFIG) --cflags zlib 2>/dev/null)

build/release/faultsrv: tests/srv/faultsrv.c | build/release
	@$(if $(Q),echo "  CC+LD(release) $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(release_CFLAGS) $(OPENSSL_CFLAGS) \
		$(FAULTSRV_ZLIB_CFLAGS) -MF build/release/faultsrv.d $< \
		$(release_LDFLAGS) $(OPENSSL_LIBS) $(ZLIB_LIBS) -o $@

TEST_PREREQS += build/release/faultsrv

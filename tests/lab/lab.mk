# tests/lab/lab.mk - lab tools, included by the Makefile.
#
#   build/release/delayline   latency emulator: a TCP relay on 127.0.0.1
#                             adding a one-way delay and a shared rate cap
#                             (tests/lab/delayline.c says what it models)
#   build/release/lab_probe   its measuring tool: echo/greet/sink servers,
#                             pingpong, blast, connect, pipe clients
# tests/lab/test-delayline checks the two; neither needs OpenSSL.

build/release/delayline: tests/lab/delayline.c | build/release
	@$(if $(Q),echo "  CC(release) $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(release_CFLAGS) $(release_LDFLAGS) $< -o $@

build/release/lab_probe: tests/lab/lab_probe.c | build/release
	@$(if $(Q),echo "  CC(release) $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(release_CFLAGS) $(release_LDFLAGS) $< -o $@

TEST_PREREQS += build/release/delayline build/release/lab_probe

/*
 * main - the entry point and nothing else: everything the program does is
 * reachable from cli_main(), which keeps argv handling testable and leaves
 * this file for process-wide settings.
 */
#include <signal.h>

#include "cli.h"

int
main(int argc, char **argv)
{
    /* A server that resets a TLS connection must not kill the process
       when OpenSSL writes to the dead socket; the write reports EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    return cli_main(argc, argv);
}

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
       when OpenSSL writes to the dead socket (its socket BIO uses write,
       not send with MSG_NOSIGNAL); the write reports EPIPE. cli raises
       SIGPIPE itself when stdout's reader goes away, as cat dies of it,
       unless it was ignored already when we started. */
    int ignored = signal(SIGPIPE, SIG_IGN) == SIG_IGN;

    return cli_main(argc, argv, ignored);
}

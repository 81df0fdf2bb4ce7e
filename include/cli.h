/*
 * cli - the command line: parses argv into a run, prints each result and
 * the closing summary, and turns the outcome into an exit status. It is
 * the only module that prints (main.c only calls it).
 *
 * Exit status: 0 every id fetched; 1 one or more ids failed (each named
 * on stderr with its reason) or the run could not start; 2 usage error.
 */
#ifndef POKEFETCH_CLI_H
#define POKEFETCH_CLI_H

#define POKEFETCH_VERSION "0.1.0"

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,
    CLI_EXIT_USAGE = 2,
};

/*
 * Run the program as argv asks; returns the exit status. sigpipe_ignored:
 * SIGPIPE was ignored when the process started (main.c ignores it from
 * then on, for sockets): a closed stdout is then a write error, not the
 * SIGPIPE that ends the process.
 */
int cli_main(int argc, char **argv, int sigpipe_ignored);

#endif

/*
 * cli - argv in, names out; see include/cli.h.
 *
 * Output formats (stdout, one line per successful id, in the order the
 * ids were given unless --order arrival):
 *   plain   the value
 *   tsv     id TAB value
 *   jsonl   {"id":25,"name":"pikachu"}  (the key is the --field name; a
 *           value that is not a string is its JSON text: {"id":25,"x":42})
 * A value that is not a string (a number, true, false, null, an object or
 * an array) is printed as its JSON text, objects and arrays compact.
 *
 * Escapes (include/esc.h): in plain and tsv a backslash is \\, TAB \t,
 * LF \n, CR \r, and each byte of a control character (C0, DEL, C1), of
 * U+2028/U+2029, of a bidirectional embedding, override or isolate
 * (U+202A-U+202E, U+2066-U+2069), or of ill-formed UTF-8 is \xHH. So one
 * value is one line, nothing in it drives the terminal, and printf '%b'
 * restores the bytes. jsonl uses JSON escapes, those characters as
 * \uXXXX. Every line on stderr is escaped the same way as plain, in
 * one place (err_line), so no message can carry a server's bytes raw:
 * Location, Content-Encoding, a reason phrase, the --field key.
 *
 * Output leaves through two fixed buffers (include/out.h), written once
 * per turn of the event loop (on_turn) and when full, never per line.
 * When stdout and stderr are the same file (a terminal, 2>&1), switching
 * from one to the other writes out the first, so lines stay in order;
 * two terminals count as one (cli_main says why).
 *
 * Progress: while a run goes, when stderr is a terminal (and TERM is not
 * "dumb"), stdout is not a pipe (prog says why) and not with -q, one line
 * on stderr says how far it has got (include/progress.h), redrawn in
 * place with a CR. Every other line written to that terminal first takes
 * it off (CR, ESC [K: stream) and it comes back at the end of the turn,
 * so no line ever has a piece of it; its numbers change at most 10 times
 * a second, on the turns that happen, with a turn at least that often
 * asked of sched so that a stalled run still shows its clock. Off a
 * terminal nothing of it is written, not even a CR.
 *
 * Failed ids go to stderr as "pokefetch: id N: reason", in the same order
 * as the names. A closed stdout (the reader went away: `| head -1`) ends
 * the run at the next write by SIGPIPE, as for cat: no more requests, no
 * message, status 141 in the shell; unless SIGPIPE was ignored when
 * pokefetch started, which makes it a write error like any other: a
 * message, the run stopped, exit status 1.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "esc.h"
#include "jfield.h"
#include "jsonw.h"
#include "loop.h"
#include "observe.h"
#include "out.h"
#include "progress.h"
#include "sched.h"
#include "tlsio.h"
#include "transport.h"
#include "url.h"

#define DEFAULT_URL "https://pokeapi.co/api/v2/pokemon/{id}"
#define DEFAULT_FIRST 1
#define DEFAULT_LAST 150
#define DEFAULT_CONNECTIONS 6
#define DEFAULT_PIPELINE 256
#define DEFAULT_RETRIES 3
#define DEFAULT_MAX_REDIRS 5
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define DEFAULT_IDLE_TIMEOUT_MS 30000
#define MAX_JOBS 10000000u /* 40 MB of ids; far beyond any real use */
/* Bodies here reach 665 KB; 64 MiB decoded is far beyond any real one and
   still stops a decompression bomb long before it matters. */
#define DEFAULT_MAX_BODY (64ull << 20)

enum format { FORMAT_PLAIN, FORMAT_TSV, FORMAT_JSONL };

struct cli {
    struct fetch_config o;
    enum format format;
    int quiet;
    int serial, c_given, p_given; /* while parsing argv */
    const char *keylog;           /* --keylog FILE, NULL: SSLKEYLOGFILE */
    const char *tls_sessions;     /* --tls-sessions FILE, or NULL */
    uint32_t *ids;
    size_t n_ids, cap_ids;
    struct observe_opts observe; /* -v, --trace, --har, --stats */
    int stats_fd;                /* --stats-file, opened before the run */
    int argc;                    /* the command line, for --waterfall's */
    char **argv;                 /* title (as getopt left it) */
    struct observe ob;
    size_t json_key_len; /* jsonl: ,"KEY": escaped once, in json_key */
    char json_key[ESC_JSON_MAX(JF_MAX_KEY) + 8];
    const struct fetch_stats *stats; /* the run's, for the progress line */
};

/*
 * The two streams, and what keeps their lines in order when they are one
 * file. Static: the only output of the process, used from argv parsing
 * to the summary.
 */
static struct {
    struct out out, err;
    struct out *last;    /* written to last */
    int same;            /* stdout and stderr are the same file */
    int sigpipe_ignored; /* as inherited: then EPIPE is an error */
    int said;            /* the stdout write error has been reported */
} io;

/*
 * The progress line, on stderr's terminal. When the names go to that
 * terminal too, the line stays below them, as cargo's or ninja's does:
 * each turn's lines are written above it (line off, the lines, line
 * back), so neither garbles the other. curl hides its meter when the
 * body goes to the terminal because a body is any bytes, with no line
 * ends to write the meter between; pokefetch writes whole lines of its
 * own, so it can keep both, as a wget user sees a bar whatever the
 * output. Not when stdout is a pipe, though: the program reading it
 * (grep, head, less) writes to the terminal at moments pokefetch cannot
 * know, and its lines would land on the progress line and stay there;
 * curl's meter does that to `curl URL | grep`, and `| less` would be
 * scribbled on ten times a second. Names to a file or to the terminal:
 * the line; to a pipe: nothing but the lines.
 */
static struct {
    struct progress p;
    int on;    /* drawn during this run */
    int shown; /* on the terminal now: the last thing written there */
} prog;

static const char usage_head[] =
    "Usage: pokefetch [OPTION]... [ID | FIRST-LAST]...\n"
    "Fetch https://pokeapi.co/api/v2/pokemon/{id} for each id (default "
    "1-150;\n"
    "ids 0..999999999, at most 10000000 in all) and print each response's\n"
    "top-level \"name\", one per line.\n"
    "\n"
    "  -u, --url TEMPLATE       URL with {id} in its path or query\n"
    "                           (default " DEFAULT_URL ")\n"
    "  -c, --connections N      connections at once (default 6)\n";
/* Then the -p and --http2 lines, from the transport this build has;
   then: */
static const char usage_tail[] =
    "      --serial             one connection, one request at a time\n"
    "      --no-keepalive       a new connection (and TLS handshake) per "
    "request\n"
    "  -f, --field KEY          top-level key to print (default name); a "
    "value\n"
    "                           that is not a string prints as JSON text\n"
    "      --cacert FILE        trust only the CAs in FILE\n"
    "  -k, --insecure           do not verify the server's certificate\n"
    "      --keylog FILE        append the TLS secrets to FILE (NSS key log "
    "format,\n"
    "                           for Wireshark; default: $SSLKEYLOGFILE)\n"
    "      --tls-sessions FILE  resume TLS sessions kept in FILE, and keep "
    "this\n"
    "                           run's there (mode 0600: they are secrets)\n"
    "      --early-data         send a resumed connection's first requests as "
    "TLS\n"
    "                           early data, before its handshake "
    "(replayable)\n"
    "      --order id|arrival   output in the ids' order (default) or as "
    "answered\n"
    "      --format plain|tsv|jsonl   output lines (default plain)\n"
    "      --connect-timeout S  seconds for one connect attempt, TCP + TLS "
    "(default 10)\n"
    "      --idle-timeout S     seconds without a byte on a busy "
    "connection (default 30)\n"
    "      --max-time S         seconds for the whole run (default: no "
    "limit)\n"
    "      --retries N          extra attempts for a request whose "
    "connection died,\n"
    "                           and for connecting to a host (0..100, "
    "default 3)\n"
    "      --compressed         ask for gzip/deflate and decode it "
    "(default, if built with zlib)\n"
    "      --no-compressed      ask for the body as it is\n"
    "      --max-body SIZE      largest body after decompression, e.g. "
    "64M (default)\n"
    "      --max-redirs N       redirects followed per id (0..50, default 5, "
    "0: none)\n"
    "      --allow-http-redirect  follow redirects from https to plain "
    "http\n"
    "  -q, --quiet              no summary and no progress line on "
    "stderr\n"
    "                           (the progress line shows only on a "
    "terminal)\n"
    "  -v, --verbose            say on stderr what happens: each connection, "
    "TLS\n"
    "                           handshake, request, response, retry, "
    "redirect, close\n"
    "      --trace FILE         -v and the HTTP heads themselves, into FILE "
    "(-: stderr)\n"
    "      --har FILE           every request as an HTTP Archive (HAR 1.2), "
    "timings\n"
    "                           split as browsers show them\n"
    "      --stats text|json    the summary as text (default) or one JSON "
    "object with\n"
    "                           latency percentiles of each phase\n"
    "      --stats-file FILE    the summary into FILE instead of stderr\n"
    "      --waterfall FILE.svg the run as a picture: a lane per connection, "
    "a bar\n"
    "                           per request split into its phases\n"
    "  -h, --help               this text\n"
    "  -V, --version            version, libraries and features\n"
    "\n"
    "Control characters, U+2028/9, bidi controls and bytes that are not "
    "UTF-8 are\n"
    "printed as \\xHH (jsonl: \\uXXXX), on stdout and stderr alike.\n"
    "Exit status: 0 all ids fetched; 1 some failed (each named on stderr), "
    "the run\n"
    "could not start, or stdout could not be written; 2 usage error. When "
    "the\n"
    "reader of stdout goes away, pokefetch ends by SIGPIPE (141), as cat "
    "does.\n"
    "SSL_CERT_FILE and SSL_CERT_DIR select the default trust store.\n";

/* Switch to o: with one file for both, the other one's bytes go
   first. */
static struct out *
switch_to(struct out *o)
{
    if (io.same && io.last && io.last != o)
        (void)out_flush(io.last);
    io.last = o;
    return o;
}

/* Take the progress line off the terminal: to the start of the line,
   and clear it. */
static void
progress_erase(void)
{
    out_put(switch_to(&io.err), "\r\033[K", 4);
    prog.shown = 0;
}

/* Start writing a line to o; a line for the progress line's terminal
   takes that off first (the end of the turn puts it back). */
static struct out *
stream(struct out *o)
{
    if (prog.shown && (o == &io.err || io.same))
        progress_erase();
    return switch_to(o);
}

/* Longest text one err_line escapes: far more than any message. */
#define LINE_TEXT_MAX ((OUT_CAP - 64) / 4)

/*
 * The one place a line reaches stderr: prefix (ours, ASCII) as it is,
 * text escaped as in plain output (esc_line), then a newline.
 */
static void
err_line(const char *prefix, size_t plen, const char *text, size_t n)
{
    /* The last short text and its escaped form: when a run ends early
       (--max-time, a fatal error), every id left fails with one reason,
       a million lines of it, and escaping it once saves a third of the
       time that takes. */
    static char last[256], last_esc[ESC_LINE_MAX(256)];
    static size_t last_n, last_esc_n;
    struct out *o = stream(&io.err);
    char *p;

    if (n > LINE_TEXT_MAX)
        n = LINE_TEXT_MAX;
    p = out_room(o, plen + ESC_LINE_MAX(n) + 1);
    memcpy(p, prefix, plen);
    if (n == last_n && n <= sizeof last && memcmp(text, last, n) == 0) {
        memcpy(p + plen, last_esc, last_esc_n);
        plen += last_esc_n;
    } else {
        size_t k = esc_line(p + plen, text, n);

        if (n <= sizeof last) {
            memcpy(last, text, n);
            memcpy(last_esc, p + plen, k);
            last_n = n;
            last_esc_n = k;
        }
        plen += k;
    }
    p[plen++] = '\n';
    out_commit(o, plen);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "pokefetch: " and the formatted message, through err_line. */
static void
say(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    err_line("pokefetch: ", 11, msg,
             (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

/* Text of ours, as it is (help, version, summary). */
static void
put_text(struct out *o, const char *s)
{
    out_put(stream(o), s, strlen(s));
}

/* The -p and --http2 lines say what this build's transport can do. */
static void
print_usage(void)
{
    unsigned max = transport_default->max_pipeline;
    char line[128];
    const char *http2 =
        transport_default->http2
            ? "      --http2              HTTP/2 if the server offers it "
              "(ALPN), every request\n"
              "                           multiplexed on as few connections "
              "as it allows\n"
            : "      --http2              not in this build: it speaks "
              "HTTP/1.1 only (the libcurl\n"
              "                           build has it)\n";

    if (max > 1)
        snprintf(
            line, sizeof line,
            "  -p, --pipeline DEPTH     requests in flight per connection "
            "(default %u)\n",
            DEFAULT_PIPELINE < max ? DEFAULT_PIPELINE : max);
    else
        snprintf(line, sizeof line,
                 "  -p, --pipeline 1         one request in flight per "
                 "connection (%s cannot pipeline)\n",
                 transport_default->name);
    put_text(&io.out, usage_head);
    put_text(&io.out, line);
    put_text(&io.out, http2);
    put_text(&io.out, usage_tail);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* -v's lines come here: the same escaping and order as every line on
   stderr. */
static void
trace_to_stderr(void *arg, const char *prefix, size_t plen, const char *text,
                size_t n)
{
    (void)arg;
    err_line(prefix, plen, text, n);
}

static int
usage_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say("%s", msg);
    put_text(&io.err, "Try 'pokefetch --help' for more information.\n");
    return CLI_EXIT_USAGE;
}

/* An option this build's transport cannot honour: a usage error that
   says what it runs with and what the option needs. */
static int
refuse(const char *option, const char *what)
{
    char why[200] = "";

    if (transport_default->lacks)
        transport_default->lacks(option, why, sizeof why);
    return usage_error("%s: the %s build cannot %s: %s; use the pokefetch "
                       "build",
                       option, transport_default->name, what, why);
}

static int
parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static int
parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (*end == 'K' || *end == 'k')
        shift = 10, end++;
    else if (*end == 'M' || *end == 'm')
        shift = 20, end++;
    else if (*end == 'G' || *end == 'g')
        shift = 30, end++;
    if (*end || v == 0 || v > (~0ull >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Seconds, decimals allowed, to milliseconds; 0 means no limit. */
static int
parse_seconds(const char *s, int64_t *ms)
{
    char *end;
    double v;

    if ((*s < '0' || *s > '9') && *s != '.')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    /* The comparisons are false for NaN, so it is refused too. */
    if (errno || *end || !(v >= 0 && v <= 86400.0 * 365))
        return -1;
    *ms = (int64_t)(v * 1000 + 0.999);
    return 0;
}

static int
add_ids(struct cli *cl, uint32_t first, uint32_t last)
{
    uint64_t count = (uint64_t)last - first + 1;
    uint32_t id;

    if (count > MAX_JOBS - cl->n_ids)
        return -1;
    if (cl->n_ids + count > cl->cap_ids) {
        size_t cap = cl->cap_ids ? cl->cap_ids : 256;
        uint32_t *p;

        while (cap < cl->n_ids + count)
            cap *= 2;
        p = realloc(cl->ids, cap * sizeof *p);
        if (!p)
            return -1;
        cl->ids = p;
        cl->cap_ids = cap;
    }
    for (id = first;; id++) {
        cl->ids[cl->n_ids++] = id;
        if (id == last)
            break;
    }
    return 0;
}

enum long_only {
    OPT_SERIAL = 256,
    OPT_NO_KEEPALIVE,
    OPT_CACERT,
    OPT_ORDER,
    OPT_FORMAT,
    OPT_CONNECT_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_MAX_TIME,
    OPT_RETRIES,
    OPT_COMPRESSED,
    OPT_NO_COMPRESSED,
    OPT_MAX_BODY,
    OPT_MAX_REDIRS,
    OPT_ALLOW_HTTP_REDIRECT,
    OPT_TRACE,
    OPT_HAR,
    OPT_STATS,
    OPT_STATS_FILE,
    OPT_WATERFALL,
    OPT_KEYLOG,
    OPT_TLS_SESSIONS,
    OPT_EARLY_DATA,
    OPT_HTTP2,
};

static const struct option long_options[] = {
    {"url", required_argument, NULL, 'u'},
    {"connections", required_argument, NULL, 'c'},
    {"pipeline", required_argument, NULL, 'p'},
    {"serial", no_argument, NULL, OPT_SERIAL},
    {"no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE},
    {"field", required_argument, NULL, 'f'},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"insecure", no_argument, NULL, 'k'},
    {"order", required_argument, NULL, OPT_ORDER},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"max-time", required_argument, NULL, OPT_MAX_TIME},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"compressed", no_argument, NULL, OPT_COMPRESSED},
    {"no-compressed", no_argument, NULL, OPT_NO_COMPRESSED},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-redirs", required_argument, NULL, OPT_MAX_REDIRS},
    {"allow-http-redirect", no_argument, NULL, OPT_ALLOW_HTTP_REDIRECT},
    {"keylog", required_argument, NULL, OPT_KEYLOG},
    {"tls-sessions", required_argument, NULL, OPT_TLS_SESSIONS},
    {"early-data", no_argument, NULL, OPT_EARLY_DATA},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"har", required_argument, NULL, OPT_HAR},
    {"stats", required_argument, NULL, OPT_STATS},
    {"stats-file", required_argument, NULL, OPT_STATS_FILE},
    {"waterfall", required_argument, NULL, OPT_WATERFALL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void print_version(void);

/* What the option parsers below return: go on, this option is not mine,
   or an exit status (CLI_EXIT_*, 0 or more). */
#define GO_ON (-1)
#define NOT_MINE (-2)

/* The options that take a number, and where each one goes: a whole
   number in [min, max], or seconds (max 0) as milliseconds. */
static const struct numeric_option {
    int opt;
    const char *name;
    unsigned min, max;
    size_t off;
} numeric_options[] = {
    {'c', "-c/--connections", 1, SCHED_MAX_CONNECTIONS,
     offsetof(struct fetch_config, connections)},
    {'p', "-p/--pipeline", 1, 256, offsetof(struct fetch_config, pipeline)},
    {OPT_RETRIES, "--retries", 0, 100,
     offsetof(struct fetch_config, max_retries)},
    {OPT_MAX_REDIRS, "--max-redirs", 0, 50,
     offsetof(struct fetch_config, max_redirects)},
    {OPT_CONNECT_TIMEOUT, "--connect-timeout", 0, 0,
     offsetof(struct fetch_config, connect_timeout_ms)},
    {OPT_IDLE_TIMEOUT, "--idle-timeout", 0, 0,
     offsetof(struct fetch_config, idle_timeout_ms)},
    {OPT_MAX_TIME, "--max-time", 0, 0,
     offsetof(struct fetch_config, max_time_ms)},
};

static void
set_defaults(struct fetch_config *o)
{
    o->url = DEFAULT_URL;
    o->connections = DEFAULT_CONNECTIONS;
    o->pipeline = DEFAULT_PIPELINE < transport_default->max_pipeline
                      ? DEFAULT_PIPELINE
                      : transport_default->max_pipeline;
    o->keep_alive = 1;
    o->field = "name";
    o->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    o->idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    o->max_retries = DEFAULT_RETRIES;
    o->user_agent = "pokefetch/" POKEFETCH_VERSION;
    o->compressed = decode_available;
    o->max_body = DEFAULT_MAX_BODY;
    o->max_redirects = DEFAULT_MAX_REDIRS;
}

/* opt if it is a numeric option: GO_ON if arg was taken, an exit status
   if not; NOT_MINE if opt is another kind. */
static int
parse_numeric(struct fetch_config *o, int opt, const char *arg)
{
    const struct numeric_option *n = NULL;
    char *field = (char *)o;
    size_t i;

    for (i = 0; i < sizeof numeric_options / sizeof *numeric_options; i++)
        if (numeric_options[i].opt == opt)
            n = &numeric_options[i];
    if (!n)
        return NOT_MINE;
    if (!n->max) {
        if (parse_seconds(arg, (int64_t *)(void *)(field + n->off)) < 0)
            return usage_error("%s takes seconds, not '%s'", n->name, arg);
        return GO_ON;
    }
    if (parse_uint(arg, n->min, n->max, (unsigned *)(void *)(field + n->off)) <
        0)
        return usage_error("%s takes %u..%u, not '%s'", n->name, n->min,
                           n->max, arg);
    if (opt == 'p' && o->pipeline > transport_default->max_pipeline)
        return usage_error("-p %s: this build's transport (%s) cannot "
                           "pipeline deeper than %u",
                           arg, transport_default->name,
                           transport_default->max_pipeline);
    return GO_ON;
}

/* --order and --format. Returns GO_ON, or an exit status. */
static int
parse_choice(struct cli *cl, int opt, const char *arg)
{
    static const char *const formats[] = {"plain", "tsv", "jsonl"};
    int i;

    if (opt == OPT_STATS) {
        if (strcmp(arg, "text") && strcmp(arg, "json"))
            return usage_error("--stats takes text or json, not '%s'", arg);
        cl->observe.stats_json = !strcmp(arg, "json");
        return GO_ON;
    }
    if (opt == OPT_ORDER) {
        if (strcmp(arg, "id") && strcmp(arg, "arrival"))
            return usage_error("--order takes id or arrival, not '%s'", arg);
        cl->o.arrival_order = !strcmp(arg, "arrival");
        return GO_ON;
    }
    for (i = 0; i < 3; i++) {
        if (!strcmp(arg, formats[i])) {
            cl->format = (enum format)i;
            return GO_ON;
        }
    }
    return usage_error("--format takes plain, tsv or jsonl, not '%s'", arg);
}

/* One option that is neither numeric nor a choice. Returns GO_ON, or an
   exit status. */
static int
parse_flag(struct cli *cl, int opt, const char *arg, const char *given)
{
    struct fetch_config *o = &cl->o;

    switch (opt) {
    case 'u':
        o->url = arg;
        break;
    case OPT_SERIAL:
        cl->serial = 1;
        break;
    case OPT_NO_KEEPALIVE:
        o->keep_alive = 0;
        break;
    case 'f':
        if (!*arg || strlen(arg) > JF_MAX_KEY)
            return usage_error("--field takes a key of 1..256 bytes, not "
                               "'%s'",
                               arg);
        o->field = arg;
        break;
    case OPT_CACERT:
        o->cafile = arg;
        break;
    case 'k':
        o->insecure = 1;
        break;
    case OPT_COMPRESSED:
        if (!decode_available)
            return usage_error("%s", "--compressed: this pokefetch was built "
                                     "without zlib (NO_ZLIB=1)");
        o->compressed = 1;
        break;
    case OPT_NO_COMPRESSED:
        o->compressed = 0;
        break;
    case OPT_MAX_BODY:
        if (parse_size(arg, &o->max_body) < 0)
            return usage_error("--max-body takes a size like 65536, 512K or "
                               "64M, not '%s'",
                               arg);
        break;
    case OPT_ALLOW_HTTP_REDIRECT:
        o->allow_http_redirect = 1;
        break;
    case OPT_KEYLOG:
        if (!*arg)
            return usage_error("%s", "--keylog takes a file name");
        cl->keylog = arg;
        break;
    case OPT_TLS_SESSIONS:
        if (!*arg)
            return usage_error("%s", "--tls-sessions takes a file name");
        if (!transport_default->tls_sessions)
            return refuse("--tls-sessions", "offer a stored TLS session");
        cl->tls_sessions = arg;
        break;
    case OPT_EARLY_DATA:
        if (!transport_default->early_data)
            return refuse("--early-data", "send TLS early data");
        o->early_data = 1;
        break;
    case OPT_HTTP2:
        if (!transport_default->http2)
            return usage_error("--http2: the %s build speaks HTTP/1.1 only; "
                               "--http2 is the libcurl build's",
                               transport_default->name);
        o->http2 = 1;
        break;
    case 'q':
        cl->quiet = 1;
        break;
    case 'v':
        cl->observe.verbose = 1;
        break;
    case OPT_TRACE:
        cl->observe.trace_file = arg;
        break;
    case OPT_HAR:
        cl->observe.har_file = arg;
        break;
    case OPT_STATS_FILE:
        cl->observe.stats_file = arg;
        break;
    case OPT_WATERFALL:
        cl->observe.waterfall_file = arg;
        break;
    case 'h':
        print_usage();
        return CLI_EXIT_OK;
    case 'V':
        print_version();
        return CLI_EXIT_OK;
    case ':':
        return usage_error("option '%s' needs a value", given);
    default:
        return usage_error("unknown option '%s'", given);
    }
    return GO_ON;
}

/* After the options: what they mean together, the URL, the ids. Returns
   GO_ON, or an exit status. */
static int
finish_args(struct cli *cl, int argc, char **argv)
{
    struct fetch_config *o = &cl->o;
    enum url_rc urc;
    int i;

    if (o->http2 && (cl->serial || !o->keep_alive))
        return usage_error("--http2 multiplexes requests on kept-alive "
                           "connections: drop %s",
                           cl->serial ? "--serial" : "--no-keepalive");
    if (cl->serial) {
        if ((cl->c_given && o->connections != 1) ||
            (cl->p_given && o->pipeline != 1))
            return usage_error("%s", "--serial means -c 1 -p 1; drop -c/-p");
        o->connections = 1;
        o->pipeline = 1;
    }
    if (!o->keep_alive && cl->p_given && o->pipeline != 1)
        return usage_error("%s", "--no-keepalive sends one request per "
                                 "connection: drop -p");
    if (!o->keep_alive)
        o->pipeline = 1;
    urc = url_parse_template(&o->tmpl, o->url, strlen(o->url));
    if (urc != URL_OK)
        return usage_error("bad --url '%s': %s (at byte %zu)", o->url,
                           url_strerror(urc), o->tmpl.error_offset);
    for (i = optind; i < argc; i++) {
        uint32_t first, last;

        if (url_parse_ids(argv[i], strlen(argv[i]), &first, &last) != URL_OK)
            return usage_error("bad id or range '%s' (ids are 0..999999999,"
                               " ranges FIRST-LAST)",
                               argv[i]);
        if (add_ids(cl, first, last) < 0)
            return usage_error("too many ids (at most 10000000): '%s'",
                               argv[i]);
    }
    if (optind == argc && add_ids(cl, DEFAULT_FIRST, DEFAULT_LAST) < 0)
        return usage_error("%s", "out of memory");
    o->ids = cl->ids;
    o->n_ids = cl->n_ids;
    o->field_len = strlen(o->field);
    return GO_ON;
}

/* Returns GO_ON, or an exit status. */
static int
parse_args(struct cli *cl, int argc, char **argv)
{
    int opt, rc;

    set_defaults(&cl->o);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":u:c:p:f:kqvhV", long_options,
                              NULL)) != -1) {
        cl->c_given |= opt == 'c';
        cl->p_given |= opt == 'p';
        rc = parse_numeric(&cl->o, opt, optarg);
        if (rc == NOT_MINE)
            rc = opt == OPT_ORDER || opt == OPT_FORMAT || opt == OPT_STATS
                     ? parse_choice(cl, opt, optarg)
                     : parse_flag(cl, opt, optarg, argv[optind - 1]);
        if (rc != GO_ON)
            return rc;
    }
    return finish_args(cl, argc, argv);
}

/* One id's line on stdout, in the chosen format. */
static void
put_value(const struct cli *cl, const struct sched_result *r)
{
    struct out *o = stream(&io.out);
    size_t n = 0;
    char *p;

    /* A value is at most JF_MAX_VALUE bytes: its worst case fits. */
    p = out_room(o, sizeof cl->json_key + 32 + ESC_JSON_MAX(r->len));
    switch (cl->format) {
    case FORMAT_TSV:
        n = jw_decimal(p, r->id);
        p[n++] = '\t';
        /* fall through */
    case FORMAT_PLAIN:
        n += esc_line(p + n, r->text, r->len);
        break;
    case FORMAT_JSONL:
        memcpy(p, "{\"id\":", 6);
        n = 6 + jw_decimal(p + 6, r->id);
        memcpy(p + n, cl->json_key, cl->json_key_len);
        n += cl->json_key_len;
        if (r->ok == FETCH_JSON) {
            n += esc_json_text(p + n, r->text, r->len);
        } else {
            p[n++] = '"';
            n += esc_json(p + n, r->text, r->len);
            p[n++] = '"';
        }
        p[n++] = '}';
        break;
    }
    p[n++] = '\n';
    out_commit(o, n);
}

static void
on_output(void *arg, const struct sched_result *r)
{
    char prefix[40];
    size_t n;

    if (r->ok) {
        put_value(arg, r);
        return;
    }
    memcpy(prefix, "pokefetch: id ", 14);
    n = 14 + jw_decimal(prefix + 14, r->id);
    prefix[n++] = ':';
    prefix[n++] = ' ';
    err_line(prefix, n, r->text, r->len);
}

static void
on_warning(void *arg, const char *msg)
{
    (void)arg;
    say("%s", msg);
}

/* Put the progress line on the terminal: from the start of the line,
   and clear what a longer one before it left. */
static void
progress_draw(void)
{
    struct out *o = switch_to(&io.err);
    char *p = out_room(o, prog.p.len + 4);

    p[0] = '\r';
    memcpy(p + 1, prog.p.line, prog.p.len);
    memcpy(p + 1 + prog.p.len, "\033[K", 3);
    out_commit(o, prog.p.len + 4);
    prog.shown = 1;
}

/* The terminal's width, asked only when the line changes (at most 10
   times a second), so a resized window is followed. */
static unsigned
term_width(void)
{
    struct winsize ws;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0)
        return ws.ws_col;
    return 0;
}

/* Before the run: the line is drawn if stderr is a terminal that knows
   ESC [K and stdout is not a pipe (see prog), without -q; then sched
   gives a turn at least as often as the line may change, events or
   not. */
static void
progress_start(struct cli *cl, const struct fetch_stats *st)
{
    const char *term = getenv("TERM");
    struct stat so;

    /* Not with -v or --trace on stderr either: their lines are the
       account of the run there (curl's meter also yields to -v). */
    int tracing =
        cl->observe.verbose ||
        (cl->observe.trace_file && !strcmp(cl->observe.trace_file, "-"));

    prog.on = !cl->quiet && !tracing && isatty(STDERR_FILENO) &&
              !(term && strcmp(term, "dumb") == 0) &&
              fstat(STDOUT_FILENO, &so) == 0 && !S_ISFIFO(so.st_mode) &&
              !S_ISSOCK(so.st_mode);
    if (!prog.on)
        return;
    cl->stats = st;
    cl->o.turn_every_ms = PROGRESS_INTERVAL_MS;
    progress_init(&prog.p, cl->o.n_ids, loop_now_ms());
}

/* At the end of a turn: new numbers when they are due, and the line back
   if this turn's lines took it off. Off a terminal: nothing. */
static void
progress_turn(const struct cli *cl)
{
    int64_t now;

    if (!prog.on)
        return;
    /* Every id has its result: the run ends now, and the summary takes
       the line's place. */
    if ((size_t)cl->stats->ok + cl->stats->failed >= prog.p.total)
        return;
    now = loop_now_ms();
    if (progress_due(&prog.p, now)) {
        progress_set(&prog.p, cl->stats, now, term_width());
        if (!prog.p.len) { /* too narrow for even the first field */
            if (prog.shown)
                progress_erase();
            return;
        }
        progress_draw();
    } else if (prog.p.len && !prog.shown) {
        progress_draw();
    }
}

/* After the run: the line off the terminal for good. */
static void
progress_stop(void)
{
    if (prog.shown)
        progress_erase();
    prog.on = 0;
}

/*
 * A write to stream o failed with errno e. A reader that went away ends
 * the program as it ends cat: by SIGPIPE, unless that was ignored when
 * pokefetch started (main.c ignores it itself, for sockets). Anything
 * else is said, once; returns.
 */
static void
write_failed(const struct out *o, int e)
{
    if (e == EPIPE && !io.sigpipe_ignored) {
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
        /* Still here: SIGPIPE is blocked. Then it is an error. */
    }
    if (o == &io.out && !io.said) {
        io.said = 1;
        say("cannot write to stdout: %s", strerror(e));
    }
}

/*
 * After each turn of the loop: what the turn printed leaves now, and the
 * progress line after it. A stdout that cannot be written ends the run
 * (the names would be lost); a stderr that cannot be written is only
 * ever a closed pipe to act on.
 */
static int
on_turn(void *arg)
{
    struct cli *cl = arg;
    int rc;

    observe_turn(&cl->ob);
    if ((rc = out_flush(&io.out)) < 0) {
        write_failed(&io.out, -rc);
        return -1;
    }
    progress_turn(arg);
    if ((rc = out_flush(&io.err)) == -EPIPE)
        write_failed(&io.err, EPIPE);
    return 0;
}

/* Write out both streams at exit; status, or 1 if stdout failed. */
static int
finish_output(int status)
{
    int rc = out_flush(&io.out);

    if (rc < 0) {
        write_failed(&io.out, -rc);
        if (status == CLI_EXIT_OK)
            status = CLI_EXIT_FAILED;
    }
    if (out_flush(&io.err) == -EPIPE)
        write_failed(&io.err, EPIPE);
    return status;
}

static void
print_version(void)
{
    char lines[1024];
    const char *feature;

    put_text(&io.out, "pokefetch " POKEFETCH_VERSION "\n");
    /* The Makefile says which: static or dynamic. */
    put_text(&io.out, "linked: " POKEFETCH_LINKAGE "\n");
    feature = transport_default->version(lines, sizeof lines);
    put_text(&io.out, lines);
    decode_version(lines, sizeof lines);
    put_text(&io.out, lines);
    snprintf(lines, sizeof lines, "features:%s%s%s%s\n",
             decode_available ? " gzip" : "", feature ? " " : "",
             feature ? feature : "",
             decode_available || feature ? "" : " none");
    put_text(&io.out, lines);
}

static void
print_summary(const struct cli *cl, const struct fetch_stats *st,
              struct out *o)
{
    char line[256];

#define LINE(...) (snprintf(line, sizeof line, __VA_ARGS__), put_text(o, line))
    LINE("Total Time: %.3f s\n", (double)st->elapsed_ms / 1000);
    LINE("requests:    %u ok, %u failed\n", st->ok, st->failed);
    LINE("received:    %.1f MB (%llu bytes)\n", (double)st->bytes_rx / 1e6,
         (unsigned long long)st->bytes_rx);
    if (st->bytes_decoded > st->bytes_rx)
        LINE("decoded:     %.1f MB of bodies after decompression\n",
             (double)st->bytes_decoded / 1e6);
    LINE("connections: %u opened\n", st->conns_opened);
    if (cl->o.tmpl.tls)
        LINE("handshakes:  %u full, %u resumed\n", st->handshakes_full,
             st->handshakes_resumed);
    else
        LINE("handshakes:  none (plain http)\n");
    LINE("retries:     %u\n", st->retries);
    if (cl->o.early_data)
        LINE("early data:  %u requests sent early, %u accepted, %u sent "
             "again (rejected), %u answered 425\n",
             st->early_sent, st->early_accepted, st->early_resent,
             st->too_early);
    if (st->redirects)
        LINE("redirects:   %u followed\n", st->redirects);
    if (st->pauses)
        LINE("busy:        %u pauses for 429/503\n", st->pauses);
    LINE("pipeline:    %u deepest\n", st->deepest_pipeline);
    if (st->learned_max_requests)
        LINE("server limit: %u requests per connection (learned)\n",
             st->learned_max_requests);
#undef LINE
}

/* --stats-file FILE: created before anything is sent, so that a path
   that cannot be written ends the run before it starts. */
static int
open_stats_file(struct cli *cl, char *err, size_t cap)
{
    const char *path = cl->observe.stats_file;

    cl->stats_fd = -1;
    if (!path)
        return 0;
    cl->stats_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (cl->stats_fd < 0) {
        snprintf(err, cap, "--stats-file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * The closing summary, as text or JSON (--stats), on stderr (unless -q)
 * or into --stats-file (whatever -q says: it was asked for). Before
 * observe_finish: the JSON reads the run's timeline. Returns 0, or -1
 * with err if the file could not be written.
 */
static int
write_summary(struct cli *cl, const struct fetch_stats *st, char *err,
              size_t cap)
{
    static struct out file;
    const char *path = cl->observe.stats_file;
    struct out *o = &file;
    int e;

    if (!path) {
        if (cl->quiet)
            return 0;
        o = stream(&io.err);
    } else {
        out_init(&file, cl->stats_fd);
    }
    if (cl->observe.stats_json)
        observe_stats_json(&cl->ob, &cl->o, st, o);
    else
        print_summary(cl, st, o);
    if (!path)
        return 0;
    e = out_flush(&file);
    if (close(file.fd) < 0 && !e)
        e = -errno;
    cl->stats_fd = -1;
    if (!e)
        return 0;
    snprintf(err, cap, "--stats-file %s: %s", path, strerror(-e));
    return -1;
}

/*
 * --cacert FILE, checked before anything is sent and the same way for
 * both transports (OpenSSL's and libcurl's own messages do not say which
 * of these it is): it must open, be a regular file, and hold a PEM
 * certificate, which is all OpenSSL reads from a CA file. Returns 0, or
 * -1 with the reason in err.
 */
static int
check_cafile(const char *path, char *err, size_t cap)
{
    static const char *const kinds[] = {
        "CERTIFICATE-----",
        "TRUSTED CERTIFICATE-----",
        "X509 CERTIFICATE-----",
    };
    char buf[65536];
    size_t have = 0, keep = 64, i, k;
    struct stat sb;
    ssize_t n;
    int fd, found = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, cap, "--cacert %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        snprintf(err, cap, "--cacert %s: %s", path,
                 S_ISDIR(sb.st_mode) ? strerror(EISDIR)
                                     : "not a regular file");
        close(fd);
        return -1;
    }
    /* Look for "-----BEGIN " + a certificate kind, across reads. */
    while (!found && (n = read(fd, buf + have, sizeof buf - have)) > 0) {
        have += (size_t)n;
        for (i = 0; !found && i + 11 <= have; i++) {
            if (memcmp(buf + i, "-----BEGIN ", 11) != 0)
                continue;
            for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
                if (have - i - 11 >= strlen(kinds[k]) &&
                    memcmp(buf + i + 11, kinds[k], strlen(kinds[k])) == 0)
                    found = 1;
        }
        if (have > keep) {
            memmove(buf, buf + have - keep, keep);
            have = keep;
        }
    }
    if (!found && n < 0)
        snprintf(err, cap, "--cacert %s: %s", path, strerror(errno));
    else if (!found)
        snprintf(err, cap, "--cacert %s: no certificate in it (PEM)", path);
    close(fd);
    return found ? 0 : -1;
}

/* The key log, if --keylog or SSLKEYLOGFILE asks for one, open before
   anything is sent, and said: it gives the run's traffic away. Returns 0,
   or -1 with the reason in err. */
static int
start_keylog(const char *path, char *err, size_t cap)
{
    const char *file;
    int rc = tlsio_keylog_open(path, &file, err, cap);

    if (rc > 0)
        say("warning: TLS secrets are being written to %s: anyone who can "
            "read it can decrypt this run's traffic",
            file);
    return rc < 0 ? -1 : 0;
}

/* jsonl's ,"KEY": once: the key is the user's, escaped like any text. */
static void
prepare_json_key(struct cli *cl)
{
    size_t n = 0;

    cl->json_key[n++] = ',';
    cl->json_key[n++] = '"';
    n += esc_json(cl->json_key + n, cl->o.field, strlen(cl->o.field));
    cl->json_key[n++] = '"';
    cl->json_key[n++] = ':';
    cl->json_key_len = n;
}

int
cli_main(int argc, char **argv, int sigpipe_ignored)
{
    struct cli cl;
    struct fetch_stats st;
    char err[512];
    struct stat so, se;
    int rc, status;

    memset(&cl, 0, sizeof cl);
    out_init(&io.out, STDOUT_FILENO);
    out_init(&io.err, STDERR_FILENO);
    io.sigpipe_ignored = sigpipe_ignored;
    /* Two terminals are taken for one: they may be one by two names
       (/dev/tty and /dev/pts/N, which stat cannot match), and keeping
       the order of lines on two costs only a write more when switching. */
    io.same =
        (fstat(STDOUT_FILENO, &so) == 0 && fstat(STDERR_FILENO, &se) == 0 &&
         so.st_dev == se.st_dev && so.st_ino == se.st_ino) ||
        (isatty(STDOUT_FILENO) && isatty(STDERR_FILENO));
    rc = parse_args(&cl, argc, argv);
    cl.argc = argc; /* getopt moved the operands last: the same command */
    cl.argv = argv;
    if (rc >= 0) {
        free(cl.ids);
        return finish_output(rc);
    }
    if ((cl.o.cafile && check_cafile(cl.o.cafile, err, sizeof err) < 0) ||
        start_keylog(cl.keylog, err, sizeof err) < 0 ||
        (cl.tls_sessions &&
         tlsio_sessions_open(cl.tls_sessions, err, sizeof err) < 0) ||
        open_stats_file(&cl, err, sizeof err) < 0) {
        say("%s", err);
        tlsio_sessions_discard();
        free(cl.ids);
        return finish_output(CLI_EXIT_FAILED);
    }
    prepare_json_key(&cl);
    if (observe_start(&cl.ob, &cl.observe, &cl.o, trace_to_stderr, NULL, err,
                      sizeof err) < 0) {
        say("%s", err);
        (void)observe_finish(&cl.ob, &cl.o, err, sizeof err);
        tlsio_sessions_discard();
        free(cl.ids);
        return finish_output(CLI_EXIT_FAILED);
    }
    progress_start(&cl, &st);
    rc = sched_run(transport_default, &cl.o, on_output, on_turn, &cl,
                   on_warning, &st, err, sizeof err);
    progress_stop();
    free(cl.ids);
    if (rc < 0)
        say("%s", err);
    /* rc > 0: stdout failed and said so, no summary either. */
    status = rc == 0 && !st.failed ? CLI_EXIT_OK : CLI_EXIT_FAILED;
    if (rc == 0 && write_summary(&cl, &st, err, sizeof err) < 0) {
        say("%s", err);
        status = CLI_EXIT_FAILED;
    }
    if (rc == 0 && observe_waterfall(&cl.ob, &st, cl.argc, cl.argv, err,
                                     sizeof err) < 0) {
        say("%s", err);
        status = CLI_EXIT_FAILED;
    }
    /* An output made at the end that could not be written, or a key log
       that lost a line (it cannot decrypt the run): that fails it. */
    if (observe_finish(&cl.ob, &cl.o, err, sizeof err) < 0) {
        say("%s", err);
        status = CLI_EXIT_FAILED;
    }
    if (tlsio_keylog_close(err, sizeof err) < 0) {
        say("%s", err);
        status = CLI_EXIT_FAILED;
    }
    /* The sessions, kept for the next run (none after an error at the
       start: nothing was opened). */
    if (tlsio_sessions_close(err, sizeof err) < 0) {
        say("%s", err);
        status = CLI_EXIT_FAILED;
    }
    return finish_output(status);
}

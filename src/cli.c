/*
 * cli - argv in, names out; see include/cli.h.
 *
 * Output formats (stdout, one line per successful id, in the order the
 * ids were given unless --order arrival):
 *   plain   the value
 *   tsv     id TAB value
 *   jsonl   {"id":25,"name":"pikachu"}  (the key is the --field name)
 * In plain and tsv, bytes that would break the line structure are
 * escaped: backslash as \\, TAB \t, LF \n, CR \r, other control bytes
 * \xHH (the convention of tab-separated text files). jsonl uses JSON
 * escapes. Failed ids go to stderr as "pokefetch: id N: reason", in the
 * same order as the names.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "jfield.h"
#include "sched.h"
#include "transport.h"
#include "url.h"

#define DEFAULT_URL "https://pokeapi.co/api/v2/pokemon/{id}"
#define DEFAULT_FIRST 1
#define DEFAULT_LAST 150
#define DEFAULT_CONNECTIONS 6
#define DEFAULT_PIPELINE 32
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
    struct sched_options o;
    enum format format;
    int quiet;
    uint32_t *ids;
    size_t n_ids, cap_ids;
};

static const char usage_text[] =
    "Usage: pokefetch [OPTION]... [ID | FIRST-LAST]...\n"
    "Fetch https://pokeapi.co/api/v2/pokemon/{id} for each id (default "
    "1-150)\n"
    "and print each response's top-level \"name\", one per line.\n"
    "\n"
    "  -u, --url TEMPLATE       URL with {id} in its path or query\n"
    "                           (default " DEFAULT_URL ")\n"
    "  -c, --connections N      connections at once (default 6)\n"
    "  -p, --pipeline DEPTH     requests in flight per connection "
    "(default 32)\n"
    "      --serial             one connection, one request at a time\n"
    "      --no-keepalive       a new connection (and TLS handshake) per "
    "request\n"
    "  -f, --field KEY          top-level key to print (default name)\n"
    "      --cacert FILE        trust only the CAs in FILE\n"
    "  -k, --insecure           do not verify the server's certificate\n"
    "      --order id|arrival   output in the ids' order (default) or as "
    "answered\n"
    "      --format plain|tsv|jsonl   output lines (default plain)\n"
    "      --connect-timeout S  seconds for TCP connect + TLS handshake "
    "(default 10)\n"
    "      --idle-timeout S     seconds without a byte on a busy "
    "connection (default 30)\n"
    "      --max-time S         seconds for the whole run (default: no "
    "limit)\n"
    "      --retries N          extra attempts for a request whose "
    "connection died (default 3)\n"
    "      --compressed         ask for gzip/deflate and decode it "
    "(default, if built with zlib)\n"
    "      --no-compressed      ask for the body as it is\n"
    "      --max-body SIZE      largest body after decompression, e.g. "
    "64M (default)\n"
    "      --max-redirs N       redirects followed per id (default 5, 0: "
    "none)\n"
    "      --allow-http-redirect  follow redirects from https to plain "
    "http\n"
    "  -q, --quiet              no summary on stderr\n"
    "  -h, --help               this text\n"
    "  -V, --version            version\n"
    "\n"
    "Exit status: 0 all ids fetched, 1 some failed (named on stderr), 2 "
    "usage error.\n"
    "SSL_CERT_FILE and SSL_CERT_DIR select the default trust store.\n";

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("pokefetch: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'pokefetch --help' for more information.\n", stderr);
    return CLI_EXIT_USAGE;
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
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* Returns -1 to go on, or an exit status. */
static int
parse_args(struct cli *cl, int argc, char **argv)
{
    struct sched_options *o = &cl->o;
    int serial = 0, c_given = 0, p_given = 0, opt, i;
    enum url_rc urc;

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

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":u:c:p:f:kqhV", long_options,
                              NULL)) != -1) {
        switch (opt) {
        case 'u':
            o->url = optarg;
            break;
        case 'c':
            if (parse_uint(optarg, 1, SCHED_MAX_CONNECTIONS,
                           &o->connections) < 0)
                return usage_error("-c/--connections takes 1..1024, not "
                                   "'%s'",
                                   optarg);
            c_given = 1;
            break;
        case 'p':
            if (parse_uint(optarg, 1, 256, &o->pipeline) < 0)
                return usage_error("-p/--pipeline takes 1..256, not '%s'",
                                   optarg);
            if (o->pipeline > transport_default->max_pipeline)
                return usage_error("-p %s: this build's transport (%s) "
                                   "cannot pipeline deeper than %u",
                                   optarg, transport_default->name,
                                   transport_default->max_pipeline);
            p_given = 1;
            break;
        case OPT_SERIAL:
            serial = 1;
            break;
        case OPT_NO_KEEPALIVE:
            o->keep_alive = 0;
            break;
        case 'f':
            if (!*optarg || strlen(optarg) > JF_MAX_KEY)
                return usage_error("--field takes a key of 1..256 bytes, "
                                   "not '%s'",
                                   optarg);
            o->field = optarg;
            break;
        case OPT_CACERT:
            o->cafile = optarg;
            break;
        case 'k':
            o->insecure = 1;
            break;
        case OPT_ORDER:
            if (!strcmp(optarg, "id"))
                o->arrival_order = 0;
            else if (!strcmp(optarg, "arrival"))
                o->arrival_order = 1;
            else
                return usage_error("--order takes id or arrival, not '%s'",
                                   optarg);
            break;
        case OPT_FORMAT:
            if (!strcmp(optarg, "plain"))
                cl->format = FORMAT_PLAIN;
            else if (!strcmp(optarg, "tsv"))
                cl->format = FORMAT_TSV;
            else if (!strcmp(optarg, "jsonl"))
                cl->format = FORMAT_JSONL;
            else
                return usage_error("--format takes plain, tsv or jsonl, "
                                   "not '%s'",
                                   optarg);
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_seconds(optarg, &o->connect_timeout_ms) < 0)
                return usage_error("--connect-timeout takes seconds, not "
                                   "'%s'",
                                   optarg);
            break;
        case OPT_IDLE_TIMEOUT:
            if (parse_seconds(optarg, &o->idle_timeout_ms) < 0)
                return usage_error("--idle-timeout takes seconds, not '%s'",
                                   optarg);
            break;
        case OPT_MAX_TIME:
            if (parse_seconds(optarg, &o->max_time_ms) < 0)
                return usage_error("--max-time takes seconds, not '%s'",
                                   optarg);
            break;
        case OPT_RETRIES:
            if (parse_uint(optarg, 0, 100, &o->max_retries) < 0)
                return usage_error("--retries takes 0..100, not '%s'",
                                   optarg);
            break;
        case OPT_COMPRESSED:
            if (!decode_available)
                return usage_error("%s", "--compressed: this pokefetch was "
                                         "built without zlib (NO_ZLIB=1)");
            o->compressed = 1;
            break;
        case OPT_NO_COMPRESSED:
            o->compressed = 0;
            break;
        case OPT_MAX_BODY:
            if (parse_size(optarg, &o->max_body) < 0)
                return usage_error("--max-body takes a size like 65536, "
                                   "512K or 64M, not '%s'",
                                   optarg);
            break;
        case OPT_MAX_REDIRS:
            if (parse_uint(optarg, 0, 50, &o->max_redirects) < 0)
                return usage_error("--max-redirs takes 0..50, not '%s'",
                                   optarg);
            break;
        case OPT_ALLOW_HTTP_REDIRECT:
            o->allow_http_redirect = 1;
            break;
        case 'q':
            cl->quiet = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf("pokefetch %s\n", POKEFETCH_VERSION);
            return CLI_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (serial) {
        if ((c_given && o->connections != 1) ||
            (p_given && o->pipeline != 1))
            return usage_error("%s", "--serial means -c 1 -p 1; drop -c/-p");
        o->connections = 1;
        o->pipeline = 1;
    }
    if (!o->keep_alive && p_given && o->pipeline != 1)
        return usage_error("%s", "--no-keepalive sends one request per "
                                 "connection: drop -p");
    if (!o->keep_alive)
        o->pipeline = 1;

    urc = url_parse_template(&o->tmpl, o->url, strlen(o->url));
    if (urc != URL_OK) {
        return usage_error("bad --url '%s': %s (at byte %zu)", o->url,
                           url_strerror(urc), o->tmpl.error_offset);
    }

    for (i = optind; i < argc; i++) {
        uint32_t first, last;

        if (url_parse_ids(argv[i], strlen(argv[i]), &first, &last) !=
            URL_OK)
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
    return -1;
}

/* Write value with the plain/tsv escapes. */
static void
put_escaped(const char *s, size_t len, FILE *f)
{
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];

        if (b >= 0x20 && b != 0x7f && b != '\\')
            continue;
        fwrite(s + run, 1, i - run, f);
        run = i + 1;
        if (b == '\\')
            fputs("\\\\", f);
        else if (b == '\t')
            fputs("\\t", f);
        else if (b == '\n')
            fputs("\\n", f);
        else if (b == '\r')
            fputs("\\r", f);
        else
            fprintf(f, "\\x%02x", b);
    }
    fwrite(s + run, 1, len - run, f);
}

/* Write s as the inside of a JSON string. */
static void
put_json_string(const char *s, size_t len, FILE *f)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];

        if (b == '"' || b == '\\')
            fputc('\\', f), fputc(b, f);
        else if (b == '\n')
            fputs("\\n", f);
        else if (b == '\t')
            fputs("\\t", f);
        else if (b == '\r')
            fputs("\\r", f);
        else if (b < 0x20)
            fprintf(f, "\\u%04x", b);
        else
            fputc(b, f);
    }
}

static void
on_output(void *arg, const struct sched_result *r)
{
    struct cli *cl = arg;

    if (!r->ok) {
        fflush(stdout);
        fprintf(stderr, "pokefetch: id %u: %.*s\n", (unsigned)r->id,
                (int)r->len, r->text);
        return;
    }
    switch (cl->format) {
    case FORMAT_PLAIN:
        put_escaped(r->text, r->len, stdout);
        break;
    case FORMAT_TSV:
        printf("%u\t", (unsigned)r->id);
        put_escaped(r->text, r->len, stdout);
        break;
    case FORMAT_JSONL:
        printf("{\"id\":%u,\"", (unsigned)r->id);
        put_json_string(cl->o.field, strlen(cl->o.field), stdout);
        fputs("\":\"", stdout);
        put_json_string(r->text, r->len, stdout);
        fputs("\"}", stdout);
        break;
    }
    putchar('\n');
}

static void
on_warning(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "pokefetch: %s\n", msg);
}

static void
print_summary(const struct cli *cl, const struct sched_stats *st)
{
    fprintf(stderr, "Total Time: %.3f s\n", (double)st->elapsed_ms / 1000);
    fprintf(stderr, "requests:    %u ok, %u failed\n", st->ok, st->failed);
    fprintf(stderr, "received:    %.1f MB (%llu bytes)\n",
            (double)st->bytes_rx / 1e6, (unsigned long long)st->bytes_rx);
    if (st->bytes_decoded > st->bytes_rx)
        fprintf(stderr, "decoded:     %.1f MB of bodies after "
                        "decompression\n",
                (double)st->bytes_decoded / 1e6);
    fprintf(stderr, "connections: %u opened\n", st->conns_opened);
    if (cl->o.tmpl.tls && st->handshakes_unknown)
        fprintf(stderr, "handshakes:  unknown (%s does not report them)\n",
                transport_default->name);
    else if (cl->o.tmpl.tls)
        fprintf(stderr, "handshakes:  %u full, %u resumed\n",
                st->handshakes_full, st->handshakes_resumed);
    else
        fprintf(stderr, "handshakes:  none (plain http)\n");
    fprintf(stderr, "retries:     %u\n", st->retries);
    if (st->redirects)
        fprintf(stderr, "redirects:   %u followed\n", st->redirects);
    if (st->pauses)
        fprintf(stderr, "busy:        %u pauses for 429/503\n", st->pauses);
    fprintf(stderr, "pipeline:    %u deepest\n", st->deepest_pipeline);
    if (st->learned_max_requests)
        fprintf(stderr,
                "server limit: %u requests per connection (learned)\n",
                st->learned_max_requests);
}

int
cli_main(int argc, char **argv)
{
    struct cli cl;
    struct sched_stats st;
    char err[256];
    int rc;

    memset(&cl, 0, sizeof cl);
    rc = parse_args(&cl, argc, argv);
    if (rc >= 0) {
        free(cl.ids);
        return rc;
    }
    /* Names leave in blocks, not a write per line. */
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (sched_run(transport_default, &cl.o, on_output, &cl, on_warning, &st,
                  err, sizeof err) < 0) {
        fprintf(stderr, "pokefetch: %s\n", err);
        free(cl.ids);
        return CLI_EXIT_FAILED;
    }
    fflush(stdout);
    if (!cl.quiet)
        print_summary(&cl, &st);
    free(cl.ids);
    if (ferror(stdout)) {
        fprintf(stderr, "pokefetch: cannot write to stdout\n");
        return CLI_EXIT_FAILED;
    }
    return st.failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

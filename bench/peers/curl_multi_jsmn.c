/*
 * curl_multi_jsmn - the libcurl reference: the baseline of bench/run and the
 * libcurl HTTP/2 row of bench/peers-run.
 *
 *   curl_multi_jsmn [--cacert FILE] [-c N] [--add-all] [--http2] [--compressed]
 *                   URL_TEMPLATE ID|FIRST-LAST...
 *
 * A straightforward libcurl-multi client: one easy handle per id, one multi
 * handle limited to N connections (CURLMOPT_MAX_TOTAL_CONNECTIONS and
 * CURLMOPT_MAX_HOST_CONNECTIONS), HTTP/1.1 with keep-alive reuse (libcurl's
 * default), curl_multi_perform + curl_multi_poll. At most N easy handles are
 * in the multi handle at once: the next id's handle is added when a transfer
 * finishes, as in curl's 10-at-a-time example. --add-all instead adds all of
 * them up front and lets libcurl queue them (simpler, but every queued handle
 * holds its buffers: ~30 MB more RSS for 1351 ids).
 *
 * --http2 is libcurl's way of fetching many URLs from one server: HTTP/2 by
 * ALPN (CURL_HTTP_VERSION_2TLS), multiplexing (CURLMOPT_PIPELINING
 * CURLPIPE_MULTIPLEX) and every easy handle added up front with
 * CURLOPT_PIPEWAIT, so that they wait for the first connection to say it
 * multiplexes instead of each opening its own. -c then defaults to 1: every
 * request on one connection, as many at once as the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS allows (nginx: 128), the rest queued by
 * libcurl (CURLMOPT_MAX_CONCURRENT_STREAMS, our own cap, is set above any
 * server's).
 *
 * --compressed asks for gzip and lets libcurl inflate it
 * (CURLOPT_ACCEPT_ENCODING ""), as curl's --compressed does; by default
 * libcurl asks for nothing and gets the JSON as it is.
 *
 * Each response body is appended to a growing malloc'd buffer; when the
 * transfer is done the whole body is tokenized with jsmn (a counting pass,
 * then a pass into a token array of that size) and the value of the
 * top-level "name" key (a key token whose parent is token 0, followed by a
 * string) is kept. Names are printed one a line in the order the ids were
 * given, after all transfers are done.
 *
 * "{id}" in URL_TEMPLATE is replaced by each id. Exit status: 0 when every
 * id gave a 200 with a top-level string "name", 1 otherwise (the failures
 * are named on stderr), 2 on a usage error.
 */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct request {
    long id;
    char *body; /* the response body, grown as it arrives */
    size_t len, cap;
    char *name; /* the result, NUL-terminated; NULL if failed */
};

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "curl_multi_jsmn: out of memory\n");
        exit(1);
    }
    return p;
}

static void usage(void)
{
    fprintf(stderr, "usage: curl_multi_jsmn [--cacert FILE] [-c N] [--add-all] [--http2] [--compressed] "
                    "URL_TEMPLATE ID|FIRST-LAST...\n");
    exit(2);
}

static long parse_num(const char *s, const char *end)
{
    long v = 0;
    if (s == end)
        return -1;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || v > 100000000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct request *r = userp;
    size_t n = size * nmemb;
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        while (r->len + n + 1 > cap)
            cap *= 2;
        r->body = xrealloc(r->body, cap);
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
    return n;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copy the JSON string contents s[0..n) into a new NUL-terminated string,
 * decoding escapes (\uXXXX as UTF-8; surrogate pairs combined). */
static char *json_unescape(const char *s, size_t n)
{
    char *out = xrealloc(NULL, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            out[o++] = s[i];
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u': {
            unsigned long cp = 0;
            if (i + 4 >= n)
                break;
            for (int k = 1; k <= 4; k++)
                cp = cp * 16 + (unsigned long)hexval(s[i + k]);
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n && s[i + 1] == '\\' && s[i + 2] == 'u') {
                unsigned long lo = 0;
                for (int k = 3; k <= 6; k++)
                    lo = lo * 16 + (unsigned long)hexval(s[i + k]);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            /* a \uXXXX escape takes 6 input bytes, its UTF-8 at most 4 */
            if (cp < 0x80) {
                out[o++] = (char)cp;
            } else if (cp < 0x800) {
                out[o++] = (char)(0xC0 | (cp >> 6));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[o++] = (char)(0xE0 | (cp >> 12));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[o++] = (char)(0xF0 | (cp >> 18));
                out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[o++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: out[o++] = c; break; /* \" \\ \/ */
        }
    }
    out[o] = '\0';
    return out;
}

/* Tokenize the whole body with jsmn and return the top-level "name" string,
 * or NULL. */
static char *find_name(const char *js, size_t len)
{
    jsmn_parser p;
    jsmn_init(&p);
    int count = jsmn_parse(&p, js, len, NULL, 0);
    if (count <= 0)
        return NULL;

    jsmntok_t *tok = xrealloc(NULL, (size_t)count * sizeof *tok);
    jsmn_init(&p);
    int n = jsmn_parse(&p, js, len, tok, (unsigned)count);
    char *name = NULL;
    if (n > 0 && tok[0].type == JSMN_OBJECT) {
        for (int i = 1; i + 1 < n; i++) {
            if (tok[i].parent != 0 || tok[i].type != JSMN_STRING)
                continue;
            /* tokens with parent 0 are the top-level keys; the value follows */
            if (tok[i].end - tok[i].start == 4 && memcmp(js + tok[i].start, "name", 4) == 0) {
                if (tok[i + 1].type == JSMN_STRING)
                    name = json_unescape(js + tok[i + 1].start,
                                         (size_t)(tok[i + 1].end - tok[i + 1].start));
                break;
            }
        }
    }
    free(tok);
    return name;
}

static void add_request(CURLM *multi, struct request *r, const char *tmpl, const char *hole,
                        const char *cacert, int http2, int gzip)
{
    char url[2048];
    int n = snprintf(url, sizeof url, "%.*s%ld%s", (int)(hole - tmpl), tmpl, r->id, hole + 4);
    if (n < 0 || (size_t)n >= sizeof url) {
        fprintf(stderr, "curl_multi_jsmn: URL too long\n");
        exit(2);
    }
    CURL *easy = curl_easy_init();
    if (!easy) {
        fprintf(stderr, "curl_multi_jsmn: curl_easy_init failed\n");
        exit(1);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    if (http2) {
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    } else {
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
    if (cacert)
        curl_easy_setopt(easy, CURLOPT_CAINFO, cacert);
    if (gzip)
        curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_multi_add_handle(multi, easy);
}

int main(int argc, char **argv)
{
    const char *cacert = NULL, *tmpl = NULL;
    long conns = 0; /* 0: not given; 6, or 1 with --http2 */
    int add_all = 0, http2 = 0, gzip = 0;
    struct request *reqs = NULL;
    size_t nreqs = 0, capreqs = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--cacert") == 0 && i + 1 < argc) {
            cacert = argv[++i];
        } else if (strcmp(a, "--add-all") == 0) {
            add_all = 1;
        } else if (strcmp(a, "--http2") == 0) {
            http2 = 1;
        } else if (strcmp(a, "--compressed") == 0) {
            gzip = 1;
        } else if (strcmp(a, "-c") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            conns = parse_num(v, v + strlen(v));
            if (conns < 1)
                usage();
        } else if (!tmpl) {
            tmpl = a;
        } else {
            const char *dash = strchr(a, '-');
            long first, last;
            if (dash) {
                first = parse_num(a, dash);
                last = parse_num(dash + 1, a + strlen(a));
            } else {
                first = last = parse_num(a, a + strlen(a));
            }
            if (first < 0 || last < first) {
                fprintf(stderr, "curl_multi_jsmn: bad id '%s'\n", a);
                usage();
            }
            for (long id = first; id <= last; id++) {
                if (nreqs == capreqs) {
                    capreqs = capreqs ? capreqs * 2 : 256;
                    reqs = xrealloc(reqs, capreqs * sizeof *reqs);
                }
                reqs[nreqs++] = (struct request){.id = id};
            }
        }
    }
    if (!tmpl || nreqs == 0)
        usage();
    const char *hole = strstr(tmpl, "{id}");
    if (!hole) {
        fprintf(stderr, "curl_multi_jsmn: URL_TEMPLATE has no {id}\n");
        usage();
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "curl_multi_jsmn: curl_global_init failed\n");
        return 1;
    }
    if (conns == 0)
        conns = http2 ? 1 : 6;
    if (http2)
        add_all = 1;
    CURLM *multi = curl_multi_init();
    if (http2) {
        curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
        curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 100000L);
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conns);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conns);

    /* Keep at most N transfers in the multi handle (as curl's own
     * 10-at-a-time example does), adding the next id when one finishes;
     * --add-all adds every id up front and lets libcurl queue them. */
    size_t limit = add_all ? nreqs : (size_t)conns, next = 0;
    while (next < nreqs && next < limit)
        add_request(multi, &reqs[next++], tmpl, hole, cacert, http2, gzip);

    int failed = 0, running = 1;
    while (running) {
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) {
            fprintf(stderr, "curl_multi_jsmn: %s\n", curl_multi_strerror(mc));
            return 1;
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *easy = msg->easy_handle;
            struct request *r;
            long status = 0;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK) {
                fprintf(stderr, "curl_multi_jsmn: id %ld: %s\n", r->id,
                        curl_easy_strerror(msg->data.result));
            } else if (status != 200) {
                fprintf(stderr, "curl_multi_jsmn: id %ld: HTTP %ld\n", r->id, status);
            } else {
                r->name = find_name(r->body ? r->body : "", r->len);
                if (!r->name)
                    fprintf(stderr, "curl_multi_jsmn: id %ld: no top-level \"name\"\n", r->id);
            }
            free(r->body);
            r->body = NULL;
            curl_multi_remove_handle(multi, easy);
            curl_easy_cleanup(easy);
            if (next < nreqs) {
                add_request(multi, &reqs[next++], tmpl, hole, cacert, http2, gzip);
                running = 1;
            }
        }
        if (running) {
            mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);
            if (mc != CURLM_OK) {
                fprintf(stderr, "curl_multi_jsmn: %s\n", curl_multi_strerror(mc));
                return 1;
            }
        }
    }

    for (size_t i = 0; i < nreqs; i++) {
        if (reqs[i].name) {
            puts(reqs[i].name);
            free(reqs[i].name);
        } else {
            failed = 1;
        }
    }
    free(reqs);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed;
}

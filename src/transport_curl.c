/*
 * transport_curl - the same interface as transport_h1, with libcurl's
 * multi interface as the transport (make pokefetch-curl). Everything above
 * it is shared with the hand-written build: the scheduler, the streaming
 * extractor (fed from libcurl's write callback, so memory still does not
 * follow the body size), the output and the exit status. That makes a
 * comparison of the two builds a comparison of transports only.
 *
 * Mapping of pokefetch's options onto libcurl:
 *   -c N            CURLMOPT_MAX_TOTAL_CONNECTIONS and _MAX_HOST_CONNECTIONS
 *                   = N, and N easy handles, so at most N transfers run
 *   -p DEPTH        refused above 1: libcurl removed HTTP/1.1 pipelining
 *                   in 7.65.0 (max_pipeline below makes cli say so)
 *   --no-keepalive  CURLOPT_FORBID_REUSE + "Connection: close"
 *   --cacert FILE   CURLOPT_CAINFO; without it SSL_CERT_FILE/SSL_CERT_DIR
 *                   are passed as CAINFO/CAPATH, as the hand-written build
 *                   honours them through OpenSSL
 *   -k              CURLOPT_SSL_VERIFYPEER and _VERIFYHOST off
 *   --connect-timeout  CURLOPT_CONNECTTIMEOUT_MS (TCP + TLS)
 *   --idle-timeout  CURLOPT_LOW_SPEED_LIMIT 1 byte/s for that many seconds
 *                   (libcurl counts whole seconds)
 *   --compressed    CURLOPT_ACCEPT_ENCODING "gzip, deflate": libcurl
 *                   decodes; --max-body is counted in the write callback
 * TLS sessions are shared between handles through a CURLSH, so later
 * connections resume as the hand-written build's do. libcurl does not say
 * whether a handshake resumed, so the summary reports handshakes as
 * unknown for this build.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/opensslv.h>

#include "decode.h"
#include "jfield.h"
#include "loop.h"

#define MAX_CONNECT_FAILURES 3
#define URL_CAP (URL_MAX_HOST + 32 + URL_MAX_TARGET)

struct transfer {
    struct transport *t;
    CURL *easy;
    int active;
    uint32_t job;
    long status;        /* response code, once headers are in */
    int extracting;     /* 200: body bytes go to the extractor */
    int too_big;        /* decoded body went over max_body */
    uint64_t decoded;   /* body bytes after libcurl's decoding */
    struct jf_extractor jf;
    char value[JF_MAX_VALUE];
    char errbuf[CURL_ERROR_SIZE];
    char url[URL_CAP];
};

struct transport {
    const struct transport_config *cfg;
    const struct transport_events *ev;
    CURLM *multi;
    CURLSH *share;
    struct curl_slist *headers;
    struct transfer *xfers;
    unsigned n_xfers;
    unsigned n_active;
    /* scheme://authority of each origin; [0] is the template's. */
    char origin[TRANSPORT_MAX_ORIGINS][URL_MAX_HOST + 32];
    size_t origin_len[TRANSPORT_MAX_ORIGINS];
    unsigned n_origins;
    unsigned connect_failures_in_row;
    int fatal;
    struct transport_stats st;
};

static void
fatal(struct transport *t, const char *err)
{
    if (t->fatal)
        return;
    t->fatal = 1;
    t->ev->on_fatal(t->ev->owner, err);
}

/* Body bytes: to the extractor if the response is one we read. */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct transfer *x = arg;
    size_t len = size * nmemb;

    if (!x->status) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        x->extracting = x->status == 200;
        if (x->extracting)
            (void)jf_begin(&x->jf, x->t->cfg->field,
                           strlen(x->t->cfg->field));
    }
    x->decoded += len;
    if (x->decoded > x->t->cfg->max_body) {
        x->too_big = 1;
        return 0; /* makes libcurl stop the transfer: CURLE_WRITE_ERROR */
    }
    if (x->extracting)
        (void)jf_feed(&x->jf, data, len);
    return len;
}

static void
add_transfer_stats(struct transport *t, CURL *easy)
{
    curl_off_t body = 0;
    long headers = 0, connects = 0;

    curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &body);
    curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &headers);
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    /* libcurl counts the body after decoding; the bytes on the wire are
       not reported, so both figures here are decoded sizes. */
    t->st.bytes_rx += (uint64_t)body + (uint64_t)headers;
    t->st.conns_opened += (unsigned)connects;
}

/* One transfer is over: report it and free its handle for the next. */
static void
finished(struct transport *t, struct transfer *x, CURLcode code)
{
    struct fetch_result r;
    char err[CURL_ERROR_SIZE + 64];

    x->active = 0;
    t->n_active--;
    curl_multi_remove_handle(t->multi, x->easy);
    add_transfer_stats(t, x->easy);
    snprintf(err, sizeof err, "%s",
             x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));

    t->st.bytes_decoded += x->decoded;
    if (code == CURLE_WRITE_ERROR && x->too_big) {
        struct curl_header *ce = NULL;

        memset(&r, 0, sizeof r);
        r.retry_after_s = -1;
        (void)curl_easy_header(x->easy, "Content-Encoding", 0, CURLH_HEADER,
                               -1, &ce);
        decode_over_limit(err, sizeof err, ce ? ce->value : NULL,
                          t->cfg->max_body);
        r.status = (int)x->status;
        r.text = err;
        r.len = strlen(err);
        t->ev->on_result(t->ev->owner, x->job, &r);
        return;
    }
    switch (code) {
    case CURLE_OK:
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        t->ev->on_unanswered(t->ev->owner, x->job, 0, err);
        fatal(t, err);
        return;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
        t->ev->on_unanswered(t->ev->owner, x->job, 0, err);
        if (++t->connect_failures_in_row >= MAX_CONNECT_FAILURES)
            fatal(t, err);
        return;
    default:
        /* Reset, truncation, timeout: it may be this request's fault. */
        t->ev->on_unanswered(t->ev->owner, x->job, 1, err);
        return;
    }
    t->connect_failures_in_row = 0;
    memset(&r, 0, sizeof r);
    r.status = (int)x->status;
    r.retry_after_s = -1;
    {
        curl_off_t ra = 0;
        char *loc = NULL;

        /* libcurl reads both Retry-After forms; 0 means none given. */
        if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra) ==
                CURLE_OK &&
            ra > 0)
            r.retry_after_s = (int64_t)ra;
        if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc) ==
                CURLE_OK &&
            loc) {
            r.location = loc;
            r.location_len = strlen(loc);
        }
    }
    if (x->extracting) {
        enum jf_rc jr = jf_finish(&x->jf, x->value, sizeof x->value, &r.len);
        if (jr == JF_OK) {
            r.ok = x->jf.value_json ? FETCH_JSON : FETCH_STRING;
            r.text = x->value;
        } else {
            jf_explain(&x->jf, jr, t->cfg->field, err, sizeof err);
        }
    } else {
        snprintf(err, sizeof err, "HTTP status %ld", x->status);
    }
    if (!r.ok) {
        r.text = err;
        r.len = strlen(err);
    }
    t->ev->on_result(t->ev->owner, x->job, &r);
}

static int
setup_easy(struct transport *t, struct transfer *x)
{
    const struct transport_config *cfg = t->cfg;
    const char *cert_file = getenv("SSL_CERT_FILE");
    const char *cert_dir = getenv("SSL_CERT_DIR");
    CURL *e = curl_easy_init();

    if (!e)
        return -1;
    x->t = t;
    x->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_SHARE, t->share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!cfg->keep_alive)
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    if (cfg->compressed)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    if (cfg->cafile)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cafile);
    else if (cert_file || cert_dir) {
        curl_easy_setopt(e, CURLOPT_CAINFO, cert_file);
        curl_easy_setopt(e, CURLOPT_CAPATH, cert_dir);
    }
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->connect_timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)cfg->connect_timeout_ms);
    if (cfg->idle_timeout_ms > 0) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long)((cfg->idle_timeout_ms + 999) / 1000));
    }
    return 0;
}

static void
curl_close(struct transport *t)
{
    unsigned i;

    if (!t)
        return;
    for (i = 0; t->xfers && i < t->n_xfers; i++) {
        if (t->xfers[i].active)
            curl_multi_remove_handle(t->multi, t->xfers[i].easy);
        if (t->xfers[i].easy)
            curl_easy_cleanup(t->xfers[i].easy);
    }
    if (t->multi)
        curl_multi_cleanup(t->multi);
    if (t->share)
        curl_share_cleanup(t->share);
    curl_slist_free_all(t->headers);
    free(t->xfers);
    free(t);
    curl_global_cleanup();
}

static struct transport *
curl_open(const struct transport_config *cfg,
          const struct transport_events *ev, size_t jobs, char *err,
          size_t errcap)
{
    const struct url_template *u = cfg->tmpl;
    struct transport *t;
    unsigned i;
    size_t n;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errcap, "libcurl initialisation failed");
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        curl_global_cleanup();
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->cfg = cfg;
    t->ev = ev;
    n = (size_t)snprintf(t->origin[0], sizeof t->origin[0], "%s://",
                         u->tls ? "https" : "http");
    n += url_authority(u, cfg->url, t->origin[0] + n, sizeof t->origin[0] - n);
    t->origin_len[0] = n;
    t->n_origins = 1;

    t->n_xfers = cfg->connections;
    if (t->n_xfers > jobs)
        t->n_xfers = (unsigned)jobs;
    t->xfers = calloc(t->n_xfers, sizeof *t->xfers);
    t->multi = curl_multi_init();
    t->share = curl_share_init();
    t->headers = curl_slist_append(NULL, "Accept: application/json");
    if (t->headers && !cfg->keep_alive)
        t->headers = curl_slist_append(t->headers, "Connection: close");
    if (!t->xfers || !t->multi || !t->share || !t->headers) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)t->n_xfers);
    curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)t->n_xfers);
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)t->n_xfers);
    for (i = 0; i < t->n_xfers; i++) {
        if (setup_easy(t, &t->xfers[i]) < 0) {
            snprintf(err, errcap, "cannot create a libcurl handle");
            goto fail;
        }
    }
    if (cfg->insecure && u->tls)
        ev->on_warning(ev->owner, "warning: --insecure: the server's "
                                  "certificate is not verified");
    return t;
fail:
    curl_close(t);
    return NULL;
}

static void
curl_prepare(struct transport *t, size_t queued)
{
    (void)t;
    (void)queued; /* libcurl opens connections as transfers need them */
}

/* libcurl connects to any origin by URL: an origin is just its prefix. */
static int
curl_origin(struct transport *t, const struct url_ref *ref, const char *s,
            char *err, size_t errcap)
{
    char o[URL_MAX_HOST + 32];
    size_t n;
    unsigned i;

    n = (size_t)snprintf(o, sizeof o, "%s://", ref->tls ? "https" : "http");
    n += url_ref_authority(ref, s, o + n, sizeof o - n);
    for (i = 0; i < t->n_origins; i++)
        if (t->origin_len[i] == n && strncasecmp(t->origin[i], o, n) == 0)
            return (int)i;
    if (t->n_origins == TRANSPORT_MAX_ORIGINS) {
        snprintf(err, errcap, "redirected to more than %d hosts",
                 TRANSPORT_MAX_ORIGINS);
        return -1;
    }
    memcpy(t->origin[i], o, n);
    t->origin_len[i] = n;
    t->n_origins++;
    return (int)i;
}

static int
curl_submit(struct transport *t, uint32_t job, int origin, const char *target,
            size_t target_len)
{
    struct transfer *x = NULL;
    unsigned i;

    if (t->fatal)
        return -EPIPE;
    if (origin < 0 || (unsigned)origin >= t->n_origins)
        return -EINVAL;
    for (i = 0; i < t->n_xfers && !x; i++)
        if (!t->xfers[i].active)
            x = &t->xfers[i];
    if (!x)
        return -EAGAIN;
    if (t->origin_len[origin] + target_len + 2 > sizeof x->url)
        return -ENAMETOOLONG;
    memcpy(x->url, t->origin[origin], t->origin_len[origin]);
    memcpy(x->url + t->origin_len[origin], target, target_len);
    x->url[t->origin_len[origin] + target_len] = '\0';
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    x->job = job;
    x->status = 0;
    x->extracting = 0;
    x->too_big = 0;
    x->decoded = 0;
    x->errbuf[0] = '\0';
    if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK)
        return -ENOMEM;
    x->active = 1;
    t->n_active++;
    if (t->st.deepest_pipeline < 1)
        t->st.deepest_pipeline = 1;
    return 0;
}

/* Hand every finished transfer to the scheduler; returns how many. */
static unsigned
drain_messages(struct transport *t)
{
    CURLMsg *m;
    int left;
    unsigned n = 0;

    while ((m = curl_multi_info_read(t->multi, &left))) {
        struct transfer *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x && x->active) {
            finished(t, x, m->data.result);
            n++;
        }
    }
    return n;
}

static int
curl_wait(struct transport *t, int64_t deadline_ms)
{
    int running = 0, numfds = 0, timeout = 1000;
    long curl_timeout = -1;
    CURLMcode mc;

    mc = curl_multi_perform(t->multi, &running);
    if (mc != CURLM_OK)
        return -EIO;
    /* A finished transfer frees a slot: back to the scheduler to fill it
       before sleeping, or the next request waits out the poll. */
    if (drain_messages(t) > 0)
        return 0;
    /* With nothing active this still sleeps until the deadline: the
       scheduler may be waiting out a server's Retry-After. */
    curl_multi_timeout(t->multi, &curl_timeout);
    if (curl_timeout >= 0 && curl_timeout < timeout)
        timeout = (int)curl_timeout;
    if (deadline_ms >= 0) {
        int64_t left = deadline_ms - loop_now_ms();
        if (left < timeout)
            timeout = left < 0 ? 0 : (int)left;
    }
    mc = curl_multi_poll(t->multi, NULL, 0, timeout, &numfds);
    if (mc != CURLM_OK)
        return -EIO;
    mc = curl_multi_perform(t->multi, &running);
    if (mc != CURLM_OK)
        return -EIO;
    drain_messages(t);
    return 0;
}

static void
curl_abort(struct transport *t)
{
    unsigned i;

    for (i = 0; i < t->n_xfers; i++) {
        struct transfer *x = &t->xfers[i];

        if (!x->active)
            continue;
        x->active = 0;
        t->n_active--;
        curl_multi_remove_handle(t->multi, x->easy);
        t->ev->on_unanswered(t->ev->owner, x->job, 0, "aborted");
    }
}

static void
curl_stats(const struct transport *t, struct transport_stats *out)
{
    *out = t->st;
    out->handshakes_unknown = 1;
}

/* The OpenSSL that counts is libcurl's: only its headers are ours. */
static const char *
curl_version_text(char *out, size_t cap)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

    snprintf(out, cap,
             "transport: libcurl\n"
             "libcurl: built with %s, running %s\n"
             "OpenSSL: built with the headers of %s, running %s (libcurl's)\n",
             LIBCURL_VERSION, v->version, OPENSSL_VERSION_TEXT,
             v->ssl_version ? v->ssl_version : "none");
    return "libcurl";
}

static const struct transport_vt transport_curl = {
    "libcurl",   1,         curl_open,  curl_prepare, curl_origin,
    curl_submit, curl_wait, curl_abort, curl_stats,   curl_close,
    curl_version_text,
};

const struct transport_vt *const transport_default = &transport_curl;

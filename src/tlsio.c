/*
 * tlsio - OpenSSL client policy and per-connection TLS; see
 * include/tlsio.h for the contract. Everything OpenSSL-specific lives
 * here, so the connection code above it sees only enum io_rc.
 *
 * Why the details are as they are:
 *  - SSL_VERIFY_PEER must be set explicitly: a client's default is to go
 *    on whatever the verification result (SSL_CTX_set_verify(3)).
 *  - SSL_set1_host() makes verification check the name; SNI is a
 *    separate call, and is not sent for IP literals.
 *  - Tickets arrive after a TLS 1.3 handshake, during later reads, and
 *    reach the new-session callback only if client caching is on.
 *  - OpenSSL 3 reports a close without close_notify as SSL_ERROR_SSL with
 *    reason "unexpected eof while reading"; it is turned into IO_EOF with
 *    unclean_eof set, and the HTTP layer decides whether that truncated a
 *    message (it matters only for bodies delimited by the close).
 *  - The key log is process-wide state (below), not a field of the
 *    context: there is one SSLKEYLOGFILE per process, and libcurl's
 *    contexts, which tlsio does not make, must reach the same file.
 */
#include "tlsio.h"
#include "timeline.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static void
queue_text(char *err, size_t errcap, const char *what)
{
    unsigned long e = ERR_peek_last_error();

    if (e) {
        char buf[120];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, errcap, "%s: %s", what, buf);
    } else {
        snprintf(err, errcap, "%s", what);
    }
    ERR_clear_error();
}

/* The key log: fd -1 when off; failed is the errno of the first line
   that could not be written (-1: a short write), after which no more are
   tried, so the file never holds a line cut in two; what says where the
   name came from, for messages. */
static struct {
    int fd;
    int failed;
    char *file;
    const char *what;
} keylog = {-1, 0, NULL, NULL};

/*
 * OpenSSL's keylog callback: one line, without its newline, for each
 * secret as the handshake derives it. Line and newline leave in one
 * writev: with O_APPEND, runs that share a file do not cut each other's
 * lines. It runs inside SSL_do_handshake, whose caller reads errno after
 * SSL_ERROR_SYSCALL: errno is kept as it was.
 */
static void
keylog_line(const SSL *ssl, const char *line)
{
    struct iovec iov[2];
    int saved = errno;
    ssize_t n;

    (void)ssl;
    if (keylog.fd < 0 || keylog.failed)
        return;
    iov[0].iov_base = (char *)line;
    iov[0].iov_len = strlen(line);
    iov[1].iov_base = (char *)"\n";
    iov[1].iov_len = 1;
    do
        n = writev(keylog.fd, iov, 2);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        keylog.failed = errno;
    else if ((size_t)n != iov[0].iov_len + 1)
        keylog.failed = -1;
    errno = saved;
}

/*
 * file opened for appending, created 0600: whoever reads it can decrypt
 * the run's traffic. O_NONBLOCK only for the open: a FIFO that nobody
 * reads is refused (ENXIO) instead of hanging the run before it starts;
 * the writes then block as writes to a file do. Returns the fd, or -1
 * with errno.
 */
static int
open_append(const char *file)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK,
                  0600);
    int e;

    if (fd >= 0 && fcntl(fd, F_SETFL, O_APPEND) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int
tlsio_keylog_open(const char *path, const char **file, char *err,
                  size_t errcap)
{
    const char *env = getenv("SSLKEYLOGFILE");

    keylog.what = path ? "--keylog " : "SSLKEYLOGFILE=";
    if (!path)
        path = env && *env ? env : NULL;
    /* Copied before the variable goes: unsetenv may free its text. */
    if (path && !(keylog.file = strdup(path))) {
        snprintf(err, errcap, "%s%s: %s", keylog.what, path, strerror(ENOMEM));
        return -1;
    }
    unsetenv("SSLKEYLOGFILE");
    if (!keylog.file)
        return 0;
    keylog.fd = open_append(keylog.file);
    if (keylog.fd < 0) {
        snprintf(err, errcap, "%s%s: %s", keylog.what, keylog.file,
                 strerror(errno));
        free(keylog.file);
        keylog.file = NULL;
        return -1;
    }
    keylog.failed = 0;
    *file = keylog.file;
    return 1;
}

void
tlsio_keylog_attach(SSL_CTX *ctx)
{
    SSL_CTX_set_keylog_callback(ctx, keylog.fd >= 0 ? keylog_line : NULL);
}

int
tlsio_keylog_close(char *err, size_t errcap)
{
    int rc = 0;

    if (keylog.fd < 0)
        return 0;
    if (close(keylog.fd) < 0 && !keylog.failed)
        keylog.failed = errno;
    keylog.fd = -1;
    if (keylog.failed) {
        snprintf(err, errcap, "%s%s: cannot write: %s", keylog.what,
                 keylog.file,
                 keylog.failed > 0 ? strerror(keylog.failed) : "short write");
        rc = -1;
    }
    free(keylog.file);
    keylog.file = NULL;
    return rc;
}

static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tlsio_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

    if (!t)
        return 0;
    if (t->session)
        SSL_SESSION_free(t->session);
    t->session = sess;
    return 1; /* we keep the reference */
}

/* What a directory of the trust store is searched for: a certificate
   named by its subject hash, "5ad8a5d6.0" (openssl rehash). */
static int
is_hash_name(const char *name)
{
    int i;

    for (i = 0; i < 8; i++)
        if (!isxdigit((unsigned char)name[i]))
            return 0;
    if (name[8] != '.' || !isdigit((unsigned char)name[9]))
        return 0;
    for (i = 10; name[i]; i++)
        if (!isdigit((unsigned char)name[i]))
            return 0;
    return 1;
}

/* Whether one directory of the trust store has a certificate OpenSSL
   would look up. dir[0..len), not NUL-terminated (SSL_CERT_DIR is a
   ":"-separated list). */
static int
dir_has_ca(const char *dir, size_t len)
{
    char path[4096];
    struct dirent *d;
    DIR *dp;
    int found = 0;

    if (len == 0 || len >= sizeof path)
        return 0;
    memcpy(path, dir, len);
    path[len] = '\0';
    dp = opendir(path);
    if (!dp)
        return 0;
    while (!found && (d = readdir(dp)))
        found = is_hash_name(d->d_name);
    closedir(dp);
    return found;
}

/* The directories of the default store: SSL_CERT_DIR or OpenSSL's. */
static const char *
default_dirs(void)
{
    const char *env = getenv(X509_get_default_cert_dir_env());

    return env ? env : X509_get_default_cert_dir();
}

static const char *
default_file(void)
{
    const char *env = getenv(X509_get_default_cert_file_env());

    return env ? env : X509_get_default_cert_file();
}

/*
 * Whether the default store, once loaded, can verify anything: its file
 * is read at load time, so its certificates are in the store already;
 * its directories are searched at verification time, so they are looked
 * at here. An empty root has neither, and without this check the run
 * would end in "unable to get local issuer certificate", which does not
 * say what is missing.
 */
static int
default_store_has_ca(SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *objs =
        X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    const char *dirs = default_dirs(), *end;
    int i;

    for (i = 0; i < sk_X509_OBJECT_num(objs); i++)
        if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) ==
            X509_LU_X509)
            return 1;
    for (; *dirs; dirs = *end ? end + 1 : end) {
        end = strchr(dirs, ':');
        if (!end)
            end = dirs + strlen(dirs);
        if (dir_has_ca(dirs, (size_t)(end - dirs)))
            return 1;
    }
    return 0;
}

/* The bundle compiled in, into ctx's store. Returns 0, or -1 with err. */
static int
load_embedded(SSL_CTX *ctx, char *err, size_t errcap)
{
    const struct tlsio_ca_bundle *b = &tlsio_ca_bundle;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(b->pem, (int)b->len);
    unsigned n = 0;
    X509 *x;

    if (!bio) {
        queue_text(err, errcap, "the embedded CA bundle");
        return -1;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(store, x) == 1)
            n++;
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error(); /* the end of the text reads as "no start line" */
    if (n == 0) {
        snprintf(err, errcap,
                 "the embedded CA bundle (from %s) has no usable certificate",
                 b->file);
        return -1;
    }
    return 0;
}

/*
 * No CA file given: the default store, or the embedded bundle if that
 * holds no CA certificate, or an error that names the ways to give one.
 * With -k nothing is verified, so nothing is needed.
 */
static int
load_default(SSL_CTX *ctx, int insecure, char *err, size_t errcap)
{
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        queue_text(err, errcap, "cannot load the default trust store");
        return -1;
    }
    if (insecure || default_store_has_ca(ctx))
        return 0;
    if (tlsio_ca_bundle.pem)
        return load_embedded(ctx, err, errcap);
    /* The fix first: it must survive a long directory list being cut. */
    snprintf(err, errcap,
             "no CA certificate to verify with: give --cacert FILE, set "
             "SSL_CERT_FILE, or use a build with an embedded bundle (make "
             "static CA_BUNDLE=FILE); none in %s or %s",
             default_file(), default_dirs());
    return -1;
}

int
tlsio_ctx_open(struct tlsio_ctx *t, const char *cafile, int insecure,
               char *err, size_t errcap)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX *ctx;

    memset(t, 0, sizeof *t);
    t->insecure = insecure;
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        queue_text(err, errcap, "cannot create TLS context");
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Read what the socket has, not one record header and then its body:
       half the read() calls for a stream of full records. What OpenSSL
       then holds unprocessed is seen by SSL_has_pending (tlsio_pending). */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       NULL);
    if (cafile) {
        if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
            char what[TLSIO_ERR_LEN];
            /* cli has checked that it opens and holds a PEM block: what
               is left is OpenSSL's reason (a block that does not parse). */
            snprintf(what, sizeof what,
                     "--cacert %s: not a usable PEM CA file", cafile);
            queue_text(err, errcap, what);
            SSL_CTX_free(ctx);
            return -1;
        }
    } else if (load_default(ctx, insecure, err, errcap) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    /* Note the reversed convention: 0 is success (SSL_CTX_set_alpn_protos). */
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1) != 0) {
        queue_text(err, errcap, "cannot set ALPN");
        SSL_CTX_free(ctx);
        return -1;
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
                                            SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, new_session);
    tlsio_keylog_attach(ctx);
    SSL_CTX_set_app_data(ctx, t);
    t->ctx = ctx;
    return 0;
}

void
tlsio_ctx_close(struct tlsio_ctx *t)
{
    if (t->session)
        SSL_SESSION_free(t->session);
    if (t->ctx)
        SSL_CTX_free(t->ctx);
    t->session = NULL;
    t->ctx = NULL;
}

int
tlsio_open(struct tlsio *s, struct tlsio_ctx *t, int fd, const char *host,
           int host_is_ip, char *err, size_t errcap)
{
    SSL *ssl;

    s->unclean_eof = 0;
    ERR_clear_error();
    ssl = SSL_new(t->ctx);
    if (!ssl) {
        queue_text(err, errcap, "cannot create TLS connection");
        return -1;
    }
    if (SSL_set_fd(ssl, fd) != 1)
        goto fail;
    SSL_set_connect_state(ssl);
    if (host_is_ip) {
        if (!t->insecure &&
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1)
            goto fail;
    } else {
        if (SSL_set_tlsext_host_name(ssl, host) != 1)
            goto fail;
        if (!t->insecure && SSL_set1_host(ssl, host) != 1)
            goto fail;
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (t->session && SSL_SESSION_is_resumable(t->session))
        SSL_set_session(ssl, t->session);
    s->ssl = ssl;
    return 0;
fail:
    queue_text(err, errcap, "cannot set up TLS for this host");
    SSL_free(ssl);
    return -1;
}

/* Map the result of an SSL_* call that returned r <= 0. */
static enum io_rc
map_error(struct tlsio *s, int r, const char *what, char *err, size_t errcap)
{
    int e = SSL_get_error(s->ssl, r);
    unsigned long q;

    switch (e) {
    case SSL_ERROR_WANT_READ:
        return IO_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return IO_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return IO_EOF;
    case SSL_ERROR_SYSCALL:
        if (errno) {
            snprintf(err, errcap, "%s: %s", what, strerror(errno));
        } else {
            s->unclean_eof = 1;
            ERR_clear_error();
            return IO_EOF;
        }
        ERR_clear_error();
        return IO_ERR;
    case SSL_ERROR_SSL:
        q = ERR_peek_error();
        if (ERR_GET_LIB(q) == ERR_LIB_SSL &&
            ERR_GET_REASON(q) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            s->unclean_eof = 1;
            ERR_clear_error();
            return IO_EOF;
        }
        if (SSL_get_verify_result(s->ssl) != X509_V_OK) {
            snprintf(
                err, errcap, "certificate verify failed: %s",
                X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
            ERR_clear_error();
            return IO_ERR;
        }
        queue_text(err, errcap, what);
        return IO_ERR;
    default:
        queue_text(err, errcap, what);
        return IO_ERR;
    }
}

enum io_rc
tlsio_handshake(struct tlsio *s, char *err, size_t errcap)
{
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_do_handshake(s->ssl);
    if (r == 1)
        return IO_OK;
    return map_error(s, r, "TLS handshake", err, errcap);
}

int
tlsio_verify_failed(const struct tlsio *s)
{
    return s->ssl && SSL_get_verify_result(s->ssl) != X509_V_OK;
}

enum io_rc
tlsio_read(struct tlsio *s, char *buf, size_t cap, size_t *n, char *err,
           size_t errcap)
{
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_read_ex(s->ssl, buf, cap, n);
    if (r == 1)
        return IO_OK;
    *n = 0;
    return map_error(s, r, "TLS read", err, errcap);
}

enum io_rc
tlsio_write(struct tlsio *s, const char *buf, size_t len, size_t *n, char *err,
            size_t errcap)
{
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_write_ex(s->ssl, buf, len, n);
    if (r == 1)
        return IO_OK;
    *n = 0;
    return map_error(s, r, "TLS write", err, errcap);
}

int
tlsio_pending(const struct tlsio *s)
{
    return SSL_has_pending(s->ssl);
}

int
tlsio_resumed(const struct tlsio *s)
{
    return SSL_session_reused(s->ssl);
}

/* A name the certificate gives, as one line ("/CN=x/O=y"), or "". */
static void
name_line(X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    if (name && !X509_NAME_oneline(name, out, (int)cap))
        out[0] = '\0';
}

void
tlsio_info(const struct tlsio *s, struct tl_tls_info *out)
{
    const unsigned char *alpn = NULL;
    unsigned alpn_len = 0;
    static char alpn_text[32];
    X509 *leaf = SSL_get0_peer_certificate(s->ssl);
    const char *group;

    out->version = SSL_get_version(s->ssl);
    out->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(s->ssl));
    group = SSL_group_to_name(s->ssl, SSL_get_negotiated_group(s->ssl));
    out->group = group ? group : "";
    SSL_get0_alpn_selected(s->ssl, &alpn, &alpn_len);
    /* Static: the info is read during the event that carries it. */
    snprintf(alpn_text, sizeof alpn_text, "%.*s", (int)alpn_len,
             alpn ? (const char *)alpn : "");
    out->alpn = alpn_text;
    name_line(leaf ? X509_get_subject_name(leaf) : NULL, out->subject,
              sizeof out->subject);
    name_line(leaf ? X509_get_issuer_name(leaf) : NULL, out->issuer,
              sizeof out->issuer);
    out->resumed = SSL_session_reused(s->ssl);
}

void
tlsio_close(struct tlsio *s, int polite)
{
    if (!s->ssl)
        return;
    /* One non-blocking attempt: a peer that cannot take close_notify now
       gets the TCP close instead. Never after a fatal error (SSL_shutdown
       must not be called after SSL_ERROR_SYSCALL/SSL). */
    if (polite) {
        ERR_clear_error();
        (void)SSL_shutdown(s->ssl);
    }
    ERR_clear_error();
    SSL_free(s->ssl);
    s->ssl = NULL;
}

void
tlsio_version(char *out, size_t cap)
{
    const struct tlsio_ca_bundle *b = &tlsio_ca_bundle;
    int n = snprintf(out, cap, "OpenSSL: built with %s, running %s\n",
                     OPENSSL_VERSION_TEXT, OpenSSL_version(OPENSSL_VERSION));

    if (n < 0 || (size_t)n >= cap)
        return;
    if (b->pem)
        snprintf(out + n, cap - (size_t)n,
                 "CA bundle: embedded, %u certificate%s from %s (%s)\n",
                 b->n_certs, b->n_certs == 1 ? "" : "s", b->file, b->date);
    else
        snprintf(out + n, cap - (size_t)n, "CA bundle: none embedded\n");
}

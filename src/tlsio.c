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
#include "url.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
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

/*
 * The session store (tlsio.h): entries in the order they came, oldest
 * first, each a session as OpenSSL encodes it, so that a session is
 * decoded only for the connection that takes it. dirty: changed since it
 * was read, so worth writing.
 */
struct stored {
    char key[TLSSESS_KEY_MAX + 1];
    int64_t expires;
    size_t len;
    unsigned char *der;
};

static struct {
    char *file;
    struct stored *e; /* TLSIO_SESSIONS_MAX of them */
    unsigned n;
    int dirty;
} sessions;

static void
store_drop(unsigned i)
{
    free(sessions.e[i].der);
    memmove(&sessions.e[i], &sessions.e[i + 1],
            (sessions.n - i - 1) * sizeof sessions.e[0]);
    sessions.n--;
    sessions.dirty = 1;
}

/* Entry i is under key (key_len bytes, not NUL-terminated: it may point
   into a line of the file). */
static int
stored_under(unsigned i, const char *key, size_t key_len)
{
    return strlen(sessions.e[i].key) == key_len &&
           memcmp(sessions.e[i].key, key, key_len) == 0;
}

/* Add a copy of der under key: the oldest of its key goes if the key has
   its share, else the oldest of all if the store is full. */
static void
store_add(const char *key, size_t key_len, int64_t expires,
          const unsigned char *der, size_t len)
{
    unsigned i, same = 0, oldest = sessions.n;
    struct stored *s;

    for (i = 0; i < sessions.n; i++)
        if (stored_under(i, key, key_len) && same++ == 0)
            oldest = i;
    if (same >= TLSIO_SESSIONS_PER_KEY)
        store_drop(oldest);
    else if (sessions.n == TLSIO_SESSIONS_MAX)
        store_drop(0);
    s = &sessions.e[sessions.n];
    if (key_len > TLSSESS_KEY_MAX || !(s->der = malloc(len)))
        return;
    memcpy(s->key, key, key_len);
    s->key[key_len] = '\0';
    memcpy(s->der, der, len);
    s->len = len;
    s->expires = expires;
    sessions.n++;
    sessions.dirty = 1;
}

/* When the server stops taking sess: the client's timeout, or sooner the
   lifetime the server gave the ticket (nginx: ssl_session_timeout). */
static int64_t
session_expires(const SSL_SESSION *sess)
{
    int64_t t = (int64_t)SSL_SESSION_get_timeout(sess);
    unsigned long hint = SSL_SESSION_get_ticket_lifetime_hint(sess);

    if (hint > 0 && (int64_t)hint < t)
        t = (int64_t)hint;
    return (int64_t)SSL_SESSION_get_time(sess) + t;
}

/* der as a session OpenSSL would offer before `now`, or NULL. */
static SSL_SESSION *
session_decode(const unsigned char *der, size_t len, int64_t now)
{
    const unsigned char *p = der;
    SSL_SESSION *sess = d2i_SSL_SESSION(NULL, &p, (long)len);

    if (sess && (p != der + len || !SSL_SESSION_is_resumable(sess) ||
                 session_expires(sess) <= now)) {
        SSL_SESSION_free(sess);
        sess = NULL;
    }
    ERR_clear_error();
    return sess;
}

/* A fresh ticket of a connection under key, into the store. */
static void
store_put(const char *key, SSL_SESSION *sess)
{
    unsigned char buf[TLSSESS_DER_MAX], *p = buf;
    int len = i2d_SSL_SESSION(sess, NULL);

    if (len <= 0 || len > TLSSESS_DER_MAX || !SSL_SESSION_is_resumable(sess))
        return;
    if (i2d_SSL_SESSION(sess, &p) != len)
        return;
    store_add(key, strlen(key), session_expires(sess), buf, (size_t)len);
}

/* The newest session stored under key that is still good, taken out of
   the store (a ticket is used once), or NULL. */
static SSL_SESSION *
store_take(const char *key)
{
    int64_t now = (int64_t)time(NULL);
    SSL_SESSION *sess = NULL;
    unsigned i;

    for (i = sessions.n; i-- > 0 && !sess;) {
        if (!stored_under(i, key, strlen(key)))
            continue;
        if (sessions.e[i].expires > now)
            sess = session_decode(sessions.e[i].der, sessions.e[i].len, now);
        store_drop(i);
    }
    return sess;
}

/* The entries of text[0..len) after its first line, TLSSESS_MAGIC;
   whatever is not a good entry is left out, and makes the store dirty so
   that the file is written again without it. Returns -1 if text is not
   empty and not such a file: it is someone else's, and must not be
   written over. */
static int
store_load(const char *text, size_t len)
{
    static unsigned char der[TLSSESS_DER_MAX];
    int64_t now = (int64_t)time(NULL);
    const char *p = text, *end = text + len, *nl;
    struct tlssess_entry e;
    SSL_SESSION *sess;
    size_t magic = strlen(TLSSESS_MAGIC);

    if (len == 0)
        return 0;
    if (len < magic + 1 || memcmp(text, TLSSESS_MAGIC "\n", magic + 1) != 0)
        return -1;
    for (p += magic + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end; /* cut short: not an entry */
        sess = NULL;
        if (nl < end && tlssess_parse(p, (size_t)(nl - p), &e, der) == 0 &&
            e.expires > now)
            sess = session_decode(der, e.der_len, now);
        if (sess)
            store_add(e.key, e.key_len, e.expires, der, e.der_len);
        else
            sessions.dirty = 1;
        SSL_SESSION_free(sess);
    }
    return 0;
}

/* All of file (up to cap bytes; the rest is not read) into a new buffer.
   Returns its length, or -1 with errno; *out NULL if the file is empty. */
static long
read_file(const char *file, size_t cap, char **out)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    char *buf;
    size_t n = 0;
    ssize_t r = 1;
    int e;

    *out = NULL;
    if (fd < 0)
        return -1;
    if (!(buf = malloc(cap))) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    while (n < cap && r > 0) {
        r = read(fd, buf + n, cap - n);
        if (r > 0)
            n += (size_t)r;
        else if (r < 0 && errno == EINTR)
            r = 1;
    }
    e = errno;
    close(fd);
    if (r < 0) {
        free(buf);
        errno = e;
        return -1;
    }
    *out = buf;
    return (long)n;
}

int
tlsio_sessions_open(const char *path, char *err, size_t errcap)
{
    size_t cap = (size_t)TLSIO_SESSIONS_MAX * (TLSSESS_LINE_MAX + 1) + 64;
    char *text;
    long n;

    sessions.e = calloc(TLSIO_SESSIONS_MAX, sizeof sessions.e[0]);
    sessions.file = strdup(path);
    if (!sessions.e || !sessions.file) {
        snprintf(err, errcap, "--tls-sessions %s: %s", path, strerror(ENOMEM));
        tlsio_sessions_discard();
        return -1;
    }
    sessions.n = 0;
    sessions.dirty = 0;
    n = read_file(path, cap, &text);
    if (n < 0 && errno != ENOENT) {
        snprintf(err, errcap, "--tls-sessions %s: cannot read: %s", path,
                 strerror(errno));
        tlsio_sessions_discard();
        return -1;
    }
    if (n >= 0 && store_load(text, (size_t)n) < 0) {
        snprintf(err, errcap,
                 "--tls-sessions %s: not a TLS session file of pokefetch's "
                 "(its first line is not \"" TLSSESS_MAGIC "\"): not "
                 "written over",
                 path);
        free(text);
        tlsio_sessions_discard();
        return -1;
    }
    free(text);
    return 0;
}

/* Write all of buf to fd. Returns 0, or -1 with errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The store's text into fd: the magic line, then each entry not expired.
   Returns 0, or -1 with errno. */
static int
store_write(int fd)
{
    static char line[TLSSESS_LINE_MAX + 2];
    int64_t now = (int64_t)time(NULL);
    size_t n;
    unsigned i;

    if (write_all(fd, TLSSESS_MAGIC "\n", strlen(TLSSESS_MAGIC) + 1) < 0)
        return -1;
    for (i = 0; i < sessions.n; i++) {
        const struct stored *s = &sessions.e[i];

        if (s->expires <= now)
            continue;
        n = tlssess_format(line, sizeof line - 1, s->expires, s->key,
                           strlen(s->key), s->der, s->len);
        if (n == 0)
            continue;
        line[n++] = '\n';
        if (write_all(fd, line, n) < 0)
            return -1;
    }
    return 0;
}

/* The store into a new file beside sessions.file, renamed over it: a reader
   sees the old file or the new one, never half of one. mkstemp makes it
   0600. Returns 0, or -1 with errno. */
static int
store_save(void)
{
    size_t len = strlen(sessions.file);
    char *tmp = malloc(len + 8);
    int fd, e;

    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(tmp, sessions.file, len);
    memcpy(tmp + len, ".XXXXXX", 8);
    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        free(tmp);
        errno = e;
        return -1;
    }
    if (store_write(fd) < 0 || fsync(fd) < 0) {
        e = errno;
        close(fd);
        goto fail;
    }
    if (close(fd) < 0 || rename(tmp, sessions.file) < 0) {
        e = errno;
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    unlink(tmp);
    free(tmp);
    errno = e;
    return -1;
}

void
tlsio_sessions_discard(void)
{
    while (sessions.n > 0)
        free(sessions.e[--sessions.n].der);
    free(sessions.e);
    free(sessions.file);
    sessions.e = NULL;
    sessions.file = NULL;
}

int
tlsio_sessions_close(char *err, size_t errcap)
{
    int rc = 0;

    if (!sessions.file)
        return 0;
    if (sessions.dirty && store_save() < 0) {
        snprintf(err, errcap, "--tls-sessions %s: cannot write: %s",
                 sessions.file, strerror(errno));
        rc = -1;
    }
    tlsio_sessions_discard();
    return rc;
}

/* What verifies this context's peers, for the store's key: "default", or
   the SHA-256 of the --cacert path, a NUL and the file's content (another
   file, or the same file changed, is another trust store). Returns 0, or
   -1 if the file cannot be read. */
static int
trust_id(const char *cafile, char *out, size_t cap)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[4096];
    unsigned mdlen = 0, i;
    EVP_MD_CTX *h;
    BIO *bio;
    int n, ok;

    if (!cafile) {
        snprintf(out, cap, "default");
        return 0;
    }
    if (!(bio = BIO_new_file(cafile, "rb")))
        return -1;
    h = EVP_MD_CTX_new();
    ok = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 &&
         EVP_DigestUpdate(h, cafile, strlen(cafile) + 1) == 1;
    while (ok && (n = BIO_read(bio, buf, sizeof buf)) > 0)
        ok = EVP_DigestUpdate(h, buf, (size_t)n) == 1;
    ok = ok && EVP_DigestFinal_ex(h, md, &mdlen) == 1 && cap > 2 * mdlen;
    EVP_MD_CTX_free(h);
    BIO_free(bio);
    ERR_clear_error();
    for (i = 0; ok && i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return ok ? 0 : -1;
}

void
tlsio_ctx_origin(struct tlsio_ctx *t, const char *host, unsigned port,
                 int host_is_ip)
{
    char trust[2 * EVP_MAX_MD_SIZE + 1];

    t->key[0] = '\0';
    if (!sessions.file || t->insecure ||
        trust_id(t->cafile, trust, sizeof trust) < 0)
        return;
    if (tlssess_key(t->key, sizeof t->key, host, port,
                    host_is_ip ? NULL : host, trust) == 0)
        t->key[0] = '\0';
}

static int
new_session(SSL *ssl, SSL_SESSION *sess)
{
    struct tlsio_ctx *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    struct tlsio *s = SSL_get_app_data(ssl);

    if (s)
        s->tickets++;
    if (!t)
        return 0;
    if (t->key[0]) {
        store_put(t->key, sess);
        return 0; /* the store has its own copy */
    }
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
    t->cafile = cafile;
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
tlsio_cert_name(const char *host, char *out, size_t cap)
{
    size_t n = strlen(host);

    if (n > 1 && host[n - 1] == '.')
        n--;
    if (n >= cap)
        return 0;
    memcpy(out, host, n);
    out[n] = '\0';
    return 1;
}

int
tlsio_open(struct tlsio *s, struct tlsio_ctx *t, int fd, const char *host,
           int host_is_ip, char *err, size_t errcap)
{
    SSL *ssl;

    s->unclean_eof = 0;
    s->tickets = 0;
    ERR_clear_error();
    ssl = SSL_new(t->ctx);
    if (!ssl) {
        queue_text(err, errcap, "cannot create TLS connection");
        return -1;
    }
    SSL_set_app_data(ssl, s); /* new_session counts its tickets */
    if (SSL_set_fd(ssl, fd) != 1)
        goto fail;
    SSL_set_connect_state(ssl);
    if (host_is_ip) {
        if (!t->insecure &&
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1)
            goto fail;
    } else {
        char name[URL_MAX_HOST + 1];

        if (!tlsio_cert_name(host, name, sizeof name) ||
            SSL_set_tlsext_host_name(ssl, name) != 1)
            goto fail;
        if (!t->insecure && SSL_set1_host(ssl, name) != 1)
            goto fail;
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    if (t->key[0]) {
        SSL_SESSION *sess = store_take(t->key);

        if (sess) /* SSL_set_session takes a reference of its own */
            SSL_set_session(ssl, sess);
        SSL_SESSION_free(sess);
    } else if (t->session && SSL_SESSION_is_resumable(t->session)) {
        SSL_set_session(ssl, t->session);
    }
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

/* Before an SSL_*_ex call: map_error reads OpenSSL's queue and errno. */
static void
clear_errors(void)
{
    ERR_clear_error();
    errno = 0;
}

/* What an SSL_*_ex call that returned r, moving *n bytes, means. */
static enum io_rc
ex_result(struct tlsio *s, int r, size_t *n, const char *what, char *err,
          size_t errcap)
{
    if (r == 1)
        return IO_OK;
    *n = 0;
    return map_error(s, r, what, err, errcap);
}

enum io_rc
tlsio_read(struct tlsio *s, char *buf, size_t cap, size_t *n, char *err,
           size_t errcap)
{
    clear_errors();
    return ex_result(s, SSL_read_ex(s->ssl, buf, cap, n), n, "TLS read", err,
                     errcap);
}

enum io_rc
tlsio_write(struct tlsio *s, const char *buf, size_t len, size_t *n, char *err,
            size_t errcap)
{
    clear_errors();
    return ex_result(s, SSL_write_ex(s->ssl, buf, len, n), n, "TLS write", err,
                     errcap);
}

size_t
tlsio_early_budget(const struct tlsio *s)
{
    const SSL_SESSION *sess = SSL_get0_session(s->ssl);

    return sess ? SSL_SESSION_get_max_early_data(sess) : 0;
}

enum io_rc
tlsio_write_early(struct tlsio *s, const char *buf, size_t len, size_t *n,
                  char *err, size_t errcap)
{
    clear_errors();
    return ex_result(s, SSL_write_early_data(s->ssl, buf, len, n), n,
                     "TLS early data", err, errcap);
}

enum tlsio_early
tlsio_early_status(const struct tlsio *s)
{
    switch (SSL_get_early_data_status(s->ssl)) {
    case SSL_EARLY_DATA_ACCEPTED:
        return TLSIO_EARLY_ACCEPTED;
    case SSL_EARLY_DATA_REJECTED:
        return TLSIO_EARLY_REJECTED;
    default:
        return TLSIO_EARLY_NONE;
    }
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

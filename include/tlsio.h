/*
 * tlsio - the TLS client policy (one SSL_CTX) and each connection's SSL
 * object: handshake, read, write, with OpenSSL's WANT_READ / WANT_WRITE
 * mapped onto enum io_rc. It never prints and never exits; the reason for
 * a failure is copied from OpenSSL into the caller's err buffer at the
 * moment it happens.
 *
 * Policy (tlsio_ctx_open): TLS 1.2 minimum; ALPN offers only "http/1.1";
 * peer verification against, in this order: the CA file given, or else
 * the default trust store (OpenSSL's default file and directory, or
 * SSL_CERT_FILE and SSL_CERT_DIR), or else, if that holds no CA
 * certificate, the bundle compiled in at build time (tlsio_ca_bundle),
 * or else nothing: the context is refused with a reason that names the
 * fix, before any connection is made;
 * host name (or, for an IP literal, IP address) checked against the
 * certificate; SNI sent for names, not for IP literals (RFC 6066 sec. 3).
 * A client session cache holds the newest session ticket, offered by the
 * next connection to the same host (resumption saves the certificate
 * transfer and its verification, not a round trip); with a session store
 * (tlsio_sessions_open), the store holds them instead, each used once.
 *
 * Rules the caller follows (SSL_write(3), SSL_get_error(3)):
 *  - after IO_WANT_*, call the same function again with the same bytes
 *    (the buffer may move: SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
 *  - a read can want to write and a write can want to read;
 *  - after a read, tlsio_pending() says whether OpenSSL still holds
 *    bytes that epoll cannot announce.
 */
#ifndef POKEFETCH_TLSIO_H
#define POKEFETCH_TLSIO_H

#include <stddef.h>

#include "net.h"
#include "tlssess.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;

#define TLSIO_ERR_LEN 160

/*
 * The CA bundle compiled in (make CA_BUNDLE=FILE; src/embed-ca writes the
 * object that defines it): the PEM text of FILE, where it came from and
 * when, and how many certificates it holds. pem is NULL when none is.
 */
struct tlsio_ca_bundle {
    const unsigned char *pem;
    size_t len;
    const char *file; /* its absolute path at build time */
    const char *date; /* its mtime, "YYYY-MM-DD HH:MM:SS UTC" */
    unsigned n_certs; /* its "BEGIN CERTIFICATE" blocks */
};
extern const struct tlsio_ca_bundle tlsio_ca_bundle;

struct tlsio_ctx {
    SSL_CTX *ctx;
    SSL_SESSION *session; /* newest ticket, for the next connection */
    int insecure;
    const char *cafile;
    /* The session store's key for this context's connections
       (tlsio_ctx_origin), "" when they do not use the store. */
    char key[TLSSESS_KEY_MAX + 1];
};

struct tlsio {
    SSL *ssl;
    int unclean_eof;  /* the peer closed without close_notify */
    unsigned tickets; /* session tickets the server sent on it */
};

/*
 * Set the policy. cafile: NULL for the default trust store (or the
 * embedded bundle, above). insecure: skip verification (the caller says
 * so to the user); then no trust store is needed. Returns 0, or -1 with
 * the reason in err; with no CA certificate anywhere, the reason starts
 * "no CA certificate to verify with:" and names --cacert, SSL_CERT_FILE
 * and CA_BUNDLE.
 */
int tlsio_ctx_open(struct tlsio_ctx *t, const char *cafile, int insecure,
                   char *err, size_t errcap);
void tlsio_ctx_close(struct tlsio_ctx *t);

/*
 * The context's connections all go to host:port (host_is_ip: a literal,
 * sent no SNI): with a session store open and the peer verified, they
 * take their sessions from the store and give it the tickets they get.
 * Otherwise (no store, -k, a --cacert that cannot be read to hash it)
 * the context keeps its newest ticket as before.
 */
void tlsio_ctx_origin(struct tlsio_ctx *t, const char *host, unsigned port,
                      int host_is_ip);

/*
 * Prepare TLS over the connected socket fd for host (NUL-terminated;
 * host_is_ip for literals). Returns 0, or -1 with the reason in err.
 */
int tlsio_open(struct tlsio *s, struct tlsio_ctx *t, int fd, const char *host,
               int host_is_ip, char *err, size_t errcap);

/*
 * host as SNI and the certificate know it: an absolute name's trailing
 * dot ("localhost.") is no part of the name a certificate holds, and SNI
 * is sent without it (RFC 6066 sec. 3), as browsers do. Returns 1, or 0
 * if it does not fit in cap.
 */
int tlsio_cert_name(const char *host, char *out, size_t cap);

/* Drive the handshake: IO_OK when done, IO_WANT_* or IO_ERR/IO_EOF (with
   err: a verification failure names OpenSSL's reason). */
enum io_rc tlsio_handshake(struct tlsio *s, char *err, size_t errcap);

/* True if the handshake failed for lack of a trusted certificate; such a
   failure repeats on every connection and is not worth retrying. */
int tlsio_verify_failed(const struct tlsio *s);

enum io_rc tlsio_read(struct tlsio *s, char *buf, size_t cap, size_t *n,
                      char *err, size_t errcap);
enum io_rc tlsio_write(struct tlsio *s, const char *buf, size_t len, size_t *n,
                       char *err, size_t errcap);

/*
 * TLS 1.3 early data (0-RTT, RFC 8446 sec. 2.3), between tlsio_open and
 * the handshake. tlsio_early_budget: how many bytes the session this
 * connection offers lets it send before the handshake (the ticket's
 * max_early_data), 0 when it offers none or one without early data.
 * tlsio_write_early starts the handshake instead of tlsio_handshake: it
 * sends the ClientHello, then buf as early data (n: bytes taken; after
 * IO_WANT_*, call it again with the same bytes); once all is written,
 * tlsio_handshake goes on as usual. tlsio_early_status, once the
 * handshake is done, says whether the server took those bytes.
 */
enum tlsio_early {
    TLSIO_EARLY_NONE = 0, /* none was sent */
    TLSIO_EARLY_ACCEPTED, /* the server read them: they are done */
    TLSIO_EARLY_REJECTED, /* it dropped them: they must go again */
};
size_t tlsio_early_budget(const struct tlsio *s);
enum io_rc tlsio_write_early(struct tlsio *s, const char *buf, size_t len,
                             size_t *n, char *err, size_t errcap);
enum tlsio_early tlsio_early_status(const struct tlsio *s);

/* OpenSSL holds decrypted or undecrypted bytes not yet read. */
int tlsio_pending(const struct tlsio *s);

/* The handshake resumed an earlier session. */
int tlsio_resumed(const struct tlsio *s);

/* What the handshake agreed (version, cipher, group, ALPN, the
   certificate's subject and issuer), for -v. Strings live until the
   next call. */
struct tl_tls_info;
void tlsio_info(const struct tlsio *s, struct tl_tls_info *out);

/* Send close_notify if it can go without waiting, then free. Safe on a
   closed or never opened tlsio. */
void tlsio_close(struct tlsio *s, int polite);

/* For --version: the OpenSSL this was built with and runs with, and the
   embedded CA bundle (or "none"), as two lines in out. */
void tlsio_version(char *out, size_t cap);

/*
 * The key log: the secrets of every TLS connection of the run, one line
 * each in the NSS key log format (as OpenSSL's keylog callback gives them:
 * "CLIENT_RANDOM ...", "CLIENT_TRAFFIC_SECRET_0 ..."), so that Wireshark or
 * tshark can decrypt a capture of the run. One file for the process, as
 * the SSLKEYLOGFILE variable it follows is one: every SSL_CTX of the run
 * writes to it, those tlsio_ctx_open makes and any a library makes
 * (tlsio_keylog_attach). Each line is written by itself with one write,
 * unbuffered, as its handshake makes it: the file is complete up to the
 * last handshake even if the process is killed.
 *
 * tlsio_keylog_open: path is --keylog's FILE, or NULL to use SSLKEYLOGFILE
 * (unset or empty: no key log). The variable is removed from the
 * environment either way, so no library opens a file of its own from it
 * (libcurl reads it in curl_global_init): the lines go to one file, once.
 * The file is opened for appending, created with mode 0600, close-on-exec.
 * Returns 1 with the file's name in *file (valid until tlsio_keylog_close),
 * 0 if no key log was asked for, -1 with "--keylog FILE: reason" (or
 * "SSLKEYLOGFILE=FILE: reason") in err. Call it before any tlsio_ctx_open.
 */
int tlsio_keylog_open(const char *path, const char **file, char *err,
                      size_t errcap);

/* Make ctx write its secrets to the key log (or nowhere, if it is off),
   replacing any keylog callback set before. tlsio_ctx_open does this. */
void tlsio_keylog_attach(SSL_CTX *ctx);

/* Close the key log, after the last connection. Returns 0, or -1 with the
   reason in err if a line could not be written (the log is incomplete:
   the lines after the first failure are not in it). */
int tlsio_keylog_close(char *err, size_t errcap);

/*
 * The session store: the TLS sessions of --tls-sessions FILE (its format:
 * include/tlssess.h), loaded at start and saved at the end, so that a
 * later run resumes where this one left off. Each session is offered to
 * one connection only (TLS 1.3 servers may refuse a ticket used twice),
 * the newest first; the store keeps at most TLSIO_SESSIONS_PER_KEY per
 * key (the oldest go first) and TLSIO_SESSIONS_MAX in all. One store for
 * the process, like the key log.
 *
 * tlsio_sessions_open: a file that does not exist is an empty store; a
 * line that is not an entry, an entry that has expired or whose session
 * OpenSSL cannot decode, or a file whose first line is not TLSSESS_MAGIC,
 * is left out (and the file is written again at the end). Returns 0, or
 * -1 with "--tls-sessions FILE: reason" in err when the file exists but
 * cannot be read. Call it before any tlsio_ctx_origin.
 *
 * tlsio_sessions_close: if the store changed, write it to a new file
 * beside FILE (mode 0600: a session resumes a connection to the server as
 * this client) and rename that over FILE; then free the store. Returns 0
 * (also with no store), or -1 with the reason in err.
 */
#define TLSIO_SESSIONS_PER_KEY 16
#define TLSIO_SESSIONS_MAX 256
int tlsio_sessions_open(const char *path, char *err, size_t errcap);
int tlsio_sessions_close(char *err, size_t errcap);
/* Free the store without writing it (a run that stops before it starts). */
void tlsio_sessions_discard(void);

#endif

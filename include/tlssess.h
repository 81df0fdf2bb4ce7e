/*
 * tlssess - the text of a --tls-sessions file, one TLS session per line.
 * Pure: no I/O, no allocation; tlsio reads and writes the file and turns
 * the bytes into OpenSSL sessions.
 *
 * The file: a first line TLSSESS_MAGIC, then one line per session:
 *
 *   EXPIRES HOST PORT SNI VERIFY TRUST SESSION
 *
 * EXPIRES  when the server stops taking it, seconds since the epoch;
 * HOST     the host as connected to (name or IP literal);
 * PORT     1..65535;
 * SNI      the name sent in the handshake, or "-" (none: IP literals);
 * VERIFY   "peer": the certificate was verified (-k sessions are never
 *          stored, so no other mode is written; any other is foreign);
 * TRUST    what verified it: "default" (the default store) or the
 *          SHA-256, in hex, of the --cacert path and its content;
 * SESSION  the session (i2d_SSL_SESSION), base64.
 *
 * HOST..TRUST, as they stand in the line, are the session's key: it is
 * offered only to a connection whose key is the same text
 * (tlssess_key). Fields are separated by one space and hold no space.
 */
#ifndef POKEFETCH_TLSSESS_H
#define POKEFETCH_TLSSESS_H

#include <stddef.h>
#include <stdint.h>

#define TLSSESS_MAGIC "pokefetch-tls-sessions 1"
/* HOST..TRUST with their spaces, at most: names of 255 bytes. */
#define TLSSESS_NAME_MAX 255
#define TLSSESS_KEY_MAX (2 * TLSSESS_NAME_MAX + 5 + 4 + 64 + 4)
#define TLSSESS_DER_MAX 8192 /* one session, as OpenSSL encodes it */
/* The longest line, without its newline: a longer one is ignored. */
#define TLSSESS_LINE_MAX                                                      \
    (20 + 1 + TLSSESS_KEY_MAX + 1 + TLSSESS_DER_MAX / 3 * 4 + 4)

struct tlssess_entry {
    int64_t expires;
    const char *key; /* into the line: HOST PORT SNI VERIFY TRUST */
    size_t key_len;
    size_t der_len; /* into the caller's der buffer */
};

/*
 * The key of a connection to host:port; sni: the name sent, or NULL;
 * trust: "default" or the hex digest. Returns its length, or 0 if it does
 * not fit in cap (or a field is empty or holds a space or control byte).
 */
size_t tlssess_key(char *out, size_t cap, const char *host, unsigned port,
                   const char *sni, const char *trust);

/*
 * Parse one line (len bytes, no newline) into e, the session's bytes into
 * der (TLSSESS_DER_MAX bytes). Returns 0, or -1 for a line that is not a
 * well-formed entry (then e and der are undefined). Expiry is the
 * caller's to judge.
 */
int tlssess_parse(const char *line, size_t len, struct tlssess_entry *e,
                  unsigned char *der);

/*
 * The line for a session (no newline): expires, key (key_len bytes),
 * der. Returns its length, or 0 if it does not fit in cap or der is
 * longer than TLSSESS_DER_MAX.
 */
size_t tlssess_format(char *out, size_t cap, int64_t expires, const char *key,
                      size_t key_len, const unsigned char *der,
                      size_t der_len);

#endif

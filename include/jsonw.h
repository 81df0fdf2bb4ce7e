/*
 * jsonw - JSON text written through a struct out (include/out.h): the
 * few pieces the HAR writer and --stats json are made of. No state of its
 * own, no allocation; the caller writes the punctuation and keys as
 * literal text (jw_raw) and the values with the functions below.
 */
#ifndef POKEFETCH_JSONW_H
#define POKEFETCH_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "out.h"

/* n bytes, or a NUL-terminated s, as they are: keys, punctuation,
   literals. JW_LIT takes a string literal only and counts its bytes at
   compile time (the keys of every HAR entry pass here). */
void jw_bytes(struct out *o, const char *s, size_t n);
void jw_raw(struct out *o, const char *s);
#define JW_LIT(o, lit) jw_bytes((o), "" lit, sizeof(lit) - 1)

/* n bytes of s as the inside of a JSON string (esc_json: any bytes,
   however long, come out as valid JSON and safe to show). */
void jw_esc(struct out *o, const char *s, size_t n);

/* The same between quotes: a whole string value. */
void jw_str(struct out *o, const char *s, size_t n);

/* v in decimal at p, which has room for JW_DECIMAL_MAX bytes; returns
   the digits written (no NUL). */
#define JW_DECIMAL_MAX 20
size_t jw_decimal(char *p, uint64_t v);

void jw_u64(struct out *o, uint64_t v);
void jw_i64(struct out *o, int64_t v);

/* Microseconds as milliseconds with 3 decimals, exactly ("1.550" for
   1550); any negative value as -1, HAR's "does not apply". */
void jw_ms(struct out *o, int64_t us);

/* A rate or a ratio: 3 decimals, or null when it is not finite. */
void jw_real(struct out *o, double v);

#endif

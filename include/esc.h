/*
 * esc - make text from a server safe to print: one value stays one line
 * for every consumer, and nothing in it can drive a terminal (move the
 * cursor, change colours, set the title, reorder the line). Pure: no
 * I/O, no allocation; the caller gives room for the worst case.
 *
 * Unsafe, whatever the format:
 *   - C0 controls U+0000-U+001F and DEL U+007F;
 *   - C1 controls U+0080-U+009F (in UTF-8: C2 80 .. C2 9F), which some
 *     terminals obey like ESC sequences (U+009B is CSI);
 *   - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, which break
 *     lines for some readers (and JavaScript string literals);
 *   - the bidirectional embeddings and overrides U+202A-U+202E and the
 *     isolates U+2066-U+2069, which reorder what follows them on screen;
 *   - bytes that are not part of well-formed UTF-8 (RFC 3629 sec. 4: no
 *     overlongs, no encoded surrogates, nothing past U+10FFFF).
 *
 * esc_line - plain and tsv output, and every message on stderr: a
 * backslash is written \\, TAB \t, LF \n, CR \r, and every byte of any
 * other unsafe character or ill-formed sequence \xHH (two lower-case hex
 * digits per byte: U+2028 is \xe2\x80\xa8). Every other byte is written
 * as it is. So the escapes name bytes, and printf '%b' (or any \xHH
 * decoder) gives back exactly the bytes the server sent.
 *
 * esc_json - jsonl output, the inside of a JSON string (RFC 8259 sec. 7):
 * '"' and '\\' escaped, \n \r \t \b \f, every other unsafe character
 * \uXXXX (lower-case hex: \u001b, \u0085, \u2028), an ill-formed byte
 * \ufffd (the replacement character: jsonl stays valid JSON; jfield hands
 * out only UTF-8, so this is for defence, not for use).
 *
 * esc_json_text - jsonl output of a value that is JSON text already (a
 * number, a literal, a compact object or array from jfield): written as
 * it is, except that an unsafe character, which valid JSON text can only
 * hold inside a string, becomes \uXXXX as in esc_json.
 */
#ifndef POKEFETCH_ESC_H
#define POKEFETCH_ESC_H

#include <stddef.h>

/* Room each function needs for n input bytes. */
#define ESC_LINE_MAX(n) (4 * (size_t)(n))
#define ESC_JSON_MAX(n) (6 * (size_t)(n))

/* Write s[0..n) escaped to out, which has ESC_LINE_MAX(n) bytes of room
   (ESC_JSON_MAX(n) for the JSON ones); return the bytes written. */
size_t esc_line(char *out, const char *s, size_t n);
size_t esc_json(char *out, const char *s, size_t n);
size_t esc_json_text(char *out, const char *s, size_t n);

#endif

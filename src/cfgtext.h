/* cfgtext.h - decimal numbers, sizes and quoted strings as config files
 * write and read them.
 *
 * The text forms behind config.c's option table, which need none of it:
 * strict decimal numbers (no 0x, inf, nan, blanks or a leading '+'), sizes
 * with a K/M/G/T suffix, the shortest round-trip form of a double, strings
 * double-quoted with C escapes, and the blanks around a `key = value` line.
 * Every form written here reads back identically.
 */
#ifndef RNN_CFGTEXT_H
#define RNN_CFGTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"

/* Is s a decimal integer: [0-9]+, with a leading '-' when `sign`? */
int cfgtext_is_decimal_int(const char *s, int sign);

/* Is s a decimal real: -?([0-9]+(.[0-9]*)?|.[0-9]+)([eE][-+]?[0-9]+)? */
int cfgtext_is_decimal_real(const char *s);

/* Parse a size: decimal digits, an optional fraction, then an optional K,
 * M, G or T (any case, then nothing, "B" or "iB"; powers of 1024); a
 * fraction needs a suffix and is rounded to whole bytes. Returns 0, -1 when
 * s is not a size, 1 when it exceeds 2^64 - 1 bytes. */
int cfgtext_parse_size(uint64_t *out, const char *s);

/* The shortest %g form of v that strtod reads back as v, in plain notation
 * when its exponent is -4..16 (600, not 6e+02), in out[0..len). */
void cfgtext_format_double(char *out, size_t len, double v);

/* Bytes v as an exact multiple of the largest unit (K, M, G, T: powers of
 * 1024) that divides them, or plain bytes, in out[0..len). */
void cfgtext_format_size(char *out, size_t len, uint64_t v);

/* Would the string s read back differently if written unquoted (blanks at
 * either end, a leading '"', a control character, '#' or ';')? */
int cfgtext_needs_quotes(const char *s);

/* s double-quoted with C escapes (\" \\ \n \t \r \xHH); out holds at least
 * 4 * strlen(s) + 3. */
void cfgtext_format_quoted(char *out, const char *s);

/* Is ch a blank: a space or a tab? */
int cfgtext_is_blank(char ch);

/* s past its leading blanks. */
char *cfgtext_skip_blanks(char *s);

/* Cut the trailing blanks and carriage returns off s, in place. */
void cfgtext_trim_end(char *s);

/* Unquote the value s (s[0] == '"') in place: C escapes, then only blanks
 * or a comment after the closing quote. Returns 0, or EXIT_USAGE with a
 * message naming `where` (file:line or --option) and option `name`: an
 * unknown escape, no closing quote, text after it. */
int cfgtext_unquote(char *s, const char *where, const char *name, Error *e);

#endif

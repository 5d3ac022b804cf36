/* cfgtext.c - values as config files write and read them (see cfgtext.h). */
#include "cfgtext.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- strict decimal numbers ------------------------------------------- */

/* Length of the run of decimal digits at s. */
static size_t digits(const char *s)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9') n++;
    return n;
}

int cfgtext_is_decimal_int(const char *s, int sign)
{
    if (sign && *s == '-') s++;
    size_t n = digits(s);
    return n > 0 && s[n] == '\0';
}

int cfgtext_is_decimal_real(const char *s)
{
    if (*s == '-') s++;
    size_t whole = digits(s), frac = 0;
    s += whole;
    if (*s == '.') {
        frac = digits(s + 1);
        s += 1 + frac;
    }
    if (whole == 0 && frac == 0) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        size_t ex = digits(s);
        if (ex == 0) return 0;
        s += ex;
    }
    return *s == '\0';
}

int cfgtext_parse_size(uint64_t *out, const char *s)
{
    static const char units[] = "KMGT";
    size_t whole = digits(s), frac = 0;
    const char *p = s + whole;
    if (whole == 0) return -1;
    if (*p == '.') {
        frac = digits(p + 1);
        if (frac == 0) return -1;
        p += 1 + frac;
    }
    int shift = 0;
    if (*p) {
        const char *u = strchr(units, toupper((unsigned char)*p));
        if (!u) return -1;
        shift = 10 * (int)(u - units + 1);
        p++;
        if (*p && strcmp(p, "B") != 0 && strcmp(p, "iB") != 0) return -1;
    }
    if (frac > 0 && shift == 0) return -1;
    errno = 0;
    if (frac == 0) {
        unsigned long long v = strtoull(s, NULL, 10);
        if (errno == ERANGE || v > (UINT64_MAX >> shift)) return 1;
        *out = (uint64_t)v << shift;
        return 0;
    }
    double v = ldexp(strtod(s, NULL), shift) + 0.5;
    if (v >= 0x1p64) return 1;
    *out = (uint64_t)v;
    return 0;
}


/* ---- values as text ----------------------------------------------------- */

void cfgtext_format_double(char *out, size_t len, double v)
{
    char buf[40], plain[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v) break;
    }
    const char *ex = strchr(buf, 'e');
    int x = ex ? atoi(ex + 1) : 0;
    if (ex && x >= -4 && x <= 16) {
        snprintf(plain, sizeof plain, "%.*g", x + 1, v);
        if (strtod(plain, NULL) == v) memcpy(buf, plain, sizeof buf);
    }
    snprintf(out, len, "%s", buf);
}

void cfgtext_format_size(char *out, size_t len, uint64_t v)
{
    static const char units[] = "KMGT";
    int k = 0;
    while (k < 4 && v != 0 && (v & ((UINT64_C(1) << (10 * (k + 1))) - 1)) == 0) k++;
    if (k == 0)
        snprintf(out, len, "%llu", (unsigned long long)v);
    else
        snprintf(out, len, "%llu%c", (unsigned long long)(v >> (10 * k)), units[k - 1]);
}

int cfgtext_needs_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n == 0) return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '"' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return 1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '#' || *p == ';') return 1;
    return 0;
}

void cfgtext_format_quoted(char *out, const char *s)
{
    char *w = out;
    *w++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = *p == '"' ? "\\\"" : *p == '\\' ? "\\\\" : *p == '\n' ? "\\n"
                        : *p == '\t' ? "\\t" : *p == '\r' ? "\\r" : NULL;
        if (esc) {
            memcpy(w, esc, 2);
            w += 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            w += sprintf(w, "\\x%02x", *p);
        } else {
            *w++ = (char)*p;
        }
    }
    *w++ = '"';
    *w = '\0';
}


/* ---- blanks and quoted values ---------------------------------------------- */

int cfgtext_is_blank(char ch) { return ch == ' ' || ch == '\t'; }

char *cfgtext_skip_blanks(char *s)
{
    while (cfgtext_is_blank(*s)) s++;
    return s;
}

void cfgtext_trim_end(char *s)
{
    char *end = s + strlen(s);
    while (end > s && (cfgtext_is_blank(end[-1]) || end[-1] == '\r')) *--end = '\0';
}

static int hex_digit(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

int cfgtext_unquote(char *s, const char *where, const char *name, Error *e)
{
    char *w = s;
    const char *p = s + 1;
    for (; *p && *p != '"'; p++) {
        if (*p != '\\') {
            *w++ = *p;
            continue;
        }
        p++;
        int hi = *p == 'x' ? hex_digit(p[1]) : -1, lo = hi >= 0 ? hex_digit(p[2]) : -1;
        if (*p == '"' || *p == '\\') {
            *w++ = *p;
        } else if (*p == 'n' || *p == 't' || *p == 'r') {
            *w++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : '\r';
        } else if (lo >= 0 && hi * 16 + lo != 0) {
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else if (*p == '\0') {
            break;
        } else {
            return error_set(e, EXIT_USAGE, "%s: unknown escape '\\%c' in the value of '%s' "
                             "(known: \\\" \\\\ \\n \\t \\r \\xHH)", where, *p, name);
        }
    }
    if (*p != '"')
        return error_set(e, EXIT_USAGE, "%s: the value of '%s' has no closing quote", where,
                         name);
    *w = '\0';
    p++;
    while (cfgtext_is_blank(*p)) p++;
    if (*p && *p != '#' && *p != ';')
        return error_set(e, EXIT_USAGE, "%s: text after the closing quote of '%s': '%s'", where,
                         name, p);
    return 0;
}

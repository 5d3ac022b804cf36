/* vocab.c - a text dataset's vocabulary (see vocab.h). */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

/* The length (1-4) of the valid UTF-8 character at s[0 .. n), with its code
 * point in *cp; 0 when the bytes there are not one (a stray continuation
 * byte, a truncated or overlong sequence, a surrogate, beyond U+10FFFF). */
static int utf8_unit(uint32_t *cp, const uint8_t *s, size_t n)
{
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    int len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2
            : s[0] >= 0xE0 && s[0] < 0xF0 ? 3 : s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : 0;
    if (len == 0 || (size_t)len > n) return 0;
    uint32_t c = len == 1 ? s[0] : s[0] & (0x7Fu >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3Fu);
    }
    if (c < least[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* The length of the unit at s[0 .. n) at v's level (0: not a valid one). */
static int unit_len(uint32_t *cp, const Vocab *v, const uint8_t *s, size_t n)
{
    if (v->byte_level) {
        *cp = s[0];
        return 1;
    }
    return utf8_unit(cp, s, n);
}

int vocab_split(Vocab *v, const char *what, Error *e)
{
    free(v->start);
    v->start = xcalloc(v->nbytes + 1, sizeof *v->start);
    v->size = 0;
    size_t at = 0;
    while (at < v->nbytes) {
        uint32_t cp;
        int len = unit_len(&cp, v, v->bytes + at, v->nbytes - at);
        if (!len)
            return error_set(e, EXIT_USAGE, "%s: attribute 'vocab' is not UTF-8 at byte %zu "
                             "(level char)", what, at);
        v->start[v->size++] = at;
        at += (size_t)len;
        v->start[v->size] = at;
    }
    return 0;
}

int vocab_read_in(Vocab *v, const H5Input *in, const char *group, Error *e)
{
    memset(v, 0, sizeof *v);
    if (strcmp(group, "/") != 0 && !h5io_exists(in->file, group))
        return error_set(e, EXIT_USAGE, "%s: no group %s", in->path, group);
    const char *obj = h5io_attr_exists(in->file, group, "vocab") ? group : "/";
    if (!h5io_attr_exists(in->file, obj, "vocab"))
        return error_set(e, EXIT_USAGE, "%s: no attribute 'vocab' on %s or the root: not a text "
                         "dataset (make one with scripts/text2h5.py)", in->path, group);
    if (h5io_read_attr_u8s(&v->bytes, &v->nbytes, in->file, obj, "vocab", VOCAB_MAX_BYTES))
        return error_set(e, EXIT_USAGE, "%s: attribute 'vocab' of %s is not a 1-D integer array of "
                         "1 to %zu bytes", in->path, obj, VOCAB_MAX_BYTES);
    char level[16] = "char";
    if (h5io_attr_exists(in->file, obj, "level") &&
        h5io_read_attr_str(level, sizeof level, in->file, obj, "level"))
        level[0] = '\0';
    if (strcmp(level, "char") != 0 && strcmp(level, "byte") != 0) {
        vocab_free(v);
        return error_set(e, EXIT_USAGE, "%s: attribute 'level' of %s must be 'char' or 'byte', "
                         "got '%s'", in->path, obj, level);
    }
    v->byte_level = strcmp(level, "byte") == 0;
    if (vocab_split(v, in->path, e)) {
        vocab_free(v);
        return EXIT_USAGE;
    }
    return 0;
}

void vocab_free(Vocab *v)
{
    free(v->bytes);
    free(v->start);
    memset(v, 0, sizeof *v);
}

/* The id of the unit s[0 .. len), or -1. */
static int32_t find_unit(const Vocab *v, const uint8_t *s, size_t len)
{
    for (int i = 0; i < v->size; i++)
        if (v->start[i + 1] - v->start[i] == len && memcmp(v->bytes + v->start[i], s, len) == 0)
            return i;
    return -1;
}

int vocab_encode(int32_t **ids, size_t *n, const Vocab *v, const char *text, const char *what,
                 Error *e)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t len = strlen(text), count = 0;
    int32_t *out = xcalloc(len + 1, sizeof *out);
    for (size_t at = 0; at < len;) {
        uint32_t cp;
        int l = unit_len(&cp, v, s + at, len - at);
        int32_t id = l ? find_unit(v, s + at, (size_t)l) : -1;
        if (id < 0) {
            free(out);
            if (!l)
                return error_set(e, EXIT_USAGE, "%s is not UTF-8 at byte %zu", what, at);
            if (v->byte_level)
                return error_set(e, EXIT_USAGE, "%s: byte 0x%02x (at byte %zu) is not in the "
                                 "vocabulary (%d bytes)", what, (unsigned)cp, at, v->size);
            return error_set(e, EXIT_USAGE, "%s: character '%.*s' (U+%04X, at byte %zu) is not in "
                             "the vocabulary (%d characters)", what, l, (const char *)(s + at),
                             (unsigned)cp, at, v->size);
        }
        out[count++] = id;
        at += (size_t)l;
    }
    *ids = out;
    *n = count;
    return 0;
}

void vocab_write(FILE *f, const Vocab *v, int32_t id)
{
    CHECK(id >= 0 && id < v->size);
    fwrite(v->bytes + v->start[id], 1, v->start[id + 1] - v->start[id], f);
}

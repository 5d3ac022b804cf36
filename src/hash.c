/* hash.c - FNV-1a, 64 bits (see hash.h). */
#include "hash.h"

uint64_t hash_fnv1a(uint64_t h, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* hash.h - FNV-1a, 64 bits: the checksum of bytes that replicas compare
 * (parameters, reduced gradients) and that stamps a file's contents. Not
 * cryptographic; equal bytes give equal sums on every rank and machine. */
#ifndef RNN_HASH_H
#define RNN_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The sum to start from. */
#define HASH_FNV_BASIS 14695981039346656037ULL

/* h continued over bytes[0..n) (start from HASH_FNV_BASIS; feeding the bytes
 * in several calls gives the sum of one). */
uint64_t hash_fnv1a(uint64_t h, const void *bytes, size_t n);

#endif

/* gemmamx.c - bfloat16 products on Intel AMX tiles (see gemmamx.h). */
#include "gemmamx.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "check.h"
#include "gemmbf16.h"
#include "vecmath.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define AMX_X86 1
#else
#define AMX_X86 0
#endif

/* Pairs per chunk: one TDPBF16PS of full tiles, a B tile being 16 pair-rows
 * (64 bytes each) of a panel; also the rows of a full C or A tile. */
#define AMX_PAIRS 16
#define AMX_ROWS 16

/* A bf16 input as the instruction reads it: denormals as zero. */
static float amx_daz(uint16_t b)
{
    return (b & 0x7f80u) == 0 ? ((b & 0x8000u) ? -0.0f : 0.0f) : gemm_bf16_value(b);
}

/* x + y flushed to zero below FLT_MIN. x and y are never denormal (inputs
 * and results are flushed), so a sum under 2^-125 is exact and flushing the
 * rounded sum is flushing the exact one. */
static float amx_add(float x, float y)
{
    float r = x + y;
    return fabsf(r) < FLT_MIN ? copysignf(0.0f, r) : r;
}

/* a b + e rounded once, flushed to zero when the exact value is below
 * FLT_MIN (even when it rounds up to FLT_MIN). a and b are bf16 values: the
 * product is exact in double, and the exact sum is s + t (Knuth's TwoSum). */
static float amx_fma(float a, float b, float e)
{
    float r = fmaf(a, b, e);
    if (fabsf(r) > FLT_MIN || isnan(r)) return r;
    if (fabsf(r) < FLT_MIN) return copysignf(0.0f, r);
    double p = (double)a * b, x = e, s = p + x, v = s - p, t = (p - (s - v)) + (x - v);
    int tiny = fabs(s) < FLT_MIN || (fabs(s) == FLT_MIN && t != 0 && (t < 0) != (s < 0));
    return tiny ? copysignf(0.0f, r) : r;
}

void gemm_amx_reference(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp,
                        int M, int N, int K, int add)
{
    const int pairs = gemm_bf16_kp(K) / 2;
    const size_t panel = (size_t)GEMM_BF16_NR * gemm_bf16_kp(K);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            const uint16_t *col = bp + (size_t)(n / GEMM_BF16_NR) * panel + 2 * (n % GEMM_BF16_NR);
            const uint16_t *row = a + (size_t)m * lda;
            float acc = 0.0f;
            for (int p0 = 0; p0 < pairs; p0 += AMX_PAIRS) {
                float even = 0.0f, odd = 0.0f;
                for (int p = p0; p < pairs && p < p0 + AMX_PAIRS; p++) {
                    const uint16_t *bb = col + (size_t)p * 2 * GEMM_BF16_NR, *aa = row + 2 * p;
                    even = amx_fma(amx_daz(aa[0]), amx_daz(bb[0]), even);
                    odd = amx_fma(amx_daz(aa[1]), amx_daz(bb[1]), odd);
                }
                acc = amx_add(acc, amx_add(even, odd));
            }
            float *cm = c + (size_t)m * ldc + n;
            *cm = add ? *cm + acc : acc;
        }
}

#if AMX_X86
/* CPUID.(7, 0):EDX bits of AMX-BF16 and AMX-TILE. */
#define AMX_CPUID_BF16 (1u << 22)
#define AMX_CPUID_TILE (1u << 24)

/* arch_prctl(2): ask the kernel for the tile data state (Linux 5.16). */
#define AMX_REQ_XCOMP_PERM 0x1023
#define AMX_XFEATURE_XTILEDATA 18

/* The tile registers: four C tiles (row tile i, column tile j at 2 i + j),
 * then A0, B0, A1, B1: two A tiles (row tiles) and two B tiles (panels) of
 * one chunk, or, when a call has both full chunks and a tail, A0 and B0 of
 * the full chunks and A1 and B1 of the tail. */
#define AMX_C00 0
#define AMX_C01 1
#define AMX_C10 2
#define AMX_C11 3
#define AMX_A0 4
#define AMX_B0 5
#define AMX_A1 6
#define AMX_B1 7

/* Does the CPU have AMX-BF16 and AMX-TILE? gcc reads the table libgcc
 * fills at startup; clang 14 knows no "amx-bf16" there, so it runs CPUID
 * (a trap to the hypervisor in a VM: microseconds). */
static int amx_cpu(void)
{
#if defined(__clang__)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (edx & AMX_CPUID_TILE) && (edx & AMX_CPUID_BF16);
#else
    return __builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16");
#endif
}

int gemm_amx_supported(void)
{
    return amx_cpu() && syscall(SYS_arch_prctl, AMX_REQ_XCOMP_PERM, AMX_XFEATURE_XTILEDATA) == 0;
}

/* c[rows, cols] = s (add 0) or += s (add 1); s is a C tile stored with 16
 * floats a row. The same fp32 addition as gemm_amx_reference's. */
VEC_CLONES static void tile_put(float *restrict c, int ldc, const float *restrict s, int rows,
                                int cols, int add)
{
    for (int r = 0; r < rows; r++) {
        float *cr = c + (size_t)r * ldc;
        const float *sr = s + (size_t)r * GEMM_BF16_NR;
        if (add)
            for (int n = 0; n < cols; n++) cr[n] += sr[n];
        else
            for (int n = 0; n < cols; n++) cr[n] = sr[n];
    }
}

/* The 64-byte operand of LDTILECFG (palette 1). */
typedef struct TileConfig {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} TileConfig;

/* One call's operands: Kp / 2 pairs make `chunks` chunks of 16, then a
 * tail chunk of `tail` pairs (0..15) read by tiles shaped to it, so that
 * nothing past Kp is read or added. */
typedef struct AmxJob {
    float *c;
    const uint16_t *a, *bp;
    int ldc, lda, N, chunks, tail, add;
    size_t panel; /* elements of one packed panel: 16 Kp */
} AmxJob;

/* Configure the tiles: C tiles of R rows and 16 columns; A0 and B0 for
 * chunks of q0 pairs (1..16), A1 and B1 of q1: A tiles of R rows and q
 * pairs, B tiles of q pair-rows. Loading a configuration zeroes every tile
 * and costs hundreds of cycles: once per call and row count. */
__attribute__((target("amx-tile"))) static void tiles_configure(int R, int q0, int q1)
{
    _Alignas(64) TileConfig t = {0};
    t.palette = 1;
    for (int i = AMX_C00; i <= AMX_C11; i++) t.rows[i] = (uint8_t)R, t.colsb[i] = 64;
    t.rows[AMX_A0] = t.rows[AMX_A1] = (uint8_t)R;
    t.colsb[AMX_A0] = (uint16_t)(4 * q0), t.colsb[AMX_A1] = (uint16_t)(4 * q1);
    t.rows[AMX_B0] = (uint8_t)q0, t.rows[AMX_B1] = (uint8_t)q1;
    t.colsb[AMX_B0] = t.colsb[AMX_B1] = 64;
    /* the whole 64 bytes as the operand (the intrinsic names 8), so the
     * stores above happen first */
    __asm__ volatile("ldtilecfg %0" ::"m"(t) : "memory");
}

/* The four C tiles = 0. */
__attribute__((target("amx-tile"))) static inline void c_tiles_zero(void)
{
    _tile_zero(AMX_C00);
    _tile_zero(AMX_C01);
    _tile_zero(AMX_C10);
    _tile_zero(AMX_C11);
}

/* C tiles = the A rows a [mt tiles of R rows] times the panels p0, p0 +
 * panel [nt of them] over all the chunks (of 16 pairs; or the tail alone,
 * chunk 0 then), A0 B0 A1 B1 configured to their shape: four tile loads a
 * chunk for four TDPBF16PS (gemmamx.h: their arithmetic). */
__attribute__((target("amx-tile,amx-bf16"))) static void
block_square(const AmxJob *j, const uint16_t *a, const uint16_t *p0, int R, int mt, int nt)
{
    const long sa = 2L * j->lda, sb = 64;
    const uint16_t *a1 = a + (size_t)R * j->lda, *p1 = p0 + j->panel;
    c_tiles_zero();
    for (int k = 0; k < (j->chunks ? j->chunks : 1); k++) {
        const size_t ka = (size_t)k * 2 * AMX_PAIRS, kb = ka * GEMM_BF16_NR;
        _tile_loadd(AMX_A0, a + ka, sa);
        _tile_loadd(AMX_B0, p0 + kb, sb);
        if (nt == 2) _tile_loadd(AMX_B1, p1 + kb, sb);
        if (mt == 2) _tile_loadd(AMX_A1, a1 + ka, sa);
        _tile_dpbf16ps(AMX_C00, AMX_A0, AMX_B0);
        if (nt == 2) _tile_dpbf16ps(AMX_C01, AMX_A0, AMX_B1);
        if (mt == 2) _tile_dpbf16ps(AMX_C10, AMX_A1, AMX_B0);
        if (mt == 2 && nt == 2) _tile_dpbf16ps(AMX_C11, AMX_A1, AMX_B1);
    }
}

/* One chunk through the A tile TA and the B tile TB alone: five loads for
 * four TDPBF16PS (block_split's variables). */
#define AMX_CHUNK_THROUGH(TA, TB)                                                            \
    do {                                                                                      \
        _tile_loadd(TA, a + ka, sa);                                                          \
        _tile_loadd(TB, p0 + kb, sb);                                                         \
        _tile_dpbf16ps(AMX_C00, TA, TB);                                                      \
        if (nt == 2) {                                                                        \
            _tile_loadd(TB, p1 + kb, sb);                                                     \
            _tile_dpbf16ps(AMX_C01, TA, TB);                                                  \
        }                                                                                     \
        if (mt == 2) {                                                                        \
            _tile_loadd(TA, a1 + ka, sa);                                                     \
            if (nt == 2) {                                                                    \
                _tile_dpbf16ps(AMX_C11, TA, TB);                                              \
                _tile_loadd(TB, p0 + kb, sb);                                                 \
            }                                                                                 \
            _tile_dpbf16ps(AMX_C10, TA, TB);                                                  \
        }                                                                                     \
    } while (0)

/* block_square's product when the call has both full chunks and a tail:
 * the full chunks through A0 and B0, then the tail through A1 and B1 (each
 * configured to its shape once), no configuration between them. */
__attribute__((target("amx-tile,amx-bf16"))) static void
block_split(const AmxJob *j, const uint16_t *a, const uint16_t *p0, int R, int mt, int nt)
{
    const long sa = 2L * j->lda, sb = 64;
    const uint16_t *a1 = a + (size_t)R * j->lda, *p1 = p0 + j->panel;
    c_tiles_zero();
    size_t ka = 0, kb = 0;
    for (int k = 0; k < j->chunks; k++) {
        ka = (size_t)k * 2 * AMX_PAIRS, kb = ka * GEMM_BF16_NR;
        AMX_CHUNK_THROUGH(AMX_A0, AMX_B0);
    }
    ka = (size_t)j->chunks * 2 * AMX_PAIRS, kb = ka * GEMM_BF16_NR;
    AMX_CHUNK_THROUGH(AMX_A1, AMX_B1);
}
#undef AMX_CHUNK_THROUGH

/* C tile T to c [R rows, cols columns]: straight into C when it stores all
 * 16 columns, else through the scratch s and tile_put. */
#define AMX_TILE_PUT(T, c, ldc, s, R, cols, add)                                             \
    do {                                                                                      \
        if (!(add) && (cols) == GEMM_BF16_NR) {                                               \
            _tile_stored(T, c, 4L * (ldc));                                                   \
        } else {                                                                              \
            _tile_stored(T, s, 4L * GEMM_BF16_NR);                                            \
            tile_put(c, ldc, s, R, cols, add);                                                \
        }                                                                                     \
    } while (0)

/* The C tiles of a block to C: rows m.. (mt tiles of R rows), columns n0..
 * (nt tiles, the columns up to N). */
__attribute__((target("amx-tile"))) static void
block_store(const AmxJob *j, int m, int n0, int R, int mt, int nt)
{
    _Alignas(64) float s[AMX_ROWS * GEMM_BF16_NR];
    float *c0 = j->c + (size_t)m * j->ldc + n0, *c1 = c0 + (size_t)R * j->ldc;
    const int rest = j->N - n0, cols0 = rest < 16 ? rest : 16, cols1 = rest > 32 ? 16 : rest - 16;
    AMX_TILE_PUT(AMX_C00, c0, j->ldc, s, R, cols0, j->add);
    if (nt == 2) AMX_TILE_PUT(AMX_C01, c0 + 16, j->ldc, s, R, cols1, j->add);
    if (mt == 2) {
        AMX_TILE_PUT(AMX_C10, c1, j->ldc, s, R, cols0, j->add);
        if (nt == 2) AMX_TILE_PUT(AMX_C11, c1 + 16, j->ldc, s, R, cols1, j->add);
    }
}
#undef AMX_TILE_PUT

/* C rows m0..m1 (m1 - m0 a multiple of R <= 16) in blocks of up to 2 x 2
 * tiles, every pair in order: for each pair of panels, every block of
 * rows, so that the panels' tiles come from L1 again. */
static void rows_multiply(const AmxJob *j, int m0, int m1, int R)
{
    const int split = j->chunks && j->tail;
    if (split)
        tiles_configure(R, AMX_PAIRS, j->tail);
    else
        tiles_configure(R, j->chunks ? AMX_PAIRS : j->tail, j->chunks ? AMX_PAIRS : j->tail);
    for (int n0 = 0; n0 < j->N; n0 += 2 * GEMM_BF16_NR) {
        const int nt = j->N - n0 > GEMM_BF16_NR ? 2 : 1;
        const uint16_t *p0 = j->bp + (size_t)(n0 / GEMM_BF16_NR) * j->panel;
        for (int m = m0; m < m1;) {
            const int mt = m1 - m >= 2 * R ? 2 : 1;
            if (split)
                block_split(j, j->a + (size_t)m * j->lda, p0, R, mt, nt);
            else
                block_square(j, j->a + (size_t)m * j->lda, p0, R, mt, nt);
            block_store(j, m, n0, R, mt, nt);
            m += mt * R;
        }
    }
}

/* Give the tile state back (TILERELEASE): the next context switch saves none. */
__attribute__((target("amx-tile"))) static void tiles_release(void)
{
    _tile_release();
}
#else
int gemm_amx_supported(void)
{
    return 0;
}
#endif

void gemm_amx_packed(float *c, int ldc, const uint16_t *a, int lda, const uint16_t *bp, int M,
                     int N, int K, int add)
{
    CHECK(gemm_amx_supported());
    CHECK(K >= 1 && lda >= gemm_bf16_kp(K));
#if AMX_X86
    const int pairs = gemm_bf16_kp(K) / 2;
    AmxJob j = {c, a, bp, ldc, lda, N, pairs / AMX_PAIRS, pairs % AMX_PAIRS, add,
                (size_t)GEMM_BF16_NR * gemm_bf16_kp(K)};
    /* the caller's stores to A and B come first: the tile loads are asm
     * statements that name no memory */
    __asm__ volatile("" ::: "memory");
    const int full = M / AMX_ROWS * AMX_ROWS;
    if (full) rows_multiply(&j, 0, full, AMX_ROWS);
    if (M > full) rows_multiply(&j, full, M, M - full);
    tiles_release();
#else
    (void)c, (void)ldc, (void)a, (void)lda, (void)bp, (void)M, (void)N, (void)K, (void)add;
#endif
}

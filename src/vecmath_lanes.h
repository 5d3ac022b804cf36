/* vecmath_lanes.h - vecmath.c's activations at one vector width. Included
 * by vecmath.c only, once per width (no include guard), after it defines
 * LANES (floats a vector: 16, 8 or 4, the widest whose comparisons the
 * target compiles to vector instructions) and LANE(name) (name with the
 * width's suffix). Defines, always inlined (so compiled for the target of
 * the function it lands in), LANE(apply)(op, x, n): vec_sigmoid, vec_tanh
 * or vec_exp of x[0..n) in place, LANES floats at a time, the tail through
 * a padded vector.
 * Every lane is the same IEEE operations at every width: the same bits. */

typedef float LANE(vf) __attribute__((vector_size(LANES * sizeof(float))));
typedef int LANE(vi) __attribute__((vector_size(LANES * sizeof(int))));

#define VF LANE(vf)
#define VI LANE(vi)

/* v in every lane. */
INLINE VF LANE(splat)(float v)
{
    VF z = {0};
    return z + v;
}

/* m ? a : b, lane by lane, for a comparison mask m (all ones or zero). */
INLINE VF LANE(vselect)(VI m, VF a, VF b)
{
    return (VF)(((VI)a & m) | ((VI)b & ~m));
}

INLINE VF LANE(vmin)(VF a, VF b)
{
    return LANE(vselect)(a < b, a, b);
}

INLINE VF LANE(vmax)(VF a, VF b)
{
    return LANE(vselect)(a > b, a, b);
}

/* y = n ln2 + r; returns r, sets *n (integer-valued floats). */
INLINE VF LANE(reduce)(VF y, VF *n)
{
    const VF magic = LANE(splat)(12582912.0f); /* 1.5 * 2^23: rounds to nearest */
    VF k = (y * LANE(splat)(1.44269504088896341f) + magic) - magic;
    *n = k;
    return (y - k * LANE(splat)(0.693145751953125f)) -
           k * LANE(splat)(1.42860682030941723e-6f);
}

/* e^r - 1 for |r| <= ln2/2: Taylor to r^7 (Horner). */
INLINE VF LANE(expm1_small)(VF r)
{
    VF p = LANE(splat)(1.0f / 5040.0f);
    p = p * r + LANE(splat)(1.0f / 720.0f);
    p = p * r + LANE(splat)(1.0f / 120.0f);
    p = p * r + LANE(splat)(1.0f / 24.0f);
    p = p * r + LANE(splat)(1.0f / 6.0f);
    p = p * r + LANE(splat)(0.5f);
    p = p * r + LANE(splat)(1.0f);
    return p * r;
}

/* 2^n for integer-valued n in [-126, 127]. */
INLINE VF LANE(pow2)(VF n)
{
    VI e = (__builtin_convertvector(n, VI) + 127) << 23;
    return (VF)e;
}

/* y clamped to [-87, 88], split as 2^n e^r: returns r, sets *s = 2^n. */
INLINE VF LANE(split)(VF y, VF *s)
{
    y = LANE(vmax)(LANE(vmin)(y, LANE(splat)(88.0f)), LANE(splat)(-87.0f));
    VF n, r = LANE(reduce)(y, &n);
    *s = LANE(pow2)(n);
    return r;
}

INLINE VF LANE(vexp)(VF y)
{
    VF s, r = LANE(split)(y, &s);
    return (LANE(expm1_small)(r) + LANE(splat)(1.0f)) * s;
}

INLINE VF LANE(vsigmoid)(VF x)
{
    return LANE(splat)(1.0f) / (LANE(splat)(1.0f) + LANE(vexp)(-x));
}

INLINE VF LANE(vtanh)(VF x)
{
    VF ax = LANE(vmax)(x, -x), s;
    VF r = LANE(split)(LANE(splat)(2.0f) * LANE(vmin)(ax, LANE(splat)(20.0f)), &s);
    VF m = s * LANE(expm1_small)(r) + (s - LANE(splat)(1.0f)); /* expm1(2|x|) */
    VF t = m / (m + LANE(splat)(2.0f));
    return LANE(vselect)(x < LANE(splat)(0.0f), -t, t);
}

/* Apply f to x[0..n) in vectors of LANES, the tail through a padded one. */
#define LANE_APPLY(f, x, n)                                                     \
    do {                                                                        \
        size_t i_ = 0;                                                          \
        for (; i_ + LANES <= (n); i_ += LANES) {                                \
            VF v_;                                                              \
            memcpy(&v_, (x) + i_, sizeof v_);                                   \
            v_ = f(v_);                                                         \
            memcpy((x) + i_, &v_, sizeof v_);                                   \
        }                                                                       \
        if (i_ < (n)) {                                                         \
            VF v_ = LANE(splat)(0.0f);                                          \
            memcpy(&v_, (x) + i_, sizeof(float) * ((n) - i_));                  \
            v_ = f(v_);                                                         \
            memcpy((x) + i_, &v_, sizeof(float) * ((n) - i_));                  \
        }                                                                       \
    } while (0)

INLINE void LANE(apply)(VecOp op, float *x, size_t n)
{
    switch (op) {
    case VEC_SIGMOID: LANE_APPLY(LANE(vsigmoid), x, n); break;
    case VEC_TANH: LANE_APPLY(LANE(vtanh), x, n); break;
    case VEC_EXP: LANE_APPLY(LANE(vexp), x, n); break;
    }
}

#undef LANE_APPLY
#undef VF
#undef VI

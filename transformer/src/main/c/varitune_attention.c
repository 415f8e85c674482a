/*
 * varitune_attention: one attention head's products and softmax in AVX-512, on pinned Java float[].
 *
 * Each entry point does one head's step of VectorAttention (org.varitune.transformer.kernels), the same formulas as
 * Kernels.attentionForward / attentionBackward: the scores and their softmax, the values, and the backward of each.
 * A head of Q, K, V, out (and their gradients) is the (T, D) block at `base` with row stride C = H·D; a probability
 * block (att, dAtt, dPre) is (T, T) with row stride T.
 *
 * Why: OpenBLAS runs these 128×128×32 products at 35–40 GFLOP/s per thread (a product this small is mostly packing),
 * and the Vector API softmax costs 1.3–1.7 ns per element; here the products are register tiles straight on the
 * operands (no packing; K or V transposed once per head into a (D, T) scratch where a product needs it).
 *
 * Deterministic: every output element is one FMA chain over k in increasing order, started from 0 and then stored
 * (or added to the old value once, when accumulating), so the bits do not depend on the tile an element falls in;
 * the row reductions are fixed instruction sequences. Compiled with -ffp-contract=off: every rounding is written here.
 *
 * The Java side (NativeAttention) checks every offset and extent against the arrays before it calls in, and calls
 * in only where NativeGemm.avx512Supported0() said yes: this file trusts both.
 */
#include <jni.h>
#include <immintrin.h>
#include <math.h>
#include <stdint.h>

#define AVX512 __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------------------------------------------------------- */
/* The product: C (m, n) = A (m, k) · B (k, n), or C += A·B when accumulate.                                         */
/* A's element (i, p) is a[i·ars + p·acs] (broadcast, so either layout costs the same: Aᵀ is acs = 1, ars = rows);   */
/* B's row p is the n floats at b + p·ldb; C's row i the n floats at c + i·ldc.                                      */
/* ---------------------------------------------------------------------------------------------------------------- */

/* One MR × (NV·16) tile; `last` masks the columns of the last vector. MR, NV are constants after inlining. */
INLINE AVX512 void tile(const int MR, const int NV, int k, const float *a, int ars, int acs, const float *b, int ldb,
                        __mmask16 last, float *c, int ldc, int accumulate) {
    __m512 acc[12][4];                                      /* fully unrolled: every acc[i][v] is a register */
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        __m512 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(v == NV - 1 ? last : 0xFFFF, b + (long) p * ldb + 16 * v);
        const float *ap = a + (long) p * acs;
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(ap[(long) i * ars]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);   // acc += a[i, p]·b[p, :]
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __mmask16 m = v == NV - 1 ? last : 0xFFFF;
            float *cp = c + (long) i * ldc + 16 * v;
            __m512 r = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, cp), acc[i][v]) : acc[i][v];
            _mm512_mask_storeu_ps(cp, m, r);
        }
    }
}

#define TILE_ROWS(NV, MR) case MR: tile(MR, NV, k, ai, ars, acs, bj, ldb, last, ci, ldc, accumulate); break;
#define TILE_6_ROWS(NV) TILE_ROWS(NV, 6) TILE_ROWS(NV, 5) TILE_ROWS(NV, 4) TILE_ROWS(NV, 3) TILE_ROWS(NV, 2) \
    TILE_ROWS(NV, 1)
#define TILE_12_ROWS(NV) TILE_ROWS(NV, 12) TILE_ROWS(NV, 11) TILE_ROWS(NV, 10) TILE_ROWS(NV, 9) TILE_ROWS(NV, 8) \
    TILE_ROWS(NV, 7) TILE_6_ROWS(NV)

static AVX512 void gemm(int m, int n, int k, const float *a, int ars, int acs, const float *b, int ldb, float *c,
                        int ldc, int accumulate) {
    for (int j = 0; j < n; j += 64) {                       // column blocks of up to 4 vectors
        int w = n - j < 64 ? n - j : 64, nv = (w + 15) / 16, rem = w - 16 * (nv - 1);
        __mmask16 last = rem == 16 ? 0xFFFF : (__mmask16) ((1u << rem) - 1);
        int rows = nv <= 2 ? 12 : 6;                        // at most 24 accumulators of the 32 registers
        const float *bj = b + j;
        for (int i = 0; i < m; i += rows) {
            int mr = m - i < rows ? m - i : rows;
            const float *ai = a + (long) i * ars;
            float *ci = c + (long) i * ldc + j;
            switch (nv) {
                case 1: switch (mr) { TILE_12_ROWS(1) } break;
                case 2: switch (mr) { TILE_12_ROWS(2) } break;
                case 3: switch (mr) { TILE_6_ROWS(3) } break;
                default: switch (mr) { TILE_6_ROWS(4) } break;
            }
        }
    }
}

/* dst (cols, rows) = src (rows, cols)ᵀ; src rows at stride lds, dst rows at stride rows. */
static void transpose(float *dst, const float *src, int rows, int cols, int lds) {
    for (int r = 0; r < rows; r++)
        for (int d = 0; d < cols; d++) dst[(long) d * rows + r] = src[(long) r * lds + d];
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Softmax rows                                                                                                      */
/* ---------------------------------------------------------------------------------------------------------------- */

/* exp(x) for x <= 0: FastGelu.exp's operations (Cody–Waite reduction, Cephes polynomial); exactly 0 below −87. */
INLINE AVX512 __m512 exp_ps(__m512 xIn) {
    const __m512 round = _mm512_set1_ps(12582912.0f);     /* 1.5·2^23 */
    __m512 x = _mm512_max_ps(xIn, _mm512_set1_ps(-87.0f));
    __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), round), round);
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.9875691500e-4f), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r), _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_castps_si512(_mm512_add_ps(n, _mm512_set1_ps(12582912.0f + 127.0f))), 23);
    __m512 e = _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(xIn, _mm512_set1_ps(-87.0f), _CMP_NLT_UQ), e);   /* 0 where x < −87 */
}

/* Horizontal sum in a fixed order (halves, then quarters, ...). */
INLINE AVX512 float hsum(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm_cvtss_f32(q);
}

/* Masks for the last, partial vector of a row: its loads and stores only. Masked loads right after masked stores of
 * the same address are not store-forwarded (Intel) and stall, so full vectors use plain ones. */
INLINE __mmask16 tail_mask(int T, int i) { return (__mmask16) ((1u << (T - i)) - 1); }

/*
 * In place on one row of T scores: r = exp(s − max)/Σ exp(s − max), s = r·scale + bias, bias 0 for a key to attend
 * and −∞ for padding; a row whose keys are all padding is set to 0. s is computed twice (max, then exp), the same
 * operations both times.
 */
static AVX512 void softmax_row(float *r, int T, float scale, const float *bias) {
    const int e = T & ~15;
    __m512 mv = _mm512_set1_ps(-INFINITY), sc = _mm512_set1_ps(scale);
    int i = 0;
    for (; i < e; i += 16) mv = _mm512_max_ps(mv, _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(r + i), sc), _mm512_loadu_ps(bias + i)));
    if (i < T) {
        __mmask16 m = tail_mask(T, i);
        __m512 s = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, r + i), sc), _mm512_maskz_loadu_ps(m, bias + i));
        mv = _mm512_mask_max_ps(mv, m, mv, s);
    }
    float max = _mm512_reduce_max_ps(mv);                 /* a maximum is exact in any order */
    if (max == -INFINITY) {
        for (i = 0; i < T; i++) r[i] = 0.0f;
        return;
    }
    __m512 sv = _mm512_setzero_ps(), mx = _mm512_set1_ps(max);
    for (i = 0; i < e; i += 16) {
        __m512 s = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(r + i), sc), _mm512_loadu_ps(bias + i));
        __m512 x = exp_ps(_mm512_sub_ps(s, mx));
        _mm512_storeu_ps(r + i, x);
        sv = _mm512_add_ps(sv, x);
    }
    if (i < T) {
        __mmask16 m = tail_mask(T, i);
        __m512 s = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, r + i), sc), _mm512_maskz_loadu_ps(m, bias + i));
        __m512 x = _mm512_maskz_mov_ps(m, exp_ps(_mm512_sub_ps(s, mx)));
        _mm512_mask_storeu_ps(r + i, m, x);
        sv = _mm512_add_ps(sv, x);
    }
    __m512 inv = _mm512_set1_ps(1.0f / hsum(sv));
    for (i = 0; i < e; i += 16) _mm512_storeu_ps(r + i, _mm512_mul_ps(_mm512_loadu_ps(r + i), inv));
    for (; i < T; i++) r[i] *= _mm512_cvtss_f32(inv);
}

/* d = a⊙(g − Σ a⊙g)·scale over one row of T (d may alias g). */
static AVX512 void softmax_backward_row(float *d, const float *g, const float *a, int T, float scale) {
    const int e = T & ~15;
    __m512 acc = _mm512_setzero_ps();
    int i = 0;
    for (; i < e; i += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(g + i), acc);
    if (i < T) {
        __mmask16 m = tail_mask(T, i);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, g + i), acc);
    }
    __m512 dot = _mm512_set1_ps(hsum(acc)), sc = _mm512_set1_ps(scale);
    for (i = 0; i < e; i += 16) {
        __m512 x = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(g + i), dot), _mm512_loadu_ps(a + i));
        _mm512_storeu_ps(d + i, _mm512_mul_ps(x, sc));
    }
    if (i < T) {
        __mmask16 m = tail_mask(T, i);
        __m512 x = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, g + i), dot), _mm512_maskz_loadu_ps(m, a + i));
        _mm512_mask_storeu_ps(d + i, m, _mm512_mul_ps(x, sc));
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* JNI: pinning                                                                                                      */
/* ---------------------------------------------------------------------------------------------------------------- */

#define MAX_PINNED 8
typedef struct { JNIEnv *env; int n; jarray arr[MAX_PINNED]; void *ptr[MAX_PINNED]; } pins;

/* Pins arr (null gives NULL); on failure returns NULL with ok cleared (an OutOfMemoryError is pending). */
static void *pin(pins *ps, jarray arr, int *ok) {
    if (arr == NULL || !*ok) return NULL;
    void *p = (*ps->env)->GetPrimitiveArrayCritical(ps->env, arr, NULL);
    if (p == NULL) { *ok = 0; return NULL; }
    ps->arr[ps->n] = arr;
    ps->ptr[ps->n++] = p;
    return p;
}

/* Releases in reverse order; every array is written back (mode 0): HotSpot pins, so nothing is copied either way. */
static void unpin(pins *ps) {
    while (ps->n > 0) {
        ps->n--;
        (*ps->env)->ReleasePrimitiveArrayCritical(ps->env, ps->arr[ps->n], ps->ptr[ps->n], 0);
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* JNI: the per-head steps (Java names in NativeAttention)                                                           */
/* ---------------------------------------------------------------------------------------------------------------- */

/*
 * p[pOff + t·T + t2] = softmax_t2(scale·Σ_d q[base + t·C + d]·k[base + t2·C + d] + bias[t2]), bias from
 * mask[maskOff + t2] (0: −∞); scratch holds Kᵀ: (D, T). Modifies p (the (T, T) block) and scratch.
 */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeAttention_probsHead0(
        JNIEnv *env, jclass cls, jfloatArray p, jint pOff, jfloatArray q, jfloatArray k, jint base, jint C, jint T,
        jint D, jfloat scale, jfloatArray bias, jfloatArray scratch) {
    (void) cls;
    pins ps = {env, 0, {0}, {0}};
    int ok = 1;
    float *pp = pin(&ps, p, &ok), *pq = pin(&ps, q, &ok), *pk = pin(&ps, k, &ok), *pb = pin(&ps, bias, &ok),
          *kt = pin(&ps, scratch, &ok);
    if (ok) {
        float *att = pp + pOff;
        transpose(kt, pk + base, T, D, C);                                  // kt: (D, T)
        gemm(T, T, D, pq + base, C, 1, kt, T, att, T, 0);                   // pre[t, t2] = Σ_d q[t, d]·kt[d, t2]
        for (int t = 0; t < T; t++) softmax_row(att + (long) t * T, T, scale, pb);
    }
    unpin(&ps);
}

/* out[base + t·C + d] = Σ_t2 att[aOff + t·T + t2]·v[base + t2·C + d]. Modifies out (the head's (T, D) block). */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeAttention_valuesHead0(
        JNIEnv *env, jclass cls, jfloatArray out, jfloatArray att, jint aOff, jfloatArray v, jint base, jint C, jint T,
        jint D) {
    (void) cls;
    pins ps = {env, 0, {0}, {0}};
    int ok = 1;
    float *po = pin(&ps, out, &ok), *pa = pin(&ps, att, &ok), *pv = pin(&ps, v, &ok);
    if (ok) gemm(T, D, T, pa + aOff, T, 1, pv + base, C, po + base, C, 0);
    unpin(&ps);
}

/*
 * forward was out = att·V: dAtt[dOff + t·T + t2] (+)= Σ_d dOut[t, d]·v[t2, d] (added when accumulate, else
 * overwritten) and, when dV is not null, dV[t2, d] += Σ_t att[aOff + t·T + t2]·dOut[t, d]; scratch holds Vᵀ: (D, T).
 * Modifies dAtt's (T, T) block, dV's head block and scratch.
 */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeAttention_valuesBackwardHead0(
        JNIEnv *env, jclass cls, jfloatArray dAtt, jint dOff, jboolean accumulate, jfloatArray dV, jfloatArray dOut,
        jfloatArray att, jint aOff, jfloatArray v, jint base, jint C, jint T, jint D, jfloatArray scratch) {
    (void) cls;
    pins ps = {env, 0, {0}, {0}};
    int ok = 1;
    float *pda = pin(&ps, dAtt, &ok), *pdv = pin(&ps, dV, &ok), *pdo = pin(&ps, dOut, &ok), *pa = pin(&ps, att, &ok),
          *pv = pin(&ps, v, &ok), *vt = pin(&ps, scratch, &ok);
    if (ok) {
        transpose(vt, pv + base, T, D, C);                                  // vt: (D, T)
        gemm(T, T, D, pdo + base, C, 1, vt, T, pda + dOff, T, accumulate);  // dAtt[t, t2] (+)= Σ_d dOut[t, d]·vt[d, t2]
        if (pdv != NULL) gemm(T, D, T, pa + aOff, 1, T, pdo + base, C, pdv + base, C, 1);   // dV += attᵀ·dOut
    }
    unpin(&ps);
}

/*
 * forward was att = softmax(pre), pre = Q·Kᵀ·scale: dPre[t, :] = att[t, :]⊙(g[t, :] − Σ att[t, :]⊙g[t, :])·scale into
 * dPre's (T, T) block at dOff (which may be g's), g at gOff, att at aOff; then dQ[t, :] += Σ_t2 dPre[t, t2]·k[t2, :]
 * and dK[t2, :] += Σ_t dPre[t, t2]·q[t, :], each skipped when null. Modifies dPre's block and the heads of dQ, dK.
 */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeAttention_probsBackwardHead0(
        JNIEnv *env, jclass cls, jfloatArray dQ, jfloatArray dK, jfloatArray dPre, jint dOff, jfloatArray g, jint gOff,
        jfloatArray att, jint aOff, jfloatArray q, jfloatArray k, jint base, jint C, jint T, jint D, jfloat scale) {
    (void) cls;
    pins ps = {env, 0, {0}, {0}};
    int ok = 1;
    float *pdq = pin(&ps, dQ, &ok), *pdk = pin(&ps, dK, &ok), *pdp = pin(&ps, dPre, &ok), *pg = pin(&ps, g, &ok),
          *pa = pin(&ps, att, &ok), *pq = pin(&ps, q, &ok), *pk = pin(&ps, k, &ok);
    if (ok) {
        float *dp = pdp + dOff;
        for (int t = 0; t < T; t++) {
            softmax_backward_row(dp + (long) t * T, pg + gOff + (long) t * T, pa + aOff + (long) t * T, T, scale);
        }
        if (pdq != NULL) gemm(T, D, T, dp, T, 1, pk + base, C, pdq + base, C, 1);   // dQ += dPre·K
        if (pdk != NULL) gemm(T, D, T, dp, 1, T, pq + base, C, pdk + base, C, 1);   // dK += dPreᵀ·Q
    }
    unpin(&ps);
}

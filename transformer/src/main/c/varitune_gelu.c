/*
 * varitune_gelu: FastGelu's forward and backward in AVX-512 C on pinned Java float[], bit for bit.
 *
 * Every operation is FastGelu.range's vector operation, in its order (the same fma, mul, add, div, max and blend,
 * compiled with -ffp-contract=off), so the results equal the Java kernels' bits (NativeGeluTest checks it); the last
 * partial vector runs the same operations under a mask, which FastGelu's scalar tail also equals. Why: on JDK 17 the
 * Vector API version runs at ~1.3 ns per element per thread; this one is memory-bound.
 *
 * The Java side (NativeGelu) checks the range against the arrays and calls in only where
 * NativeGemm.avx512Supported0() said yes.
 */
#include <jni.h>
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

/* FastGelu's constants (A&S 7.1.26 for erfc, Cody–Waite + Cephes for exp), as floats. */
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f
#define P_ 0.3275911f
#define A1 0.254829592f
#define A2 -0.284496736f
#define A3 1.421413741f
#define A4 -1.453152027f
#define A5 1.061405429f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define E0 1.9875691500e-4f
#define E1 1.3981999507e-3f
#define E2 8.3334519073e-3f
#define E3 4.1665795894e-2f
#define E4 1.6666665459e-1f
#define E5 5.0000001201e-1f
#define ROUND 12582912.0f

#define S1(c) _mm512_set1_ps(c)

/* Φ(x) into *cdf and exp(−x²/2) into *e, FastGelu.range's operations. */
INLINE AVX512 void cdf_and_e(__m512 xv, __m512 *cdf, __m512 *e) {
    __m512 a = _mm512_mul_ps(_mm512_abs_ps(xv), S1(INV_SQRT2));
    __m512 ex = _mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a));     /* −(a·a): Java's neg() flips the sign */
    __m512 xc = _mm512_max_ps(ex, S1(-87.0f));
    __m512 n = _mm512_sub_ps(_mm512_fmadd_ps(xc, S1(LOG2E), S1(ROUND)), S1(ROUND));
    __m512 r = _mm512_fmadd_ps(n, S1(-LN2_HI), xc);
    r = _mm512_fmadd_ps(n, S1(-LN2_LO), r);
    __m512 pe = _mm512_fmadd_ps(r, S1(E0), S1(E1));
    pe = _mm512_fmadd_ps(pe, r, S1(E2));
    pe = _mm512_fmadd_ps(pe, r, S1(E3));
    pe = _mm512_fmadd_ps(pe, r, S1(E4));
    pe = _mm512_fmadd_ps(pe, r, S1(E5));
    __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(pe, _mm512_mul_ps(r, r)), r), S1(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_castps_si512(_mm512_add_ps(n, S1(ROUND + 127.0f))), 23);
    __mmask16 under = _mm512_cmp_ps_mask(ex, S1(-87.0f), _CMP_LT_OQ);
    *e = _mm512_mask_blend_ps(under, _mm512_mul_ps(y, _mm512_castsi512_ps(bits)), _mm512_setzero_ps());
    __m512 t = _mm512_fmadd_ps(a, S1(P_), S1(1.0f));
    t = _mm512_div_ps(S1(1.0f), t);
    __m512 poly = _mm512_fmadd_ps(t, S1(A5), S1(A4));
    poly = _mm512_fmadd_ps(poly, t, S1(A3));
    poly = _mm512_fmadd_ps(poly, t, S1(A2));
    poly = _mm512_fmadd_ps(poly, t, S1(A1));
    poly = _mm512_mul_ps(poly, t);
    __m512 half = _mm512_mul_ps(_mm512_mul_ps(poly, *e), S1(0.5f));            /* ½·erfc(|z|) */
    __mmask16 neg = _mm512_cmp_ps_mask(xv, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 minus_half = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(half), _mm512_set1_epi32((int) 0x80000000)));
    __m512 one_minus = _mm512_add_ps(minus_half, S1(1.0f));                    /* −half + 1 */
    *cdf = _mm512_mask_blend_ps(neg, one_minus, half);                          /* Φ(x) */
}

INLINE __mmask16 mask_for(int left) { return left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1); }

static AVX512 void forward(float *out, const float *x, int lo, int hi) {
    for (int i = lo; i < hi; i += 16) {
        __mmask16 m = mask_for(hi - i);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + i), cdf, e;
        cdf_and_e(xv, &cdf, &e);
        _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(xv, cdf));             /* out = x·Φ(x) */
    }
}

static AVX512 void backward(float *dX, const float *x, const float *dOut, int lo, int hi, int overwrite) {
    for (int i = lo; i < hi; i += 16) {
        __mmask16 m = mask_for(hi - i);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + i), cdf, e;
        cdf_and_e(xv, &cdf, &e);
        /* forward was: out = x·Φ(x); so dX (+)= dOut·(Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π) */
        __m512 grad = _mm512_fmadd_ps(_mm512_mul_ps(xv, e), S1(INV_SQRT_2PI), cdf);
        __m512 d = _mm512_maskz_loadu_ps(m, dOut + i);
        __m512 r = overwrite ? _mm512_mul_ps(d, grad) : _mm512_fmadd_ps(d, grad, _mm512_maskz_loadu_ps(m, dX + i));
        _mm512_mask_storeu_ps(dX + i, m, r);
    }
}

/* out[i] = GELU(x[i]) for i in [lo, hi). Modifies out (which may be x). */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeGelu_forward0(JNIEnv *env, jclass cls,
        jfloatArray out, jfloatArray x, jint lo, jint hi) {
    (void) cls;
    float *po = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    float *px = po ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    if (px) forward(po, px, lo, hi);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, 0);
    if (po) (*env)->ReleasePrimitiveArrayCritical(env, out, po, 0);
}

/* dX[i] (+)= dOut[i]·GELU'(x[i]) for i in [lo, hi), written when overwrite. Modifies dX. */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeGelu_backward0(JNIEnv *env, jclass cls,
        jfloatArray dX, jfloatArray x, jfloatArray dOut, jint lo, jint hi, jboolean overwrite) {
    (void) cls;
    float *pd = (*env)->GetPrimitiveArrayCritical(env, dX, NULL);
    float *px = pd ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    float *pg = px ? (*env)->GetPrimitiveArrayCritical(env, dOut, NULL) : NULL;
    if (pg) backward(pd, px, pg, lo, hi, overwrite);
    if (pg) (*env)->ReleasePrimitiveArrayCritical(env, dOut, pg, JNI_ABORT);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, 0);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, dX, pd, 0);
}

/*
 * varitune_optim: AdamW's element update in AVX-512 doubles on pinned Java float[] (org.varitune.training.AdamW).
 *
 * The same IEEE double operations in the same order as AdamW's scalar formula (no fused multiply-add: compiled with
 * -ffp-contract=off, and every operation is written out), each float widened exactly and the results rounded to
 * nearest, so the bits equal the scalar Java loop's (OptimizerTest checks it). Why: on JDK 17 the Vector API version
 * needs double buffers (a second, half-width float species would leave every other Vector API kernel boxed) and ran at
 * 4–5 ns per parameter; here the widening is one instruction.
 *
 * The Java side (NativeAdamW) checks the range against the four arrays and calls in only where NativeGemm.avx512Supported0() said yes.
 */
#include <jni.h>
#include <immintrin.h>
#include <math.h>

#define AVX512 __attribute__((target("avx512f")))

/* One element of the update below, in scalar doubles (the loop's tail). */
static void update1(float *w, const float *g, float *m, float *v, int i, double decay, double stepSize, double bc2Sqrt,
                    double b1, double b2, double c1, double c2, double eps) {
    double gi = g[i];
    double wi = (double) w[i] * decay;
    double mi = b1 * m[i] + c1 * gi;
    double vi = b2 * v[i] + c2 * gi * gi;
    m[i] = (float) mi;
    v[i] = (float) vi;
    w[i] = (float) (wi - stepSize * mi / (sqrt(vi) / bc2Sqrt + eps));
}

static AVX512 void update(float *w, const float *g, float *m, float *v, int lo, int hi, double decay, double stepSize,
                          double bc2Sqrt, double b1, double b2, double c1, double c2, double eps) {
    const __m512d vdecay = _mm512_set1_pd(decay), vstep = _mm512_set1_pd(stepSize), vbc2 = _mm512_set1_pd(bc2Sqrt),
                  vb1 = _mm512_set1_pd(b1), vb2 = _mm512_set1_pd(b2), vc1 = _mm512_set1_pd(c1), vc2 = _mm512_set1_pd(c2),
                  veps = _mm512_set1_pd(eps);
    int i = lo;
    for (; i + 8 <= hi; i += 8) {
        __m512d gi = _mm512_cvtps_pd(_mm256_loadu_ps(g + i));
        __m512d wi = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(w + i)), vdecay);                  // w·(1 − lr·wd)
        __m512d mi = _mm512_add_pd(_mm512_mul_pd(vb1, _mm512_cvtps_pd(_mm256_loadu_ps(m + i))),
                                   _mm512_mul_pd(vc1, gi));                                           // β1·m + (1 − β1)·g
        __m512d vi = _mm512_add_pd(_mm512_mul_pd(vb2, _mm512_cvtps_pd(_mm256_loadu_ps(v + i))),
                                   _mm512_mul_pd(_mm512_mul_pd(vc2, gi), gi));                        // β2·v + (1 − β2)·g·g
        __m512d den = _mm512_add_pd(_mm512_div_pd(_mm512_sqrt_pd(vi), vbc2), veps);                  // √v/√(1 − β2ᵗ) + eps
        __m512d wn = _mm512_sub_pd(wi, _mm512_div_pd(_mm512_mul_pd(vstep, mi), den));
        _mm256_storeu_ps(m + i, _mm512_cvtpd_ps(mi));
        _mm256_storeu_ps(v + i, _mm512_cvtpd_ps(vi));
        _mm256_storeu_ps(w + i, _mm512_cvtpd_ps(wn));
    }
    for (; i < hi; i++) update1(w, g, m, v, i, decay, stepSize, bc2Sqrt, b1, b2, c1, c2, eps);
}

/* AdamW on elements [lo, hi) of w, g, m, v; see AdamW's class comment for the formula. Modifies w, m, v. */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeAdamW_update0(
        JNIEnv *env, jclass cls, jfloatArray w, jfloatArray g, jfloatArray m, jfloatArray v, jint lo, jint hi,
        jdouble decay, jdouble stepSize, jdouble bc2Sqrt, jdouble b1, jdouble b2, jdouble c1, jdouble c2, jdouble eps) {
    (void) cls;
    float *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    float *pg = pw ? (*env)->GetPrimitiveArrayCritical(env, g, NULL) : NULL;
    float *pm = pg ? (*env)->GetPrimitiveArrayCritical(env, m, NULL) : NULL;
    float *pv = pm ? (*env)->GetPrimitiveArrayCritical(env, v, NULL) : NULL;
    if (pv) update(pw, pg, pm, pv, lo, hi, decay, stepSize, bc2Sqrt, b1, b2, c1, c2, eps);
    if (pv) (*env)->ReleasePrimitiveArrayCritical(env, v, pv, 0);
    if (pm) (*env)->ReleasePrimitiveArrayCritical(env, m, pm, 0);
    if (pg) (*env)->ReleasePrimitiveArrayCritical(env, g, pg, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, 0);
}

/*
 * varitune_dropout: DropoutOps.drawWords in AVX-512 C on a pinned Java long[], bit for bit.
 *
 * Element i of stream `key` is kept iff mix64(key + (i + 1)·GOLDEN) >>> 11 >= threshold (SplitMix64's finaliser,
 * integer operations only, so any implementation gives the same bits; NativeDropoutTest compares with the Java one).
 * Eight 64-bit lanes at a time with AVX-512DQ's 64-bit multiply; the Java Vector API version costs 0.8–1 ns a draw.
 *
 * The Java side (NativeDropout) checks the word range and calls in only where NativeGemm.avx512Supported0() said yes.
 */
#include <jni.h>
#include <immintrin.h>
#include <stdint.h>

#define GOLDEN 0x9E3779B97F4A7C15ULL

/* Decisions for elements 64k .. 64k + m − 1 (bit j = element 64k + j kept), m <= 64. */
static __attribute__((target("avx512f,avx512dq"))) uint64_t draw_word(uint64_t key, int64_t k, int64_t threshold,
                                                                        int m) {
    const __m512i lane = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), golden = _mm512_set1_epi64((long long) GOLDEN);
    const __m512i m1 = _mm512_set1_epi64((long long) 0xBF58476D1CE4E5B9ULL);
    const __m512i m2 = _mm512_set1_epi64((long long) 0x94D049BB133111EBULL);
    const __m512i thr = _mm512_set1_epi64(threshold);
    uint64_t z0 = key + ((uint64_t) k * 64 + 1) * GOLDEN;                 /* the counter of element 64k */
    __m512i laneCounter = _mm512_mullo_epi64(lane, golden);              /* l·GOLDEN */
    uint64_t word = 0;
    for (int j = 0; j < m; j += 8) {
        __m512i z = _mm512_add_epi64(laneCounter, _mm512_set1_epi64((long long) (z0 + (uint64_t) j * GOLDEN)));
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), m1);
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), m2);
        z = _mm512_srli_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 31)), 11);
        uint64_t part = (uint64_t) _mm512_cmpge_epi64_mask(z, thr);     /* signed, as Java's >= on longs */
        word |= part << j;
    }
    return m == 64 ? word : word & ((1ULL << m) - 1);
}

/* w[k] for k in [lo, hi): the decisions for elements 64k .. min(64k + 63, n − 1) (0 past n). Modifies w. */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeDropout_drawWords0(JNIEnv *env, jclass cls,
        jlongArray w, jint lo, jint hi, jlong key, jlong threshold, jint n) {
    (void) cls;
    int64_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    if (pw == NULL) return;
    for (int k = lo; k < hi; k++) {
        int64_t left = (int64_t) n - (int64_t) k * 64;
        pw[k] = (int64_t) draw_word((uint64_t) key, k, threshold, left >= 64 ? 64 : left <= 0 ? 0 : (int) left);
    }
    (*env)->ReleasePrimitiveArrayCritical(env, w, pw, 0);
}

/*
 * out[outOff + i] = keep(bitOff + i) ? x[xOff + i]·s : +0 for i < n, keep(j) = bit j & 63 of bits[j >> 6]: the float
 * product where kept, +0 where dropped, as DropoutOps.applyRange's bits(x·s) & (kept ? −1 : 0). Modifies out (which
 * may be x at the same offset).
 */
static __attribute__((target("avx512f"))) void apply_range(float *out, const float *x, const uint64_t *bits,
                                                            int64_t bitOff, float s, int n) {
    const __m512 sv = _mm512_set1_ps(s);
    for (int i = 0; i < n; i += 16) {
        int64_t j = bitOff + i;
        int sh = (int) (j & 63);
        int left = n - i;
        uint64_t b = bits[j >> 6] >> sh;
        if (sh > 48 && sh + (left < 16 ? left : 16) > 64) b |= bits[(j >> 6) + 1] << (64 - sh);   /* straddles a word */
        __mmask16 lanes = left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(lanes, x + i);
        _mm512_mask_storeu_ps(out + i, lanes, _mm512_maskz_mul_ps((__mmask16) b, xv, sv));   /* +0 where dropped */
    }
}

JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeDropout_applyRange0(JNIEnv *env, jclass cls,
        jfloatArray out, jint outOff, jfloatArray x, jint xOff, jlongArray bits, jint bitOff, jfloat s, jint n) {
    (void) cls;
    float *po = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    float *px = po ? (*env)->GetPrimitiveArrayCritical(env, x, NULL) : NULL;
    uint64_t *pb = px ? (*env)->GetPrimitiveArrayCritical(env, bits, NULL) : NULL;
    if (pb) apply_range(po + outOff, px + xOff, pb, bitOff, s, n);
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, bits, pb, JNI_ABORT);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, 0);
    if (po) (*env)->ReleasePrimitiveArrayCritical(env, out, po, 0);
}

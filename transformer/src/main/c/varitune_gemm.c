/*
 * varitune_gemm: cblas_sgemm on Java float[] without copies.
 *
 * JavaCPP's float[] overloads copy each array per call (Get/ReleaseFloatArrayElements); this shim pins the arrays
 * with GetPrimitiveArrayCritical (HotSpot hands out the array's own storage and holds off the GC until the release)
 * and calls OpenBLAS's cblas_sgemm, whose address the Java side looks up in the OpenBLAS that JavaCPP loaded
 * (Loader.addressof), so nothing here links against OpenBLAS. Between the Get and the Release calls nothing else
 * touches the JVM, as the JNI specification requires of a critical region.
 *
 * The Java side (org.varitune.transformer.kernels.NativeGemm) checks every offset, extent and leading dimension
 * against the array lengths before it calls in: this file trusts them.
 *
 * Built by build.sh during `mvn compile` (gcc, JDK headers); see NativeGemm for the fallback when it is absent.
 */
#include <jni.h>
#include <stdint.h>

/* cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), as cblas.h declares it */
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *,
                         int);

/*
 * C[cOff..] = alpha * op(A[aOff..]) * op(B[bOff..]) + beta * C[cOff..], row-major (cblas order 101);
 * transA / transB are cblas's 111 (no transpose) or 112 (transpose). Modifies c only.
 */
JNIEXPORT void JNICALL Java_org_varitune_transformer_kernels_NativeGemm_sgemm0(
        JNIEnv *env, jclass cls, jlong fn, jint transA, jint transB, jint m, jint n, jint k, jfloat alpha,
        jfloatArray a, jint aOff, jint lda, jfloatArray b, jint bOff, jint ldb, jfloat beta, jfloatArray c, jint cOff,
        jint ldc) {
    (void) cls;
    float *pa = (float *) (*env)->GetPrimitiveArrayCritical(env, a, NULL);
    if (pa == NULL) return;                          /* OutOfMemoryError pending */
    float *pb = (float *) (*env)->GetPrimitiveArrayCritical(env, b, NULL);
    if (pb == NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
        return;
    }
    float *pc = (float *) (*env)->GetPrimitiveArrayCritical(env, c, NULL);
    if (pc == NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, b, pb, JNI_ABORT);
        (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
        return;
    }
    ((sgemm_fn) (intptr_t) fn)(101, transA, transB, m, n, k, alpha, pa + aOff, lda, pb + bOff, ldb, beta, pc + cOff,
                               ldc);
    (*env)->ReleasePrimitiveArrayCritical(env, c, pc, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, b, pb, JNI_ABORT);
    (*env)->ReleasePrimitiveArrayCritical(env, a, pa, JNI_ABORT);
}

/* 1 when GetPrimitiveArrayCritical hands out the array itself (no copy), 0 when this JVM copies, -1 on failure. */
JNIEXPORT jint JNICALL Java_org_varitune_transformer_kernels_NativeGemm_pinsWithoutCopy0(JNIEnv *env, jclass cls,
                                                                                         jfloatArray a) {
    (void) cls;
    jboolean isCopy = JNI_FALSE;
    void *p = (*env)->GetPrimitiveArrayCritical(env, a, &isCopy);
    if (p == NULL) return -1;
    (*env)->ReleasePrimitiveArrayCritical(env, a, p, JNI_ABORT);
    return isCopy ? 0 : 1;
}

/* 1 when this CPU has AVX-512F and DQ (what varitune_attention.c, _optim.c, _gelu.c and _dropout.c need), else 0. */
JNIEXPORT jint JNICALL Java_org_varitune_transformer_kernels_NativeGemm_avx512Supported0(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? 1 : 0;
}

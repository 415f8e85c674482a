package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A pure-Java blocked matrix product on the Vector API, the one inner loop of the fallback matmuls and of attention:
 * for rows m in {@code [m0, m1)} and columns j in {@code [0, nCols)},
 * <pre>  C(m, j) = init(m, j) + Σ_k A(m, k)·B(k, j)</pre>
 * with {@code A(m, k) = a[aOff + m·sam + k·sak]} (any strides, so Aᵀ costs nothing),
 * {@code B(k, j) = b[bOff + k·ldb + j]} (rows contiguous), {@code C(m, j) = c[cOff + m·ldc + j]}, and
 * {@code init = C} when accumulating, else {@code bias[j]} or 0. Only C is modified.
 *
 * <p>Same arithmetic as {@link CpuKernels}' loops except that sums run in float and in another order: C is first set to
 * bias or 0 when not accumulating (so every register tile starts from a load: in JDK 17 a vector chosen by a branch
 * is boxed, which cost 20× here), the columns are cut into panels of two vectors, k into blocks of {@link #KC} (so a B panel stays in L1 while the rows stream by),
 * and a 4-row × 2-vector register tile does 8 FMAs per 2 vector loads and 4 broadcasts. Leftover rows use a 1-row
 * tile, leftover columns a 1-vector panel and then a scalar loop (the tail).
 */
final class VectorGemm {
    private VectorGemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** k-block: a B panel of KC × 2 vectors is 16 KiB at 512-bit vectors. */
    static final int KC = 128;

    static void gemm(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, int m0, int m1, int nCols, int K, boolean accumulate, float[] bias) {
        if (m1 <= m0 || nCols <= 0) return;
        if (K <= 0) {
            if (!accumulate) {
                for (int m = m0; m < m1; m++) {
                    for (int j = 0; j < nCols; j++) c[cOff + m * ldc + j] = bias == null ? 0f : bias[j];
                }
            }
            return;
        }
        if (!accumulate) {                            // C starts from bias or 0, then every k-block adds into it
            for (int m = m0; m < m1; m++) {
                int ci = cOff + m * ldc;
                if (bias == null) java.util.Arrays.fill(c, ci, ci + nCols, 0f);
                else System.arraycopy(bias, 0, c, ci, nCols);
            }
        }
        int j2 = nCols - nCols % (2 * VL), j1 = nCols - nCols % VL;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int k1 = Math.min(K, k0 + KC);
            for (int j = 0; j < j2; j += 2 * VL) {
                int m = m0;
                for (; m + 4 <= m1; m += 4) tile4x2(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
                for (; m < m1; m++) tile1x2(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
            }
            for (int j = j2; j < j1; j += VL) {
                for (int m = m0; m < m1; m++) tile1x1(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
            }
            for (int j = j1; j < nCols; j++) {
                for (int m = m0; m < m1; m++) {
                    int ci = cOff + m * ldc + j;
                    float acc = c[ci];
                    int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
                    for (int k = k0; k < k1; k++, ai += sak, bi += ldb) acc = Math.fma(a[ai], b[bi], acc);
                    c[ci] = acc;
                }
            }
        }
    }

    private static void tile4x2(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb, float[] c,
                                int cOff, int ldc, int m, int j, int k0, int k1) {
        int c0 = cOff + m * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector s00 = FloatVector.fromArray(S, c, c0), s01 = FloatVector.fromArray(S, c, c0 + VL);
        FloatVector s10 = FloatVector.fromArray(S, c, c1), s11 = FloatVector.fromArray(S, c, c1 + VL);
        FloatVector s20 = FloatVector.fromArray(S, c, c2), s21 = FloatVector.fromArray(S, c, c2 + VL);
        FloatVector s30 = FloatVector.fromArray(S, c, c3), s31 = FloatVector.fromArray(S, c, c3 + VL);
        int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
        for (int k = k0; k < k1; k++, ai += sak, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + VL);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            s00 = b0.fma(x, s00);
            s01 = b1.fma(x, s01);
            x = FloatVector.broadcast(S, a[ai + sam]);
            s10 = b0.fma(x, s10);
            s11 = b1.fma(x, s11);
            x = FloatVector.broadcast(S, a[ai + 2 * sam]);
            s20 = b0.fma(x, s20);
            s21 = b1.fma(x, s21);
            x = FloatVector.broadcast(S, a[ai + 3 * sam]);
            s30 = b0.fma(x, s30);
            s31 = b1.fma(x, s31);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + VL);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + VL);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + VL);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + VL);
    }

    private static void tile1x2(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb, float[] c,
                                int cOff, int ldc, int m, int j, int k0, int k1) {
        int c0 = cOff + m * ldc + j;
        FloatVector s0 = FloatVector.fromArray(S, c, c0), s1 = FloatVector.fromArray(S, c, c0 + VL);
        int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
        for (int k = k0; k < k1; k++, ai += sak, bi += ldb) {
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            s0 = FloatVector.fromArray(S, b, bi).fma(x, s0);
            s1 = FloatVector.fromArray(S, b, bi + VL).fma(x, s1);
        }
        s0.intoArray(c, c0);
        s1.intoArray(c, c0 + VL);
    }

    private static void tile1x1(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb, float[] c,
                                int cOff, int ldc, int m, int j, int k0, int k1) {
        int c0 = cOff + m * ldc + j;
        FloatVector s0 = FloatVector.fromArray(S, c, c0);
        int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
        for (int k = k0; k < k1; k++, ai += sak, bi += ldb) {
            s0 = FloatVector.fromArray(S, b, bi).fma(FloatVector.broadcast(S, a[ai]), s0);
        }
        s0.intoArray(c, c0);
    }

    /** {@code dst[dOff + r·ldd + c] = src[sOff + c·lds + r]} for r < rows, c < cols: a transpose into scratch. */
    static void transpose(float[] dst, int dOff, int ldd, float[] src, int sOff, int lds, int rows, int cols) {
        for (int cc = 0; cc < cols; cc++) {
            int si = sOff + cc * lds;
            for (int r = 0; r < rows; r++) dst[dOff + r * ldd + cc] = src[si + r];
        }
    }
}

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
 * is boxed, which cost 20× here), k is cut into blocks of {@link #KC} (so a B panel stays in L1 while the rows stream
 * by), and the columns into panels of four vectors (4-row × 4-vector register tiles: 16 FMAs per 4 vector loads and 4
 * broadcasts), then of two vectors (8-row × 2-vector tiles, then 4-row), then one vector (1-row tiles), then a scalar
 * loop. Every element is one FMA chain in k order whatever tile computes it, so the result does not depend on the
 * tiling, the row range a thread is given, or the JIT tier (Vector API FMA and {@link Math#fma} round alike):
 * bit-for-bit repeatable. On the attention shapes (T = 128, one thread) the 4×4 and 8×2 tiles took the products from
 * 60-75 to 75-100 GFLOP/s.
 */
final class VectorGemm {
    private VectorGemm() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int VL = S.length();
    /** k-block: a B panel of KC × 4 vectors is 32 KiB at 512-bit vectors. */
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
        int j4 = nCols - nCols % (4 * VL), j2 = nCols - nCols % (2 * VL), j1 = nCols - nCols % VL;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int k1 = Math.min(K, k0 + KC);
            for (int j = 0; j < j4; j += 4 * VL) {
                int m = m0;
                for (; m + 4 <= m1; m += 4) tile4x4(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
                for (; m < m1; m++) {
                    tile1x2(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
                    tile1x2(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j + 2 * VL, k0, k1);
                }
            }
            for (int j = j4; j < j2; j += 2 * VL) {
                int m = m0;
                for (; m + 8 <= m1; m += 8) tile8x2(a, aOff, sam, sak, b, bOff, ldb, c, cOff, ldc, m, j, k0, k1);
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

    private static void tile8x2(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb, float[] c,
                                int cOff, int ldc, int m, int j, int k0, int k1) {
        int c0 = cOff + m * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc,
                c6 = c5 + ldc, c7 = c6 + ldc;
        FloatVector s00 = FloatVector.fromArray(S, c, c0), s01 = FloatVector.fromArray(S, c, c0 + VL);
        FloatVector s10 = FloatVector.fromArray(S, c, c1), s11 = FloatVector.fromArray(S, c, c1 + VL);
        FloatVector s20 = FloatVector.fromArray(S, c, c2), s21 = FloatVector.fromArray(S, c, c2 + VL);
        FloatVector s30 = FloatVector.fromArray(S, c, c3), s31 = FloatVector.fromArray(S, c, c3 + VL);
        FloatVector s40 = FloatVector.fromArray(S, c, c4), s41 = FloatVector.fromArray(S, c, c4 + VL);
        FloatVector s50 = FloatVector.fromArray(S, c, c5), s51 = FloatVector.fromArray(S, c, c5 + VL);
        FloatVector s60 = FloatVector.fromArray(S, c, c6), s61 = FloatVector.fromArray(S, c, c6 + VL);
        FloatVector s70 = FloatVector.fromArray(S, c, c7), s71 = FloatVector.fromArray(S, c, c7 + VL);
        int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
        for (int k = k0; k < k1; k++, ai += sak, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + VL);
            FloatVector x0 = FloatVector.broadcast(S, a[ai]);
            s00 = b0.fma(x0, s00);
            s01 = b1.fma(x0, s01);
            FloatVector x1 = FloatVector.broadcast(S, a[ai + sam]);
            s10 = b0.fma(x1, s10);
            s11 = b1.fma(x1, s11);
            FloatVector x2 = FloatVector.broadcast(S, a[ai + 2 * sam]);
            s20 = b0.fma(x2, s20);
            s21 = b1.fma(x2, s21);
            FloatVector x3 = FloatVector.broadcast(S, a[ai + 3 * sam]);
            s30 = b0.fma(x3, s30);
            s31 = b1.fma(x3, s31);
            FloatVector x4 = FloatVector.broadcast(S, a[ai + 4 * sam]);
            s40 = b0.fma(x4, s40);
            s41 = b1.fma(x4, s41);
            FloatVector x5 = FloatVector.broadcast(S, a[ai + 5 * sam]);
            s50 = b0.fma(x5, s50);
            s51 = b1.fma(x5, s51);
            FloatVector x6 = FloatVector.broadcast(S, a[ai + 6 * sam]);
            s60 = b0.fma(x6, s60);
            s61 = b1.fma(x6, s61);
            FloatVector x7 = FloatVector.broadcast(S, a[ai + 7 * sam]);
            s70 = b0.fma(x7, s70);
            s71 = b1.fma(x7, s71);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + VL);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + VL);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + VL);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + VL);
        s40.intoArray(c, c4);
        s41.intoArray(c, c4 + VL);
        s50.intoArray(c, c5);
        s51.intoArray(c, c5 + VL);
        s60.intoArray(c, c6);
        s61.intoArray(c, c6 + VL);
        s70.intoArray(c, c7);
        s71.intoArray(c, c7 + VL);
    }

    private static void tile4x4(float[] a, int aOff, int sam, int sak, float[] b, int bOff, int ldb, float[] c,
                                int cOff, int ldc, int m, int j, int k0, int k1) {
        int c0 = cOff + m * ldc + j, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        FloatVector s00 = FloatVector.fromArray(S, c, c0), s01 = FloatVector.fromArray(S, c, c0 + VL);
        FloatVector s02 = FloatVector.fromArray(S, c, c0 + 2 * VL), s03 = FloatVector.fromArray(S, c, c0 + 3 * VL);
        FloatVector s10 = FloatVector.fromArray(S, c, c1), s11 = FloatVector.fromArray(S, c, c1 + VL);
        FloatVector s12 = FloatVector.fromArray(S, c, c1 + 2 * VL), s13 = FloatVector.fromArray(S, c, c1 + 3 * VL);
        FloatVector s20 = FloatVector.fromArray(S, c, c2), s21 = FloatVector.fromArray(S, c, c2 + VL);
        FloatVector s22 = FloatVector.fromArray(S, c, c2 + 2 * VL), s23 = FloatVector.fromArray(S, c, c2 + 3 * VL);
        FloatVector s30 = FloatVector.fromArray(S, c, c3), s31 = FloatVector.fromArray(S, c, c3 + VL);
        FloatVector s32 = FloatVector.fromArray(S, c, c3 + 2 * VL), s33 = FloatVector.fromArray(S, c, c3 + 3 * VL);
        int ai = aOff + m * sam + k0 * sak, bi = bOff + k0 * ldb + j;
        for (int k = k0; k < k1; k++, ai += sak, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + VL);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * VL), b3 = FloatVector.fromArray(S, b, bi + 3 * VL);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            s00 = b0.fma(x, s00);
            s01 = b1.fma(x, s01);
            s02 = b2.fma(x, s02);
            s03 = b3.fma(x, s03);
            x = FloatVector.broadcast(S, a[ai + sam]);
            s10 = b0.fma(x, s10);
            s11 = b1.fma(x, s11);
            s12 = b2.fma(x, s12);
            s13 = b3.fma(x, s13);
            x = FloatVector.broadcast(S, a[ai + 2 * sam]);
            s20 = b0.fma(x, s20);
            s21 = b1.fma(x, s21);
            s22 = b2.fma(x, s22);
            s23 = b3.fma(x, s23);
            x = FloatVector.broadcast(S, a[ai + 3 * sam]);
            s30 = b0.fma(x, s30);
            s31 = b1.fma(x, s31);
            s32 = b2.fma(x, s32);
            s33 = b3.fma(x, s33);
        }
        s00.intoArray(c, c0);
        s01.intoArray(c, c0 + VL);
        s02.intoArray(c, c0 + 2 * VL);
        s03.intoArray(c, c0 + 3 * VL);
        s10.intoArray(c, c1);
        s11.intoArray(c, c1 + VL);
        s12.intoArray(c, c1 + 2 * VL);
        s13.intoArray(c, c1 + 3 * VL);
        s20.intoArray(c, c2);
        s21.intoArray(c, c2 + VL);
        s22.intoArray(c, c2 + 2 * VL);
        s23.intoArray(c, c2 + 3 * VL);
        s30.intoArray(c, c3);
        s31.intoArray(c, c3 + VL);
        s32.intoArray(c, c3 + 2 * VL);
        s33.intoArray(c, c3 + 3 * VL);
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

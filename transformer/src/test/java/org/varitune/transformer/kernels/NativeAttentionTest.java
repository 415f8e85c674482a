package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.transformer.testing.AllClose.assertAllClose;

/**
 * One head's AVX-512 steps ({@link NativeAttention}) against double sums computed here, on a head in the middle of
 * its rows (row stride C wider than D, at an offset), at sizes that leave partial vectors and partial tiles; the
 * floats outside the head's block must come back untouched, since the C code stores with masks. The whole-kernel
 * comparisons (every backend against the double layers, fused against split) are in {@link KernelsVsReferenceTest}
 * and {@link KernelsDeterminismTest}.
 */
@Tag("kernels")
class NativeAttentionTest extends TestBase {

    /**
     * Where the CPU has AVX-512F and the library builds, the kernels (and {@link NativeAdamW}, {@link NativeGelu},
     * {@link NativeDropout}) must load: no silent fall-back to the slow path.
     */
    @Test
    void loadsWhereTheCpuHasAvx512() throws Exception {
        Assumptions.assumeTrue(NativeGemm.available(), () -> "native library unavailable: " + NativeGemm.unavailableReason());
        Assumptions.assumeTrue(!"false".equals(System.getProperty("varitune.attention.avx512")), "switched off");
        Path cpuinfo = Path.of("/proc/cpuinfo");
        Assumptions.assumeTrue(Files.isReadable(cpuinfo), "no /proc/cpuinfo");
        Assumptions.assumeTrue(Files.readString(cpuinfo).contains(" avx512f") && Files.readString(cpuinfo).contains(" avx512dq"),
                "this CPU lacks AVX-512F or DQ");
        assertTrue(NativeAttention.available(), () -> "AVX-512 attention unavailable: " + NativeAttention.unavailableReason());
        assertEquals("fast(openblas+avx512)", FastCpuKernels.create().name());
        assertTrue(NativeAdamW.available(), () -> "native AdamW unavailable: " + NativeAdamW.unavailableReason());
        assertTrue(NativeGelu.available(), () -> "native GELU unavailable: " + NativeGelu.unavailableReason());
        assertTrue(NativeDropout.available(), () -> "native dropout unavailable: " + NativeDropout.unavailableReason());
    }

    private static void assumeAvailable() {
        Assumptions.assumeTrue(NativeAttention.available(), () -> "unavailable: " + NativeAttention.unavailableReason());
    }

    @Test
    void rejectsHeadBlocksOutsideTheirArrays() {
        assumeAvailable();
        int T = 5, D = 4, C = 8;
        float[] q = new float[T * C], k = new float[T * C], p = new float[T * T], bias = new float[T], dt = new float[D * T];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.probsHead(p, 0, q, new float[T * C - 1], D, C, T, D, 1f, bias, dt));
        assertTrue(e.getMessage().contains("k (5, 4) with row stride 8 at offset 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.valuesHead(q, p, 1, k, 0, C, T, D));
        assertTrue(e.getMessage().startsWith("attention head: att (5, 5)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NativeAttention.probsHead(p, 0, q, k, 0, C, T, D, 1f, bias, new float[D * T - 1]));
        assertTrue(e.getMessage().contains("scratch"), e.getMessage());
    }

    @ParameterizedTest(name = "T={0} D={1}")
    @CsvSource({"1, 1", "13, 20", "17, 33", "64, 32", "130, 80"})
    void headStepsMatchDoubleSumsAndLeaveTheRestAlone(int T, int D) {
        assumeAvailable();
        int C = 3 * D, base = D;                                   // the middle head of three
        float scale = (float) (1 / Math.sqrt(D));
        float[] q = randn(T * C), k = randn(T * C), v = randn(T * C), dOut = randn(T * C);
        float[] bias = new float[T];
        for (int t = 0; t < T; t++) bias[t] = t % 5 == 3 && T > 1 ? Float.NEGATIVE_INFINITY : 0f;   // padding keys

        // forward: att = softmax(q·kᵀ·scale + bias), out = att·v
        int pOff = 7;
        float[] p = randn(pOff + T * T + 5), pBefore = p.clone();
        NativeAttention.probsHead(p, pOff, q, k, base, C, T, D, scale, bias, new float[D * T]);
        double[] att = new double[T * T];
        for (int t = 0; t < T; t++) {
            double max = Double.NEGATIVE_INFINITY;
            double[] s = new double[T];
            for (int t2 = 0; t2 < T; t2++) {
                double dot = 0;
                for (int d = 0; d < D; d++) dot += (double) q[base + t * C + d] * k[base + t2 * C + d];
                s[t2] = dot * scale + bias[t2];
                max = Math.max(max, s[t2]);
            }
            double sum = 0;
            for (int t2 = 0; t2 < T; t2++) sum += Math.exp(s[t2] - max);
            for (int t2 = 0; t2 < T; t2++) att[t * T + t2] = Math.exp(s[t2] - max) / sum;
        }
        assertAllClose("att", slice(p, pOff, T * T), att, Tolerances.F32_ATTENTION, T, T);
        assertUntouchedOutside("p", p, pBefore, pOff, T * T, 1, T * T);

        float[] out = randn(T * C), outBefore = out.clone();
        NativeAttention.valuesHead(out, p, pOff, v, base, C, T, D);
        double[] eOut = new double[T * D];
        for (int t = 0; t < T; t++) {
            for (int d = 0; d < D; d++) {
                double acc = 0;
                for (int t2 = 0; t2 < T; t2++) acc += (double) p[pOff + t * T + t2] * v[base + t2 * C + d];
                eOut[t * D + d] = acc;
            }
        }
        assertAllClose("out", head(out, base, C, T, D), eOut, Tolerances.F32_ATTENTION, T, D);
        assertUntouchedOutside("out", out, outBefore, base, C, T, D);

        // backward of out = att·v: dAtt (accumulated onto g0) and dV += attᵀ·dOut
        float[] g0 = randn(T * T), dAtt = g0.clone(), dV = randn(T * C), dVBefore = dV.clone();
        NativeAttention.valuesBackwardHead(dAtt, 0, true, dV, dOut, p, pOff, v, base, C, T, D, new float[D * T]);
        double[] eDAtt = new double[T * T], eDV = new double[T * D];
        for (int t = 0; t < T; t++) {
            for (int t2 = 0; t2 < T; t2++) {
                double acc = 0;
                for (int d = 0; d < D; d++) acc += (double) dOut[base + t * C + d] * v[base + t2 * C + d];
                eDAtt[t * T + t2] = g0[t * T + t2] + acc;
            }
        }
        for (int t2 = 0; t2 < T; t2++) {
            for (int d = 0; d < D; d++) {
                double acc = dVBefore[base + t2 * C + d];
                for (int t = 0; t < T; t++) acc += (double) p[pOff + t * T + t2] * dOut[base + t * C + d];
                eDV[t2 * D + d] = acc;
            }
        }
        assertAllClose("dAtt", dAtt, eDAtt, Tolerances.F32_ATTENTION, T, T);
        assertAllClose("dV", head(dV, base, C, T, D), eDV, Tolerances.F32_ATTENTION, T, D);
        assertUntouchedOutside("dV", dV, dVBefore, base, C, T, D);

        // backward of the softmax: dPre = att⊙(g − rowsum(att⊙g))·scale, dQ += dPre·k, dK += dPreᵀ·q
        float[] dPre = new float[T * T], dQ = randn(T * C), dK = randn(T * C), dQBefore = dQ.clone(), dKBefore = dK.clone();
        NativeAttention.probsBackwardHead(dQ, dK, dPre, 0, dAtt, 0, p, pOff, q, k, base, C, T, D, scale);
        double[] eDPre = new double[T * T];
        for (int t = 0; t < T; t++) {
            double dot = 0;
            for (int t2 = 0; t2 < T; t2++) dot += (double) p[pOff + t * T + t2] * dAtt[t * T + t2];
            for (int t2 = 0; t2 < T; t2++) eDPre[t * T + t2] = p[pOff + t * T + t2] * (dAtt[t * T + t2] - dot) * scale;
        }
        double[] eDQ = new double[T * D], eDK = new double[T * D];
        for (int t = 0; t < T; t++) {
            for (int d = 0; d < D; d++) {
                double aq = dQBefore[base + t * C + d], ak = dKBefore[base + t * C + d];
                for (int u = 0; u < T; u++) {
                    aq += (double) dPre[t * T + u] * k[base + u * C + d];
                    ak += (double) dPre[u * T + t] * q[base + u * C + d];
                }
                eDQ[t * D + d] = aq;
                eDK[t * D + d] = ak;
            }
        }
        assertAllClose("dPre", dPre, eDPre, Tolerances.F32_ATTENTION, T, T);
        assertAllClose("dQ", head(dQ, base, C, T, D), eDQ, Tolerances.F32_ATTENTION, T, D);
        assertAllClose("dK", head(dK, base, C, T, D), eDK, Tolerances.F32_ATTENTION, T, D);
        assertUntouchedOutside("dQ", dQ, dQBefore, base, C, T, D);
        assertUntouchedOutside("dK", dK, dKBefore, base, C, T, D);
    }

    private static float[] slice(float[] a, int off, int n) { return java.util.Arrays.copyOfRange(a, off, off + n); }

    /** The (T, D) head block at base with row stride C, packed. */
    private static float[] head(float[] a, int base, int C, int T, int D) {
        float[] r = new float[T * D];
        for (int t = 0; t < T; t++) System.arraycopy(a, base + t * C, r, t * D, D);
        return r;
    }

    /** Every float outside the (rows, cols) block at off with row stride ld equals its value before the call. */
    private static void assertUntouchedOutside(String name, float[] after, float[] before, int off, int ld, int rows,
                                               int cols) {
        for (int i = 0; i < after.length; i++) {
            int rel = i - off;
            boolean inside = rel >= 0 && rel / ld < rows && rel % ld < cols;
            if (!inside && Float.floatToRawIntBits(after[i]) != Float.floatToRawIntBits(before[i])) {
                throw new AssertionError(name + "[" + i + "] outside the head's block changed: " + before[i] + " -> " + after[i]);
            }
        }
    }
}

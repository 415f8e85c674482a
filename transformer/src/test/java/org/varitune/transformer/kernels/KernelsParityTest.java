package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.varitune.transformer.testing.AllClose.assertAllClose;

/**
 * Third link of the chain: every {@link Kernels} implementation against the plain {@link CpuKernels} at encoder-like
 * shapes (several GEMM tiles and parallel chunks), plus the argument rules: null gradients skipped, aliasing allowed
 * where the interface allows it, a null att in forward.
 */
@Tag("kernels")
class KernelsParityTest extends TestBase {
    private final Kernels cpu = new CpuKernels();
    /**
     * Two calls of one backend that take different paths to the same numbers (a null gradient skipped, out aliasing
     * x, att not kept). The backends here give identical bits (plain repeats are checked bit for bit in
     * {@link KernelsDeterminismTest}); the tolerance only leaves a backend free to cut such paths differently.
     */
    static final double SAME_BACKEND = 1e-6;

    static List<Kernels> allKernels() {
        List<Kernels> ks = new ArrayList<>(List.of(FastCpuKernels.vectorOnly()));
        if (Blas.available()) ks.add(FastCpuKernels.copyingBlas());
        if (NativeGemm.available()) ks.add(FastCpuKernels.pinnedBlas());
        if (NativeAttention.available()) ks.add(FastCpuKernels.create());
        ks.add(Kernels.fromSystemProperty());
        return ks;
    }

    @Test
    void openBlasLoadsSingleThreadedOrSaysWhy() {
        Assumptions.assumeTrue(Blas.available(), () -> "OpenBLAS not available: " + Blas.unavailableReason());
        assertEquals(null, Blas.unavailableReason());
        assertEquals(1, Blas.openblasThreads());
        assertEquals(!NativeGemm.available() ? "fast(openblas, copied)"
                : NativeAttention.available() ? "fast(openblas+avx512)" : "fast(openblas)", FastCpuKernels.create().name());
        if (NativeGemm.available()) assertEquals("fast(openblas)", FastCpuKernels.pinnedBlas().name());
        assertEquals("fast(openblas, copied)", FastCpuKernels.copyingBlas().name());
    }

    /**
     * A second float species (e.g. a half-width one for float→double conversion) anywhere in the JVM pollutes the
     * profiles of JDK 17's shared FloatVector code, after which C2 leaves vector operations boxed (attention ran 6×
     * slower after one LayerNorm backward). So every species constant of the fast kernels is the preferred float one.
     */
    @Test
    void fastKernelClassesDeclareOnlyThePreferredFloatSpecies() throws IllegalAccessException {
        int seen = 0;
        for (Class<?> c : List.of(FastOps.class, FastGelu.class, VectorGemm.class, VectorAttention.class,
                BlasMatmul.class, FastCpuKernels.class)) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (!jdk.incubator.vector.VectorSpecies.class.isAssignableFrom(f.getType())) continue;
                f.setAccessible(true);
                assertEquals(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, f.get(null), c.getSimpleName() + "." + f.getName());
                seen++;
            }
        }
        assertEquals(4, seen, "species constants found (FastOps, FastGelu, VectorGemm, VectorAttention)");
    }

    @Test
    void vectorOnlyNamesItself() {
        assertEquals("fast(vector)", FastCpuKernels.vectorOnly().name());
    }

    /**
     * The overwriting backward forms ({@code *Into}) ignore dX's old contents (NaN here) and equal zeroing dX and
     * accumulating into it, up to the sign of a zero (0 + (−0) is +0); dWeight and dBias still accumulate.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void overwritingBackwardsIgnoreDxAndEqualZeroThenAccumulate(Kernels k) {
        for (int[] sh : new int[][]{{97, 384, 384}, {5, 7, 3}, {3, 4, 0}}) {
            int N = sh[0], IC = sh[1], OC = sh[2];
            float[] x = randn(N * IC), w = randn(OC * IC), dOut = randn(N * OC), dW0 = randn(OC * IC), dB0 = randn(OC);
            float[] dX = nan(N * IC), dW = dW0.clone(), dB = dB0.clone();
            k.matmulBackwardInto(dX, dW, dB, dOut, x, w, N, IC, OC);
            float[] eX = new float[N * IC], eW = dW0.clone(), eB = dB0.clone();
            k.matmulBackward(eX, eW, eB, dOut, x, w, N, IC, OC);
            String at = k.name() + " matmulBackwardInto N=" + N + " IC=" + IC + " OC=" + OC;
            assertSameValues(at + " dX", eX, dX);
            assertSameValues(at + " dWeight", eW, dW);
            assertSameValues(at + " dBias", eB, dB);
        }
        int N = 33, C = 384;
        float[] x = randn(N * C), dOut = randn(N * C), g = randn(C), mean = new float[N], rstd = new float[N];
        k.layerNormForward(new float[N * C], mean, rstd, x, g, randn(C), N, C, 1e-12f);
        float[] dX = nan(N * C), dW = randn(C), dB = randn(C), eX = new float[N * C], eW = dW.clone(), eB = dB.clone();
        k.layerNormBackwardInto(dX, dW, dB, dOut, x, mean, rstd, g, N, C);
        k.layerNormBackward(eX, eW, eB, dOut, x, mean, rstd, g, N, C);
        assertSameValues(k.name() + " layerNormBackwardInto dX", eX, dX);
        assertSameValues(k.name() + " layerNormBackwardInto dWeight", eW, dW);
        assertSameValues(k.name() + " layerNormBackwardInto dBias", eB, dB);
        int n = 1000 + 13;
        float[] gx = randn(n), gd = randn(n), gX = nan(n), geX = new float[n];
        k.geluBackwardInto(gX, gx, gd, n);
        k.geluBackward(geX, gx, gd, n);
        assertSameValues(k.name() + " geluBackwardInto dX", geX, gX);
    }

    private static float[] nan(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }

    /** Equal as values (so +0 equals −0, and NaN fails), naming the first differing index. */
    private static void assertSameValues(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (!(expected[i] == actual[i])) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void matmulMatchesCpuKernels(Kernels k) {
        int N = 96, IC = 384, OC = 1536;
        float[] x = randn(N * IC), w = randn(OC * IC), b = randn(OC), dOut = randn(N * OC);
        float[] e = new float[N * OC], a = new float[N * OC];
        cpu.matmulForward(e, x, w, b, N, IC, OC);
        k.matmulForward(a, x, w, b, N, IC, OC);
        assertAllClose(k.name() + " matmul out", a, e, Tolerances.F32_MATMUL, N, OC);
        k.matmulForward(a, x, w, null, N, IC, OC);
        cpu.matmulForward(e, x, w, null, N, IC, OC);
        assertAllClose(k.name() + " matmul out, no bias", a, e, Tolerances.F32_MATMUL, N, OC);

        float[] g0x = randn(N * IC), g0w = randn(OC * IC), g0b = randn(OC);
        float[] eX = g0x.clone(), eW = g0w.clone(), eB = g0b.clone(), aX = g0x.clone(), aW = g0w.clone(), aB = g0b.clone();
        cpu.matmulBackward(eX, eW, eB, dOut, x, w, N, IC, OC);
        k.matmulBackward(aX, aW, aB, dOut, x, w, N, IC, OC);
        assertAllClose(k.name() + " matmul dX", aX, eX, Tolerances.F32_MATMUL, N, IC);
        assertAllClose(k.name() + " matmul dWeight", aW, eW, Tolerances.F32_MATMUL, OC, IC);
        assertAllClose(k.name() + " matmul dBias", aB, eB, Tolerances.F32_MATMUL, OC);

        // each null gradient is skipped, the others still computed
        float[] onlyW = g0w.clone(), onlyX = g0x.clone(), onlyB = g0b.clone();
        k.matmulBackward(null, onlyW, null, dOut, x, w, N, IC, OC);
        k.matmulBackward(onlyX, null, null, dOut, x, w, N, IC, OC);
        k.matmulBackward(null, null, onlyB, dOut, x, w, N, IC, OC);
        k.matmulBackward(null, null, null, dOut, x, w, N, IC, OC);
        assertAllClose(k.name() + " dWeight alone", onlyW, aW, SAME_BACKEND);
        assertAllClose(k.name() + " dX alone", onlyX, aX, SAME_BACKEND);
        assertAllClose(k.name() + " dBias alone", onlyB, aB, SAME_BACKEND);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void layerNormMatchesCpuKernels(Kernels k) {
        int N = 200, C = 768;
        float eps = 1e-12f;
        float[] x = randn(N * C), w = randn(C), b = randn(C), dOut = randn(N * C);
        float[] e = new float[N * C], em = new float[N], es = new float[N], a = new float[N * C], am = new float[N],
                as = new float[N];
        cpu.layerNormForward(e, em, es, x, w, b, N, C, eps);
        k.layerNormForward(a, am, as, x, w, b, N, C, eps);
        assertAllClose(k.name() + " layerNorm out", a, e, Tolerances.F32_LAYERNORM, N, C);
        assertAllClose(k.name() + " layerNorm mean", am, em, Tolerances.F32_LAYERNORM, N);
        assertAllClose(k.name() + " layerNorm rstd", as, es, Tolerances.F32_LAYERNORM, N);
        k.layerNormForward(a, null, null, x, w, b, N, C, eps);
        assertAllClose(k.name() + " layerNorm out without stats", a, e, Tolerances.F32_LAYERNORM, N, C);

        float[] eX = randn(N * C), eW = randn(C), eB = randn(C), aX = eX.clone(), aW = eW.clone(), aB = eB.clone();
        cpu.layerNormBackward(eX, eW, eB, dOut, x, em, es, w, N, C);
        k.layerNormBackward(aX, aW, aB, dOut, x, em, es, w, N, C);
        assertAllClose(k.name() + " layerNorm dX", aX, eX, Tolerances.F32_LAYERNORM, N, C);
        assertAllClose(k.name() + " layerNorm dWeight", aW, eW, Tolerances.F32_LAYERNORM, C);
        assertAllClose(k.name() + " layerNorm dBias", aB, eB, Tolerances.F32_LAYERNORM, C);
        float[] before = aX.clone();
        k.layerNormBackward(aX, null, null, dOut, x, em, es, w, N, C);
        float[] twice = before.clone();
        k.layerNormBackward(twice, null, null, dOut, x, em, es, w, N, C);   // same increment again
        assertAllClose(k.name() + " layerNorm dX alone", twice, aX, SAME_BACKEND);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void geluAndAddMatchCpuKernelsAndAllowAliasing(Kernels k) {
        int n = 100_003;
        float[] x = randn(n), y = randn(n), dOut = randn(n), e = new float[n], a = new float[n];
        cpu.geluForward(e, x, n);
        k.geluForward(a, x, n);
        assertAllClose(k.name() + " gelu out", a, e, Tolerances.F32_ELEMENTWISE, n);
        float[] aliased = x.clone();
        k.geluForward(aliased, aliased, n);
        assertAllClose(k.name() + " gelu with out == x", aliased, a, SAME_BACKEND);
        float[] eX = randn(n), aX = eX.clone();
        cpu.geluBackward(eX, x, dOut, n);
        k.geluBackward(aX, x, dOut, n);
        assertAllClose(k.name() + " gelu dX", aX, eX, Tolerances.F32_ELEMENTWISE, n);

        cpu.add(e, x, y, n);
        k.add(a, x, y, n);
        assertArrayEquals(e, a, k.name() + " add");
        float[] acc = x.clone();
        k.add(acc, acc, y, n);
        assertArrayEquals(e, acc, k.name() + " add with out == a");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void attentionMatchesCpuKernels(Kernels k) {
        int B = 3, T = 128, H = 4, D = 32, n = B * T * H * D, na = B * H * T * T;
        int[] mask = KernelsVsReferenceTest.paddingMask(B, T);
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n);
        float[] e = new float[n], ea = new float[na], a = new float[n], aa = new float[na], noAtt = new float[n];
        cpu.attentionForward(e, ea, q, kk, v, mask, B, T, H, D);
        k.attentionForward(a, aa, q, kk, v, mask, B, T, H, D);
        k.attentionForward(noAtt, null, q, kk, v, mask, B, T, H, D);
        assertAllClose(k.name() + " attention out", a, e, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention att", aa, ea, Tolerances.F32_ATTENTION, B, H, T, T);
        assertAllClose(k.name() + " attention out without att", noAtt, a, SAME_BACKEND);

        float[] eQ = randn(n), eK = randn(n), eV = randn(n), aQ = eQ.clone(), aK = eK.clone(), aV = eV.clone();
        cpu.attentionBackward(eQ, eK, eV, dOut, q, kk, v, ea, B, T, H, D);
        k.attentionBackward(aQ, aK, aV, dOut, q, kk, v, ea, B, T, H, D);
        assertAllClose(k.name() + " attention dQ", aQ, eQ, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention dK", aK, eK, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention dV", aV, eV, Tolerances.F32_ATTENTION, B, T, H * D);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void splitAttentionKernelsMatchCpuKernelsWithPaddingAndAFullyMaskedSequence(Kernels k) {
        int B = 3, T = 40, H = 3, D = 32, n = B * T * H * D, na = B * H * T * T;
        int[] mask = KernelsVsReferenceTest.paddingMask(B, T);       // sequence 2 is all padding
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n), dAttIn = randn(na);
        float[] ea = new float[na], aa = new float[na];
        cpu.attentionProbs(ea, q, kk, mask, B, T, H, D);
        k.attentionProbs(aa, q, kk, mask, B, T, H, D);
        assertAllClose(k.name() + " attentionProbs", aa, ea, Tolerances.F32_ATTENTION, B, H, T, T);
        for (int i = 2 * H * T * T; i < na; i++) assertEquals(0f, aa[i], k.name() + " fully masked att at " + i);

        float[] e = new float[n], a = new float[n];
        cpu.attentionValues(e, ea, v, B, T, H, D);
        k.attentionValues(a, ea, v, B, T, H, D);
        assertAllClose(k.name() + " attentionValues", a, e, Tolerances.F32_ATTENTION, B, T, H * D);

        float[] eAtt = randn(na), eV = randn(n), aAtt = eAtt.clone(), aV = eV.clone();
        cpu.attentionValuesBackward(eAtt, eV, dOut, ea, v, B, T, H, D);
        k.attentionValuesBackward(aAtt, aV, dOut, ea, v, B, T, H, D);
        assertAllClose(k.name() + " attentionValuesBackward dAtt", aAtt, eAtt, Tolerances.F32_ATTENTION, B, H, T, T);
        assertAllClose(k.name() + " attentionValuesBackward dV", aV, eV, Tolerances.F32_ATTENTION, B, T, H * D);

        float[] q0 = randn(n), k0 = randn(n), eQ = q0.clone(), eK = k0.clone(), aQ = q0.clone(), aK = k0.clone();
        cpu.attentionProbsBackward(eQ, eK, dAttIn, ea, q, kk, B, T, H, D);
        k.attentionProbsBackward(aQ, aK, dAttIn, ea, q, kk, B, T, H, D);
        assertAllClose(k.name() + " attentionProbsBackward dQ", aQ, eQ, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attentionProbsBackward dK", aK, eK, Tolerances.F32_ATTENTION, B, T, H * D);
        // each null gradient is skipped, the other still computed
        float[] onlyQ = q0.clone(), onlyK = k0.clone();
        k.attentionProbsBackward(onlyQ, null, dAttIn, ea, q, kk, B, T, H, D);
        k.attentionProbsBackward(null, onlyK, dAttIn, ea, q, kk, B, T, H, D);
        assertArrayEquals(aQ, onlyQ, k.name() + " attentionProbsBackward dQ alone");
        assertArrayEquals(aK, onlyK, k.name() + " attentionProbsBackward dK alone");
    }
}

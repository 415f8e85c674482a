package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.reference.DoubleLayers;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.varitune.transformer.testing.AllClose.assertAllClose;

/**
 * Second link of the chain: every float backend against the double oracles on inputs in [-2, 2], at shapes with
 * 1, odd sizes and non-multiples of the SIMD width (the scalar tails), forward and backward. Backward gradients start
 * from random values, so the test also checks that they are accumulated, not assigned.
 */
@Tag("kernels")
class KernelsVsReferenceTest extends TestBase {

    static List<Kernels> backends() {
        List<Kernels> ks = new ArrayList<>(List.of(new CpuKernels(), FastCpuKernels.vectorOnly()));
        if (Blas.available()) ks.add(FastCpuKernels.copyingBlas());
        if (NativeGemm.available()) ks.add(FastCpuKernels.pinnedBlas());
        if (NativeAttention.available()) ks.add(FastCpuKernels.create());
        return ks;
    }

    static Stream<Arguments> matmulCases() {
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 5}, {17, 7, 33}, {64, 384, 384}, {64, 33, 384}, {3, 384, 33},
                {1, 384, 7}, {64, 5, 1}, {17, 1, 384}};
        return backends().stream().flatMap(k -> Stream.of(shapes).map(s -> Arguments.of(k, s[0], s[1], s[2])));
    }

    static Stream<Arguments> rowCases() {
        int[] ns = {1, 3, 17, 64}, cs = {1, 5, 7, 33, 384};
        List<Arguments> out = new ArrayList<>();
        for (Kernels k : backends()) for (int n : ns) for (int c : cs) out.add(Arguments.of(k, n, c));
        return out.stream();
    }

    static Stream<Arguments> attentionCases() {
        int[][] shapes = {{1, 1, 1, 1}, {2, 4, 2, 3}, {3, 5, 3, 7}, {3, 17, 2, 33}, {2, 64, 2, 32}, {1, 33, 1, 64},
                {1, 130, 2, 80}};   // T = 130: column blocks of 64, 64 and 2; D = 80: five vectors, a partial tile
        return backends().stream().flatMap(k -> Stream.of(shapes).map(s -> Arguments.of(k, s[0], s[1], s[2], s[3])));
    }

    private static double[] plus(float[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] + b[i];
        return r;
    }

    @ParameterizedTest(name = "{0} N={1} IC={2} OC={3}")
    @MethodSource("matmulCases")
    void matmulMatchesDoubleOracle(Kernels k, int N, int IC, int OC) {
        float[] x = randn(N * IC), w = randn(OC * IC), b = randn(OC), dOut = randn(N * OC);
        float[] out = randn(N * OC);                             // garbage: forward must overwrite
        k.matmulForward(out, x, w, b, N, IC, OC);
        double[] e = new double[N * OC];
        DoubleLayers.matmulForward(e, toDouble(x), toDouble(w), toDouble(b), N, IC, OC);
        assertAllClose(k.name() + " matmul out", out, e, Tolerances.F32_MATMUL, N, OC);

        float[] dX = randn(N * IC), dW = randn(OC * IC), dB = randn(OC);
        double[] eX = new double[N * IC], eW = new double[OC * IC], eB = new double[OC];
        DoubleLayers.matmulBackward(eX, eW, eB, toDouble(dOut), toDouble(x), toDouble(w), N, IC, OC);
        double[] xX = plus(dX, eX), xW = plus(dW, eW), xB = plus(dB, eB);
        k.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC);
        assertAllClose(k.name() + " matmul dX", dX, xX, Tolerances.F32_MATMUL, N, IC);
        assertAllClose(k.name() + " matmul dWeight", dW, xW, Tolerances.F32_MATMUL, OC, IC);
        assertAllClose(k.name() + " matmul dBias", dB, xB, Tolerances.F32_MATMUL, OC);
    }

    @ParameterizedTest(name = "{0} N={1} C={2}")
    @MethodSource("rowCases")
    void layerNormMatchesDoubleOracle(Kernels k, int N, int C) {
        float eps = 1e-5f;
        float[] x = randn(N * C), w = randn(C), b = randn(C), dOut = randn(N * C);
        float[] out = randn(N * C), mean = randn(N), rstd = randn(N);
        k.layerNormForward(out, mean, rstd, x, w, b, N, C, eps);
        double[] e = new double[N * C], em = new double[N], es = new double[N];
        DoubleLayers.layerNormForward(e, em, es, toDouble(x), toDouble(w), toDouble(b), N, C, eps);
        assertAllClose(k.name() + " layerNorm out", out, e, Tolerances.F32_LAYERNORM, N, C);
        assertAllClose(k.name() + " layerNorm mean", mean, em, Tolerances.F32_LAYERNORM, N);
        assertAllClose(k.name() + " layerNorm rstd", rstd, es, Tolerances.F32_LAYERNORM, N);

        float[] dX = randn(N * C), dW = randn(C), dB = randn(C);
        double[] eX = new double[N * C], eW = new double[C], eB = new double[C];
        DoubleLayers.layerNormBackward(eX, eW, eB, toDouble(dOut), toDouble(x), em, es, toDouble(w), N, C);
        double[] xX = plus(dX, eX), xW = plus(dW, eW), xB = plus(dB, eB);
        k.layerNormBackward(dX, dW, dB, dOut, x, mean, rstd, w, N, C);
        assertAllClose(k.name() + " layerNorm dX", dX, xX, Tolerances.F32_LAYERNORM, N, C);
        assertAllClose(k.name() + " layerNorm dWeight", dW, xW, Tolerances.F32_LAYERNORM, C);
        assertAllClose(k.name() + " layerNorm dBias", dB, xB, Tolerances.F32_LAYERNORM, C);
    }

    @ParameterizedTest(name = "{0} N={1} C={2}")
    @MethodSource("rowCases")
    void geluAndAddMatchDoubleOracle(Kernels k, int N, int C) {
        int n = N * C;
        float[] x = randn(n), y = randn(n), dOut = randn(n), out = randn(n), dX = randn(n);
        k.geluForward(out, x, n);
        double[] e = new double[n], eX = new double[n];
        DoubleLayers.Act.GELU.forward(e, toDouble(x), n);
        assertAllClose(k.name() + " gelu out", out, e, Tolerances.F32_ELEMENTWISE, n);
        DoubleLayers.Act.GELU.backward(eX, toDouble(dOut), toDouble(x), n);
        double[] xX = plus(dX, eX);
        k.geluBackward(dX, x, dOut, n);
        assertAllClose(k.name() + " gelu dX", dX, xX, Tolerances.F32_ELEMENTWISE, n);

        k.add(out, x, y, n);
        assertAllClose(k.name() + " add", out, plus(x, toDouble(y)), Tolerances.F32_ELEMENTWISE, n);
    }

    /** A padding mask: sequence b keeps its first T − b·T/B positions (so the last of 3+ sequences may be empty). */
    static int[] paddingMask(int B, int T) {
        int[] m = new int[B * T];
        for (int b = 0; b < B; b++) {
            int len = B >= 3 && b == B - 1 ? 0 : Math.max(1, T - b * T / Math.max(B, 2));
            for (int t = 0; t < len; t++) m[b * T + t] = 1;
        }
        return m;
    }

    @ParameterizedTest(name = "{0} B={1} T={2} H={3} D={4}")
    @MethodSource("attentionCases")
    void attentionMatchesDoubleOracle(Kernels k, int B, int T, int H, int D) {
        int n = B * T * H * D, na = B * H * T * T;
        int[] mask = paddingMask(B, T);
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n), out = randn(n), att = randn(na);
        k.attentionForward(out, att, q, kk, v, mask, B, T, H, D);
        double[] e = new double[n], ea = new double[na];
        DoubleLayers.attentionForward(e, ea, toDouble(q), toDouble(kk), toDouble(v), mask, null, B, T, H, D);
        assertAllClose(k.name() + " attention out", out, e, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention att", att, ea, Tolerances.F32_ATTENTION, B, H, T, T);
        for (int i = 0; i < na; i++) {
            int b = i / (H * T * T), t2 = i % T;
            if (mask[b * T + t2] == 0 && att[i] != 0f) {
                throw new AssertionError(k.name() + ": padded key at flat att index " + i + " has probability " + att[i]);
            }
        }

        float[] dQ = randn(n), dK = randn(n), dV = randn(n);
        double[] eQ = new double[n], eK = new double[n], eV = new double[n];
        DoubleLayers.attentionBackward(eQ, eK, eV, toDouble(dOut), toDouble(q), toDouble(kk), toDouble(v), ea, null, B, T, H, D);
        double[] xQ = plus(dQ, eQ), xK = plus(dK, eK), xV = plus(dV, eV);
        k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D);
        assertAllClose(k.name() + " attention dQ", dQ, xQ, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention dK", dK, xK, Tolerances.F32_ATTENTION, B, T, H * D);
        assertAllClose(k.name() + " attention dV", dV, xV, Tolerances.F32_ATTENTION, B, T, H * D);
    }
}

package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Bit-identical repeats, which the trainer's bit-identical resume relies on: every kernel of every backend, called
 * again on the same inputs, gives the same bits, whether the first call ran cold (interpreted or C1-compiled loops in a
 * fresh JVM) or not. Shapes are odd (tails after whole vectors, several parallel chunks, padding, an all-padding
 * sequence). Also: the fast fused attention equals its split halves bit for bit.
 */
@Tag("kernels")
class KernelsDeterminismTest extends TestBase {
    /** Calls after the first one, each compared with it bit for bit. */
    static final int REPEATS = 3;

    static List<Kernels> allKernels() {
        List<Kernels> ks = fastKernels();
        ks.add(Kernels.fromSystemProperty());
        return ks;
    }

    static List<Kernels> fastKernels() {
        List<Kernels> ks = new ArrayList<>(List.of(FastCpuKernels.vectorOnly()));
        if (Blas.available()) ks.add(FastCpuKernels.copyingBlas());
        if (NativeGemm.available()) ks.add(FastCpuKernels.pinnedBlas());
        if (NativeAttention.available()) ks.add(FastCpuKernels.create());
        return ks;
    }

    /** Runs {@code call} 1 + REPEATS times; each returns its outputs; asserts they all equal the first, bit for bit. */
    private static void assertRepeatable(String label, Supplier<float[][]> call) {
        float[][] first = call.get();
        for (int r = 0; r < REPEATS; r++) {
            float[][] again = call.get();
            for (int i = 0; i < first.length; i++) {
                assertArrayEquals(first[i], again[i], label + ": output " + i + " differs on repeat " + (r + 1));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void everyKernelRepeatsBitForBit(Kernels k) {
        int N = 97, IC = 45, OC = 83;      // 362K multiply-adds: above BlasMatmul.TILE_MIN_MACS, so cut over threads
        float[] x = randn(N * IC), w = randn(OC * IC), b = randn(OC), dOut = randn(N * OC);
        float[] gx = randn(N * IC), gw = randn(OC * IC), gb = randn(OC);
        assertRepeatable(k.name() + " matmulForward", () -> {
            float[] out = new float[N * OC];
            k.matmulForward(out, x, w, b, N, IC, OC);
            return new float[][] {out};
        });
        assertRepeatable(k.name() + " matmulBackward", () -> {
            float[] dX = gx.clone(), dW = gw.clone(), dB = gb.clone();
            k.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC);
            return new float[][] {dX, dW, dB};
        });

        int rows = 300, C = 100;
        float[] lx = randn(rows * C), lw = randn(C), lb = randn(C), ldOut = randn(rows * C);
        float[] mean = new float[rows], rstd = new float[rows];
        k.layerNormForward(new float[rows * C], mean, rstd, lx, lw, lb, rows, C, 1e-5f);
        assertRepeatable(k.name() + " layerNormForward", () -> {
            float[] out = new float[rows * C], m = new float[rows], s = new float[rows];
            k.layerNormForward(out, m, s, lx, lw, lb, rows, C, 1e-5f);
            return new float[][] {out, m, s};
        });
        float[] ldx = randn(rows * C), ldw = randn(C), ldb = randn(C);
        assertRepeatable(k.name() + " layerNormBackward", () -> {
            float[] dX = ldx.clone(), dW = ldw.clone(), dB = ldb.clone();
            k.layerNormBackward(dX, dW, dB, ldOut, lx, mean, rstd, lw, rows, C);
            return new float[][] {dX, dW, dB};
        });

        int n = 40_003;
        float[] gIn = randn(n), gOut = randn(n), gdx = randn(n);
        assertRepeatable(k.name() + " gelu", () -> {
            float[] y = new float[n], dX = gdx.clone(), sum = new float[n];
            k.geluForward(y, gIn, n);
            k.geluBackward(dX, gIn, gOut, n);
            k.add(sum, gIn, gOut, n);
            return new float[][] {y, dX, sum};
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void attentionKernelsRepeatBitForBit(Kernels k) {
        int B = 3, T = 37, H = 2, D = 24, n = B * T * H * D, na = B * H * T * T;
        int[] mask = KernelsVsReferenceTest.paddingMask(B, T);       // sequence 2 is all padding
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n), dAttIn = randn(na);
        float[] g0 = randn(n), g1 = randn(n), g2 = randn(n), ga = randn(na);
        float[] att = new float[na];
        k.attentionForward(new float[n], att, q, kk, v, mask, B, T, H, D);
        assertRepeatable(k.name() + " attentionForward", () -> {
            float[] out = new float[n], a = new float[na], outNoAtt = new float[n];
            k.attentionForward(out, a, q, kk, v, mask, B, T, H, D);
            k.attentionForward(outNoAtt, null, q, kk, v, mask, B, T, H, D);
            return new float[][] {out, a, outNoAtt};
        });
        assertRepeatable(k.name() + " attentionBackward", () -> {
            float[] dQ = g0.clone(), dK = g1.clone(), dV = g2.clone();
            k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D);
            return new float[][] {dQ, dK, dV};
        });
        assertRepeatable(k.name() + " split attention", () -> {
            float[] a = new float[na], out = new float[n], dAtt = ga.clone(), dV = g2.clone(), dQ = g0.clone(),
                    dK = g1.clone();
            k.attentionProbs(a, q, kk, mask, B, T, H, D);
            k.attentionValues(out, a, v, B, T, H, D);
            k.attentionValuesBackward(dAtt, dV, dOut, a, v, B, T, H, D);
            k.attentionProbsBackward(dQ, dK, dAttIn, a, q, kk, B, T, H, D);
            return new float[][] {a, out, dAtt, dV, dQ, dK};
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fastKernels")
    void fastFusedAttentionEqualsItsSplitHalvesBitForBit(Kernels k) {
        int B = 3, T = 37, H = 2, D = 24, n = B * T * H * D, na = B * H * T * T;
        int[] mask = KernelsVsReferenceTest.paddingMask(B, T);
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n);
        float[] out = new float[n], att = new float[na], out2 = new float[n], att2 = new float[na];
        k.attentionForward(out, att, q, kk, v, mask, B, T, H, D);
        k.attentionProbs(att2, q, kk, mask, B, T, H, D);
        k.attentionValues(out2, att2, v, B, T, H, D);
        assertArrayEquals(att, att2, k.name() + " att");
        assertArrayEquals(out, out2, k.name() + " out");

        float[] dQ = new float[n], dK = new float[n], dV = new float[n], dQ2 = new float[n], dK2 = new float[n],
                dV2 = new float[n], dAtt = new float[na];
        k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D);
        k.attentionValuesBackward(dAtt, dV2, dOut, att, v, B, T, H, D);
        k.attentionProbsBackward(dQ2, dK2, dAtt, att, q, kk, B, T, H, D);
        assertArrayEquals(dQ, dQ2, k.name() + " dQ");
        assertArrayEquals(dK, dK2, k.name() + " dK");
        assertArrayEquals(dV, dV2, k.name() + " dV");
    }

    /** Random keep bits for na elements, about 90% set, the unused bits of the last word clear. */
    static long[] keepBits(java.util.Random r, int na) {
        long[] bits = new long[(na + 63) >>> 6];
        for (int i = 0; i < na; i++) if (r.nextFloat() >= 0.1f) bits[i >>> 6] |= 1L << i;
        return bits;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allKernels")
    void dropoutAttentionEqualsTheSplitKernelsWithTheMaskBetweenThemBitForBit(Kernels k) {
        // T·T = 1369 is no multiple of 64 or of the vector length: heads start at every bit offset
        int B = 3, T = 37, H = 2, D = 24, n = B * T * H * D, na = B * H * T * T;
        int[] mask = KernelsVsReferenceTest.paddingMask(B, T);           // sequence 2 is all padding
        float[] q = randn(n), kk = randn(n), v = randn(n), dOut = randn(n);
        long[] bits = keepBits(rand, na);
        float s = 1f / (1f - 0.1f);

        float[] out = new float[n], att = new float[na];
        k.attentionForwardDropout(out, att, q, kk, v, mask, bits, s, B, T, H, D);
        float[] att2 = new float[na], attDrop = new float[na], out2 = new float[n];
        k.attentionProbs(att2, q, kk, mask, B, T, H, D);
        DropoutOps.apply(attDrop, att2, bits, s, na);
        k.attentionValues(out2, attDrop, v, B, T, H, D);
        assertArrayEquals(att2, att, k.name() + " att");
        assertArrayEquals(out2, out, k.name() + " out");

        float[] g0 = randn(n), g1 = randn(n), g2 = randn(n);
        float[] dQ = g0.clone(), dK = g1.clone(), dV = g2.clone(), dQ2 = g0.clone(), dK2 = g1.clone(), dV2 = g2.clone();
        k.attentionBackwardDropout(dQ, dK, dV, dOut, q, kk, v, att, bits, s, B, T, H, D);
        float[] dAtt = new float[na];
        k.attentionValuesBackward(dAtt, dV2, dOut, attDrop, v, B, T, H, D);
        DropoutOps.apply(dAtt, dAtt, bits, s, na);
        k.attentionProbsBackward(dQ2, dK2, dAtt, att, q, kk, B, T, H, D);
        assertArrayEquals(dQ2, dQ, k.name() + " dQ");
        assertArrayEquals(dK2, dK, k.name() + " dK");
        assertArrayEquals(dV2, dV, k.name() + " dV");

        assertRepeatable(k.name() + " dropout attention", () -> {
            float[] o = new float[n], a = new float[na], q3 = g0.clone(), k3 = g1.clone(), v3 = g2.clone();
            k.attentionForwardDropout(o, a, q, kk, v, mask, bits, s, B, T, H, D);
            k.attentionBackwardDropout(q3, k3, v3, dOut, q, kk, v, a, bits, s, B, T, H, D);
            return new float[][] {o, a, q3, k3, v3};
        });
    }
}

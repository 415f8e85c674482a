package org.varitune.transformer.reference;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * First link of the chain of trust: each double oracle's backward against central finite differences of
 * {@code L = Σ out·R} (random R), over every element of every input, at small shapes.
 */
@Tag("kernels")
class ReferenceGradientTest extends TestBase {
    static final int N = 3, C = 5, B = 2, T = 4, H = 2, D = 3;

    private double[] rnd(int n) { return toDouble(randn(n)); }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Compares analytic[i] with (L(x+h) − L(x−h))/2h for every i, perturbing input in place. */
    private static void checkAll(String label, double[] input, double[] analytic, DoubleSupplier loss) {
        double h = Tolerances.FD_STEP, worst = 0;
        for (int i = 0; i < input.length; i++) {
            double x0 = input[i];
            input[i] = x0 + h;
            double lp = loss.getAsDouble();
            input[i] = x0 - h;
            double lm = loss.getAsDouble();
            input[i] = x0;
            double num = (lp - lm) / (2 * h), a = analytic[i];
            double rel = Math.abs(a - num) / Math.max(Math.abs(a) + Math.abs(num), 1e-8);
            worst = Math.max(worst, rel);
            if (rel > Tolerances.FD_RELATIVE) {
                fail(label + "[" + i + "]: analytic " + a + " vs numeric " + num + ", relative error " + rel
                        + " > " + Tolerances.FD_RELATIVE);
            }
        }
        assertTrue(worst <= Tolerances.FD_RELATIVE, label);
    }

    @Test
    void matmulBackwardMatchesCentralDifferences() {
        double[] x = rnd(N * C), w = rnd(4 * C), b = rnd(4), r = rnd(N * 4), out = new double[N * 4];
        double[] dX = new double[N * C], dW = new double[4 * C], dB = new double[4];
        MatmulRef.backward(dX, dW, dB, r, x, w, N, C, 4);
        DoubleSupplier loss = () -> {
            MatmulRef.forward(out, x, w, b, N, C, 4);
            return dot(out, r);
        };
        checkAll("matmul dX", x, dX, loss);
        checkAll("matmul dWeight", w, dW, loss);
        checkAll("matmul dBias", b, dB, loss);
    }

    @Test
    void layerNormBackwardMatchesCentralDifferences() {
        double eps = 1e-5;
        double[] x = rnd(N * C), w = rnd(C), b = rnd(C), r = rnd(N * C), out = new double[N * C];
        double[] mean = new double[N], rstd = new double[N];
        LayerNormRef.forward(out, mean, rstd, x, w, b, N, C, eps);
        double[] dX = new double[N * C], dW = new double[C], dB = new double[C];
        LayerNormRef.backward(dX, dW, dB, r, x, mean, rstd, w, N, C);
        DoubleSupplier loss = () -> {
            LayerNormRef.forward(out, null, null, x, w, b, N, C, eps);
            return dot(out, r);
        };
        checkAll("layerNorm dX", x, dX, loss);
        checkAll("layerNorm dWeight", w, dW, loss);
        checkAll("layerNorm dBias", b, dB, loss);
    }

    @Test
    void geluBackwardMatchesCentralDifferences() {
        double[] x = toDouble(uniform(N * C, -4, 4)), r = rnd(N * C), out = new double[N * C], dX = new double[N * C];
        GeluRef.backward(dX, x, r, N * C);
        checkAll("gelu dX", x, dX, () -> {
            GeluRef.forward(out, x, N * C);
            return dot(out, r);
        });
    }

    @Test
    void attentionBackwardMatchesCentralDifferencesWithPadding() {
        int[] mask = {1, 1, 1, 1, /* second sequence: two padded positions */ 1, 1, 0, 0};
        int n = B * T * H * D;
        double[] q = rnd(n), k = rnd(n), v = rnd(n), r = rnd(n), out = new double[n], att = new double[B * H * T * T];
        AttentionRef.forward(out, att, q, k, v, mask, B, T, H, D);
        double[] dQ = new double[n], dK = new double[n], dV = new double[n];
        AttentionRef.backward(dQ, dK, dV, r, q, k, v, att, B, T, H, D);
        DoubleSupplier loss = () -> {
            AttentionRef.forward(out, null, q, k, v, mask, B, T, H, D);
            return dot(out, r);
        };
        checkAll("attention dQ", q, dQ, loss);
        checkAll("attention dK", k, dK, loss);
        checkAll("attention dV", v, dV, loss);
        // padded keys get probability exactly 0, so their K and V gradients are exactly 0
        for (int t = 2; t < T; t++) {
            for (int c = 0; c < H * D; c++) {
                int i = ((1 * T) + t) * H * D + c;
                if (dK[i] != 0 || dV[i] != 0) fail("padded key (1," + t + "," + c + ") got dK " + dK[i] + " dV " + dV[i]);
            }
        }
    }

    @Test
    void fullyPaddedSequenceGivesZeroOutputAndGradients() {
        int[] mask = {1, 0, 1, 1, 0, 0, 0, 0};
        int n = B * T * H * D;
        double[] q = rnd(n), k = rnd(n), v = rnd(n), r = rnd(n), out = new double[n], att = new double[B * H * T * T];
        AttentionRef.forward(out, att, q, k, v, mask, B, T, H, D);
        double[] dQ = new double[n], dK = new double[n], dV = new double[n];
        AttentionRef.backward(dQ, dK, dV, r, q, k, v, att, B, T, H, D);
        for (int i = T * H * D; i < n; i++) {
            if (out[i] != 0 || dQ[i] != 0 || dK[i] != 0 || dV[i] != 0) {
                fail("fully padded sequence, flat index " + i + ": out " + out[i] + " dQ " + dQ[i] + " dK " + dK[i]
                        + " dV " + dV[i]);
            }
        }
        checkAll("attention dQ (padded batch)", q, dQ, () -> {
            AttentionRef.forward(out, null, q, k, v, mask, B, T, H, D);
            return dot(out, r);
        });
    }
}

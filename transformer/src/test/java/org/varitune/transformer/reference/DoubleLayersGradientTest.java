package org.varitune.transformer.reference;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.varitune.transformer.reference.FiniteDifferences.check;
import static org.varitune.transformer.reference.FiniteDifferences.dot;

/**
 * First link of the chain of trust: each {@link DoubleLayers} backward against central differences
 * ({@code h = Tolerances.FD_STEP}) of {@code L = Σ out·R} (random R), relative error ≤ {@code Tolerances.FD_RELATIVE},
 * over every element of every input, at several small shapes, padding masks (a fully masked row included), dropout
 * masks and repeated ids.
 */
@Tag("kernels")
class DoubleLayersGradientTest extends TestBase {
    static final double H = Tolerances.FD_STEP, TOL = Tolerances.FD_RELATIVE;

    private double[] rnd(int n) { return toDouble(randn(n)); }

    private double[] dropMask(int n, double p) {
        double[] m = new double[n];
        for (int i = 0; i < n; i++) m[i] = rand.nextDouble() < p ? 0 : 1 / (1 - p);
        return m;
    }

    @Test
    void matmulBackwardMatchesCentralDifferences() {
        for (int[] s : new int[][] {{3, 5, 4}, {1, 1, 1}, {2, 7, 3}}) {
            int N = s[0], IC = s[1], OC = s[2];
            double[] x = rnd(N * IC), w = rnd(OC * IC), b = rnd(OC), r = rnd(N * OC), out = new double[N * OC];
            double[] dX = new double[x.length], dW = new double[w.length], dB = new double[b.length];
            DoubleLayers.matmulBackward(dX, dW, dB, r, x, w, N, IC, OC);
            DoubleSupplier loss = () -> {
                DoubleLayers.matmulForward(out, x, w, b, N, IC, OC);
                return dot(out, r);
            };
            String at = " N=" + N + " IC=" + IC + " OC=" + OC;
            check("matmul dX" + at, x, dX, loss, null, H, TOL);
            check("matmul dWeight" + at, w, dW, loss, null, H, TOL);
            check("matmul dBias" + at, b, dB, loss, null, H, TOL);
        }
    }

    @Test
    void layerNormBackwardMatchesCentralDifferences() {
        for (int[] s : new int[][] {{3, 5}, {2, 8}, {1, 3}}) {
            for (double eps : new double[] {1e-12, 1e-5}) {
                int N = s[0], C = s[1];
                double[] x = rnd(N * C), w = rnd(C), b = rnd(C), r = rnd(N * C), out = new double[N * C];
                double[] mean = new double[N], rstd = new double[N];
                DoubleLayers.layerNormForward(out, mean, rstd, x, w, b, N, C, eps);
                double[] dX = new double[x.length], dW = new double[C], dB = new double[C];
                DoubleLayers.layerNormBackward(dX, dW, dB, r, x, mean, rstd, w, N, C);
                DoubleSupplier loss = () -> {
                    DoubleLayers.layerNormForward(out, null, null, x, w, b, N, C, eps);
                    return dot(out, r);
                };
                String at = " N=" + N + " C=" + C + " eps=" + eps;
                check("layerNorm dX" + at, x, dX, loss, null, H, TOL);
                check("layerNorm dWeight" + at, w, dW, loss, null, H, TOL);
                check("layerNorm dBias" + at, b, dB, loss, null, H, TOL);
            }
        }
    }

    @Test
    void activationDropoutAndResidualBackwardsMatchCentralDifferences() {
        int n = 40;
        double[] x = toDouble(uniform(n, -4, 4)), r = rnd(n), out = new double[n];
        for (int i = 0; i < n; i++) if (Math.abs(x[i]) < 1e-3) x[i] = 0.5;       // away from ReLU's kink
        for (DoubleLayers.Act act : DoubleLayers.Act.values()) {
            double[] dX = new double[n];
            act.backward(dX, r, x, n);
            check(act + " dX", x, dX, () -> {
                act.forward(out, x, n);
                return dot(out, r);
            }, null, H, TOL);
        }
        double[] m = dropMask(n, 0.3), dX = new double[n];
        DoubleLayers.dropoutBackward(dX, r, m, n);
        check("dropout dX", x, dX, () -> {
            DoubleLayers.dropoutForward(out, x, m, n);
            return dot(out, r);
        }, null, H, TOL);
        double[] y = rnd(n), dA = new double[n], dB = new double[n];
        DoubleLayers.residualBackward(dA, dB, r, n);
        DoubleSupplier residual = () -> {
            DoubleLayers.residualForward(out, x, y, n);
            return dot(out, r);
        };
        check("residual dA", x, dA, residual, null, H, TOL);
        check("residual dB", y, dB, residual, null, H, TOL);
    }

    @Test
    void attentionBackwardMatchesCentralDifferencesWithPaddingAndDropout() {
        // {B, T, H, D}; masks: row patterns with padding, and in the last shape a fully masked row
        int[][] shapes = {{2, 4, 2, 3}, {1, 3, 1, 2}, {3, 5, 2, 2}};
        int[][] masks = {{1, 1, 1, 1, 1, 1, 0, 0}, {1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}};
        for (int s = 0; s < shapes.length; s++) {
            int B = shapes[s][0], T = shapes[s][1], Hh = shapes[s][2], D = shapes[s][3], C = Hh * D;
            int[] mask = masks[s];
            for (boolean withDrop : new boolean[] {false, true}) {
                double[] q = rnd(B * T * C), k = rnd(B * T * C), v = rnd(B * T * C), r = rnd(B * T * C);
                double[] out = new double[B * T * C], att = new double[B * Hh * T * T];
                double[] drop = withDrop ? dropMask(att.length, 0.25) : null;
                DoubleLayers.attentionForward(out, att, q, k, v, mask, drop, B, T, Hh, D);
                double[] dQ = new double[q.length], dK = new double[k.length], dV = new double[v.length];
                DoubleLayers.attentionBackward(dQ, dK, dV, r, q, k, v, att, drop, B, T, Hh, D);
                DoubleSupplier loss = () -> {
                    DoubleLayers.attentionForward(out, null, q, k, v, mask, drop, B, T, Hh, D);
                    return dot(out, r);
                };
                String at = " shape " + Arrays.toString(shapes[s]) + " dropout=" + withDrop;
                check("attention dQ" + at, q, dQ, loss, null, H, TOL);
                check("attention dK" + at, k, dK, loss, null, H, TOL);
                check("attention dV" + at, v, dV, loss, null, H, TOL);
                // padded keys get probability exactly 0, so their K and V gradients are exactly 0
                for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
                    if (mask[b * T + t] == 0) for (int c = 0; c < C; c++) {
                        assertEquals(0.0, dK[(b * T + t) * C + c], "masked key gets no gradient" + at);
                        assertEquals(0.0, dV[(b * T + t) * C + c], "masked value gets no gradient" + at);
                    }
                }
            }
        }
    }

    @Test
    void fullyPaddedSequenceGivesZeroOutputAndGradients() {
        int B = 2, T = 4, Hh = 2, D = 3, n = B * T * Hh * D;
        int[] mask = {1, 0, 1, 1, 0, 0, 0, 0};
        double[] q = rnd(n), k = rnd(n), v = rnd(n), r = rnd(n), out = new double[n], att = new double[B * Hh * T * T];
        DoubleLayers.attentionForward(out, att, q, k, v, mask, null, B, T, Hh, D);
        double[] dQ = new double[n], dK = new double[n], dV = new double[n];
        DoubleLayers.attentionBackward(dQ, dK, dV, r, q, k, v, att, null, B, T, Hh, D);
        for (int i = T * Hh * D; i < n; i++) {
            if (out[i] != 0 || dQ[i] != 0 || dK[i] != 0 || dV[i] != 0) {
                fail("fully padded sequence, flat index " + i + ": out " + out[i] + " dQ " + dQ[i] + " dK " + dK[i]
                        + " dV " + dV[i]);
            }
        }
        check("attention dQ (padded batch)", q, dQ, () -> {
            DoubleLayers.attentionForward(out, null, q, k, v, mask, null, B, T, Hh, D);
            return dot(out, r);
        }, null, H, TOL);
    }

    /**
     * Repeated ids, the pad id at an attended position, every family's positions: the tables' gradients match central
     * differences except HF's padding_idx rows (word row pad_token_id; RoBERTa's position row padding_idx), which the
     * forward reads but which get exactly zero gradient by convention.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "roberta", "distilbert"})
    void embeddingsBackwardMatchesCentralDifferencesWithRepeatedIdsAndThePadRule(String family) {
        int B = 2, T = 5, C = 3, V = 9, P = 8, pad = family.equals("roberta") ? 1 : 0;
        int[] ids = {4, 7, pad, 7, 2, /* row 2 */ 5, 4, 4, pad, pad};
        int[] types = family.equals("distilbert") ? null : new int[] {0, 0, 1, 1, 1, 0, 0, 0, 1, 0};
        int[] pos = DoubleLayers.positionIds(family, ids, pad, B, T);
        int posPad = family.equals("roberta") ? pad : -1;
        double[] word = rnd(V * C), position = rnd(P * C), type = types == null ? null : rnd(2 * C);
        double[] r = rnd(B * T * C), out = new double[B * T * C];
        double[] dWord = new double[word.length], dPos = new double[position.length], dType = type == null ? null : new double[type.length];
        DoubleLayers.embeddingsBackward(dWord, dPos, dType, r, ids, pos, types, pad, posPad, B * T, C);
        DoubleSupplier loss = () -> {
            DoubleLayers.embeddingsForward(out, ids, pos, types, word, position, type, B * T, C);
            return dot(out, r);
        };
        for (int c = 0; c < C; c++) {
            assertEquals(0.0, dWord[pad * C + c], family + " word row pad_token_id " + pad);
            if (posPad >= 0) assertEquals(0.0, dPos[posPad * C + c], family + " position row padding_idx " + posPad);
        }
        int[] wordRows = Arrays.stream(new int[] {2, 4, 5, 7, 8})                 // the looked-up rows but the pad's
                .filter(w -> w != pad).flatMap(w -> java.util.stream.IntStream.range(w * C, w * C + C)).toArray();
        check(family + " dWord", word, dWord, loss, wordRows, H, TOL);
        int[] posRows = java.util.stream.IntStream.range(0, P * C).filter(i -> i / C != posPad).toArray();
        check(family + " dPosition", position, dPos, loss, posRows, H, TOL);
        if (type != null) check(family + " dType", type, dType, loss, null, H, TOL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GELU", "RELU"})
    void adapterBackwardMatchesCentralDifferencesWithBottleneckDropout(String act) {
        int N = 4, C = 6, R = 3;
        DoubleLayers.Act a = DoubleLayers.Act.valueOf(act);
        double[] x = rnd(N * C), dw = rnd(R * C), db = rnd(R), uw = rnd(C * R), ub = rnd(C), r = rnd(N * C);
        for (double[] m : new double[][] {null, dropMask(N * R, 0.3)}) {
            double[] out = new double[N * C], z = new double[N * R], act1 = new double[N * R];
            DoubleLayers.adapterForward(out, z, act1, x, dw, db, uw, ub, m, a, N, C, R);
            for (int i = 0; i < z.length; i++) if (Math.abs(z[i]) < 1e-3) fail("pre-activation near ReLU's kink: " + z[i]);
            double[] dX = new double[x.length], dDw = new double[dw.length], dDb = new double[db.length];
            double[] dUw = new double[uw.length], dUb = new double[ub.length];
            DoubleLayers.adapterBackward(dX, dDw, dDb, dUw, dUb, r, x, z, act1, dw, uw, m, a, N, C, R);
            DoubleSupplier loss = () -> {
                DoubleLayers.adapterForward(out, new double[N * R], new double[N * R], x, dw, db, uw, ub, m, a, N, C, R);
                return dot(out, r);
            };
            String at = " " + act + (m == null ? "" : " dropout");
            check("adapter dX" + at, x, dX, loss, null, H, TOL);
            check("adapter dDownWeight" + at, dw, dDw, loss, null, H, TOL);
            check("adapter dDownBias" + at, db, dDb, loss, null, H, TOL);
            check("adapter dUpWeight" + at, uw, dUw, loss, null, H, TOL);
            check("adapter dUpBias" + at, ub, dUb, loss, null, H, TOL);
        }
    }
}

package org.varitune.training.reference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TinyClassifiers;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.training.reference.FiniteDifferences.check;
import static org.varitune.training.reference.FiniteDifferences.dot;

/**
 * Every double oracle's backward against central differences ({@code h = Tolerances.FD_STEP}, loss {@code Σ out·R}
 * with random R, relative error ≤ {@code Tolerances.FD_RELATIVE}), over several shapes, padding masks (including a
 * fully masked row) and repeated ids. Two documented exceptions: the embedding rows of {@code pad_token_id} (and
 * RoBERTa's position {@code padding_idx}) get no gradient by HF's convention although the forward uses them, so they
 * are asserted zero instead; and {@code attention.self.key.bias} has an exactly zero gradient, whose central
 * difference is rounding noise, so it is compared absolutely ({@link #ZERO_GRAD_ABS}).
 */
class OracleFiniteDifferenceTest extends TestBase {
    static final double H = Tolerances.FD_STEP, TOL = Tolerances.FD_RELATIVE;
    /** |a − n| for gradients that are exactly zero: the noise of a central difference of a loss of size ~10 in double. */
    static final double ZERO_GRAD_ABS = 1e-8;

    private double[] rnd(int n) { return toDouble(randn(n)); }

    @Test
    void linearBackwardMatchesCentralDifferences() {
        for (int[] s : new int[][] {{3, 5, 4}, {1, 1, 1}, {2, 7, 3}}) {
            int N = s[0], IC = s[1], OC = s[2];
            double[] x = rnd(N * IC), w = rnd(OC * IC), b = rnd(OC), r = rnd(N * OC);
            double[] dX = new double[x.length], dW = new double[w.length], dB = new double[b.length];
            DoubleLayers.linearBackward(r, x, w, N, IC, OC, dX, dW, dB);
            java.util.function.DoubleSupplier loss = () -> dot(DoubleLayers.linear(x, w, b, N, IC, OC), r);
            String at = " N=" + N + " IC=" + IC + " OC=" + OC;
            check("linear dX" + at, x, dX, loss, null, H, TOL);
            check("linear dW" + at, w, dW, loss, null, H, TOL);
            check("linear dB" + at, b, dB, loss, null, H, TOL);
        }
    }

    @Test
    void layerNormBackwardMatchesCentralDifferences() {
        for (int[] s : new int[][] {{3, 5}, {2, 8}, {1, 3}}) {
            for (double eps : new double[] {1e-12, 1e-5}) {
                int N = s[0], C = s[1];
                double[] x = rnd(N * C), w = rnd(C), b = rnd(C), r = rnd(N * C);
                double[] dX = new double[x.length], dW = new double[C], dB = new double[C];
                DoubleLayers.layerNormBackward(r, x, w, N, C, eps, dX, dW, dB);
                java.util.function.DoubleSupplier loss = () -> dot(DoubleLayers.layerNorm(x, w, b, N, C, eps), r);
                String at = " N=" + N + " C=" + C + " eps=" + eps;
                check("layerNorm dX" + at, x, dX, loss, null, H, TOL);
                check("layerNorm dW" + at, w, dW, loss, null, H, TOL);
                check("layerNorm dB" + at, b, dB, loss, null, H, TOL);
            }
        }
    }

    @Test
    void activationAndDropoutBackwardsMatchCentralDifferences() {
        double[] x = rnd(40), r = rnd(40);
        for (int i = 0; i < x.length; i++) if (Math.abs(x[i]) < 1e-3) x[i] = 0.5;     // away from ReLU's kink
        for (DoubleLayers.Act act : DoubleLayers.Act.values()) {
            double[] dX = new double[x.length];
            act.backward(r, x, dX);
            check(act + " dX", x, dX, () -> dot(act.apply(x), r), null, H, TOL);
        }
        double[] m = new double[x.length];
        for (int i = 0; i < m.length; i++) m[i] = rand.nextDouble() < 0.3 ? 0 : 1 / 0.7;
        check("dropout dX", x, DoubleLayers.dropout(r, m), () -> dot(DoubleLayers.dropout(x, m), r), null, H, TOL);
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
                double[] drop = null;
                if (withDrop) {
                    drop = new double[B * Hh * T * T];
                    for (int i = 0; i < drop.length; i++) drop[i] = rand.nextDouble() < 0.25 ? 0 : 1 / 0.75;
                }
                double[] dm = drop;
                double[] att = DoubleLayers.attentionProbs(q, k, mask, B, T, Hh, D);
                double[] dQ = new double[q.length], dK = new double[k.length], dV = new double[v.length];
                DoubleLayers.attentionBackward(r, q, k, v, att, dm, B, T, Hh, D, dQ, dK, dV);
                java.util.function.DoubleSupplier loss = () -> dot(DoubleLayers.attentionValues(
                        DoubleLayers.attentionProbs(q, k, mask, B, T, Hh, D), dm, v, B, T, Hh, D), r);
                String at = " shape " + java.util.Arrays.toString(shapes[s]) + " dropout=" + withDrop;
                check("attention dQ" + at, q, dQ, loss, null, H, TOL);
                check("attention dK" + at, k, dK, loss, null, H, TOL);
                check("attention dV" + at, v, dV, loss, null, H, TOL);
                for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) {
                    if (mask[b * T + t] == 0) for (int c = 0; c < C; c++) {
                        assertEquals(0.0, dK[(b * T + t) * C + c], "masked key gets no gradient");
                        assertEquals(0.0, dV[(b * T + t) * C + c], "masked value gets no gradient");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"FIRST_TOKEN", "MEAN_NON_PAD", "MEAN_NON_SPECIAL"})
    void poolingAndCrossEntropyBackwardsMatchCentralDifferences(String mode) {
        int B = 3, T = 4, C = 5, K = 3;
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0}, special = {1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
        double[] h = rnd(B * T * C), r = rnd(B * C);
        double[] w = DoubleLayers.poolWeights(mode, mask, special, B, T);
        double[] dH = new double[h.length];
        DoubleLayers.poolBackward(r, w, B, T, C, dH);
        check("pool " + mode + " dH", h, dH, () -> dot(DoubleLayers.pool(h, w, B, T, C), r), null, H, TOL);
        double[] logits = rnd(B * K);
        int[] labels = {2, 0, 1};
        check("cross-entropy dLogits", logits, DoubleLayers.crossEntropyBackward(logits, labels, B, K, 1.0),
                () -> DoubleLayers.crossEntropy(logits, labels, B, K), null, H, TOL);
    }

    /** A random tiny classifier's oracle: names and shapes from our model, values from it. */
    private DoubleModel oracle(boolean roberta, boolean adapters, boolean dropout, DoubleLayers.Act act) {
        SequenceClassifier m = TinyClassifiers.model(roberta, new CpuKernels(), 2, Pooling.MEAN_NON_SPECIAL,
                adapters, rand);
        return TinyClassifiers.oracle(m, dropout ? DropoutContext.training(7, 3) : DropoutContext.OFF, act);
    }

    /** Checks sampled entries of every parameter named in {@code names}; key.bias and pad rows as documented. */
    private void checkParams(String label, DoubleModel o, Map<String, double[]> g, java.util.function.DoubleSupplier loss,
                             java.util.function.Predicate<String> names, boolean roberta) {
        int checked = 0;
        for (var e : o.parameters().entrySet()) {
            String name = e.getKey();
            if (!names.test(name)) continue;
            double[] x = e.getValue(), a = g.get(name);
            int[] idx = FiniteDifferences.sample(x.length, 12, rand);
            if (name.endsWith("attention.self.key.bias")) {
                for (int i : idx) {
                    double s = x[i];
                    x[i] = s + H;
                    double p = loss.getAsDouble();
                    x[i] = s - H;
                    double n = (p - loss.getAsDouble()) / (2 * H);
                    x[i] = s;
                    assertTrue(Math.abs(a[i]) < ZERO_GRAD_ABS && Math.abs(n) < ZERO_GRAD_ABS,
                            label + " " + name + "[" + i + "]: analytic " + a[i] + ", central difference " + n);
                }
                continue;
            }
            int pad = roberta ? 1 : 0, C = 16;
            boolean table = name.equals("embeddings.word_embeddings.weight")
                    || (roberta && name.equals("embeddings.position_embeddings.weight"));
            if (table) {
                for (int c = 0; c < C; c++) assertEquals(0.0, a[pad * C + c], label + " " + name + " padding row " + pad);
                idx = java.util.Arrays.stream(idx).filter(i -> i / C != pad).toArray();
                // plus the rows the batch looks up, which sampling would mostly miss
                int[] rows = roberta ? new int[] {0, 2, 5, 17} : new int[] {2, 3, 5, 17};
                if (name.contains("position")) rows = new int[] {2, 3, 8};
                int[] more = java.util.Arrays.stream(rows).flatMap(rw -> java.util.stream.IntStream.of(rw * C, rw * C + 7)).toArray();
                idx = java.util.stream.IntStream.concat(java.util.Arrays.stream(idx), java.util.Arrays.stream(more)).toArray();
            }
            check(label + " " + name, x, a, loss, idx, H, TOL);
            checked++;
        }
        assertTrue(checked > 0, label + ": no parameter checked");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void embeddingsBackwardMatchesCentralDifferencesWithRepeatedIdsAndThePadRule(boolean roberta) {
        DoubleModel o = oracle(roberta, false, true, DoubleLayers.Act.GELU);
        var batch = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] r = rnd(B * T * 16);
        var g = o.zeroGrads();
        o.embeddingsBackward(o.embeddings(batch.ids(), batch.types(), B, T), r, g);
        checkParams("embeddings", o, g, () -> dot(o.embeddings(batch.ids(), batch.types(), B, T).y(), r),
                n -> n.startsWith("embeddings."), roberta);
    }

    @ParameterizedTest
    @ValueSource(strings = {"RELU", "GELU"})
    void encoderLayerWithAdaptersAndDropoutMatchesCentralDifferences(String act) {
        DoubleModel o = oracle(false, true, true, DoubleLayers.Act.valueOf(act));
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] x = rnd(B * T * 16), r = rnd(B * T * 16);
        int[] mask = TinyClassifiers.MASK;
        var g = o.zeroGrads();
        double[] dX = o.layerBackward(o.layer(1, x, mask, B, T), r, g);
        java.util.function.DoubleSupplier loss = () -> dot(o.layerOutput(o.layer(1, x, mask, B, T)), r);
        check("layer 1 dX", x, dX, loss, FiniteDifferences.sample(x.length, 40, rand), H, TOL);
        checkParams("layer 1 (" + act + " adapters)", o, g, loss, n -> n.startsWith("encoder.layer.1."), false);
    }

    @ParameterizedTest
    @ValueSource(strings = {"RELU", "GELU"})
    void encoderLayerWithTheAuthorsAdapterPlacementMatchesCentralDifferences(String act) {
        // attention adapter before its dropout (BERT init, width 3), FFN adapter after (width 6), bottleneck dropout
        Adapter.Site att = new Adapter.Site(3, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.25);
        Adapter.Site ffn = new Adapter.Site(6, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0.25);
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), 2, Pooling.MEAN_NON_SPECIAL, att, ffn, rand);
        DoubleModel o = TinyClassifiers.oracle(m, DropoutContext.training(7, 3), DoubleLayers.Act.valueOf(act));
        assertEquals(java.util.Set.of("encoder.layer.0.attention.output.adapter", "encoder.layer.1.attention.output.adapter"),
                o.config().adaptersBeforeDropout());
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] x = rnd(B * T * 16), r = rnd(B * T * 16);
        int[] mask = TinyClassifiers.MASK;
        var g = o.zeroGrads();
        var tape = o.layer(1, x, mask, B, T);
        assertTrue(tape.ad1().m() != null && tape.ad2().m() != null, "both bottleneck dropouts are on");
        double[] dX = o.layerBackward(tape, r, g);
        java.util.function.DoubleSupplier loss = () -> dot(o.layerOutput(o.layer(1, x, mask, B, T)), r);
        check("layer 1 dX", x, dX, loss, FiniteDifferences.sample(x.length, 40, rand), H, TOL);
        checkParams("layer 1 (" + act + " authors' adapters)", o, g, loss, n -> n.startsWith("encoder.layer.1."), false);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void headsMatchCentralDifferencesWithDropout(boolean roberta) {
        DoubleModel o = oracle(roberta, false, true, DoubleLayers.Act.GELU);
        var batch = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] h = rnd(B * T * 16), r = rnd(B * 3);
        var g = o.zeroGrads();
        double[] dH = o.headBackward(o.head(h, batch.mask(), batch.special(), B, T), r, g);
        java.util.function.DoubleSupplier loss = () -> dot(o.head(h, batch.mask(), batch.special(), B, T).logits(), r);
        check("head dH", h, dH, loss, null, H, TOL);
        checkParams("head", o, g, loss, n -> n.startsWith("classifier.") || n.startsWith("pooler."), roberta);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void wholeClassifierGradientMatchesCentralDifferences(boolean roberta) {
        DoubleModel o = oracle(roberta, true, true, DoubleLayers.Act.GELU);
        var b = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        var tape = o.forward(b.ids(), b.types(), b.mask(), b.special(), B, T);
        var g = o.backward(tape, DoubleLayers.crossEntropyBackward(tape.logits(), b.labels(), B, 3, 1.0));
        checkParams("classifier", o, g, () -> o.loss(b.ids(), b.types(), b.mask(), b.special(), b.labels(), B, T),
                n -> true, roberta);
    }
}

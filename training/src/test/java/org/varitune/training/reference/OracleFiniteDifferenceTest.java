package org.varitune.training.reference;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.DoubleLayers;
import org.varitune.transformer.reference.FiniteDifferences;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TinyClassifiers;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.transformer.reference.FiniteDifferences.check;
import static org.varitune.transformer.reference.FiniteDifferences.dot;

/**
 * The classifier oracle's backwards against central differences ({@code h = Tolerances.FD_STEP}, loss
 * {@code Σ out·R} with random R, relative error ≤ {@code Tolerances.FD_RELATIVE}): pooling, cross-entropy, heads, and
 * the shared {@link DoubleEncoder}'s embeddings and layers as the tiny classifiers use them (adapters, both adapter
 * placements, every dropout), up to the whole classifier; each layer alone is checked in
 * {@code DoubleLayersGradientTest}. Two documented exceptions: the embedding rows of {@code pad_token_id} (and
 * RoBERTa's position {@code padding_idx}) get no gradient by HF's convention although the forward uses them, so they
 * are asserted zero instead; and {@code attention.self.key.bias} has an exactly zero gradient, whose central
 * difference is rounding noise, so it is compared absolutely ({@link #ZERO_GRAD_ABS}).
 */
class OracleFiniteDifferenceTest extends TestBase {
    static final double H = Tolerances.FD_STEP, TOL = Tolerances.FD_RELATIVE;
    /** |a − n| for gradients that are exactly zero: the noise of a central difference of a loss of size ~10 in double. */
    static final double ZERO_GRAD_ABS = 1e-8;

    private double[] rnd(int n) { return toDouble(randn(n)); }

    @ParameterizedTest
    @ValueSource(strings = {"FIRST_TOKEN", "MEAN_NON_PAD", "MEAN_NON_SPECIAL"})
    void poolingAndCrossEntropyBackwardsMatchCentralDifferences(String mode) {
        int B = 3, T = 4, C = 5, K = 3;
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0}, special = {1, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
        double[] h = rnd(B * T * C), r = rnd(B * C);
        double[] w = DoubleClassifier.poolWeights(mode, mask, special, B, T), pooled = new double[B * C];
        double[] dH = new double[h.length];
        DoubleClassifier.poolBackward(dH, r, w, B, T, C);
        check("pool " + mode + " dH", h, dH, () -> {
            DoubleClassifier.poolForward(pooled, h, w, B, T, C);
            return dot(pooled, r);
        }, null, H, TOL);
        double[] logits = rnd(B * K);
        int[] labels = {2, 0, 1};
        check("cross-entropy dLogits", logits, DoubleClassifier.crossEntropyBackward(logits, labels, B, K, 1.0),
                () -> DoubleClassifier.crossEntropy(logits, labels, B, K), null, H, TOL);
    }

    /** A random tiny classifier's oracle: names and shapes from our model, values from it. */
    private DoubleClassifier oracle(boolean roberta, boolean adapters, boolean dropout, DoubleLayers.Act act) {
        SequenceClassifier m = TinyClassifiers.model(roberta, new CpuKernels(), 2, Pooling.MEAN_NON_SPECIAL,
                adapters, rand);
        return TinyClassifiers.oracle(m, dropout ? DropoutContext.training(7, 3) : DropoutContext.OFF, act);
    }

    /** Checks sampled entries of every parameter named in {@code names}; key.bias and pad rows as documented. */
    private void checkParams(String label, DoubleClassifier o, Map<String, double[]> g, java.util.function.DoubleSupplier loss,
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
        DoubleClassifier o = oracle(roberta, false, true, DoubleLayers.Act.GELU);
        DoubleEncoder e = o.encoder();
        var batch = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] r = rnd(B * T * 16);
        var g = o.zeroGrads();
        e.embeddingsBackward(e.embeddings(batch.ids(), batch.types(), B, T), r, g);
        checkParams("embeddings", o, g, () -> dot(e.embeddings(batch.ids(), batch.types(), B, T).y(), r),
                n -> n.startsWith("embeddings."), roberta);
    }

    @ParameterizedTest
    @ValueSource(strings = {"RELU", "GELU"})
    void encoderLayerWithAdaptersAndDropoutMatchesCentralDifferences(String act) {
        DoubleClassifier o = oracle(false, true, true, DoubleLayers.Act.valueOf(act));
        DoubleEncoder e = o.encoder();
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] x = rnd(B * T * 16), r = rnd(B * T * 16);
        int[] mask = TinyClassifiers.MASK;
        var g = o.zeroGrads();
        double[] dX = e.layerBackward(e.layer(1, x, mask, B, T), r, g);
        java.util.function.DoubleSupplier loss = () -> dot(e.layerOutput(e.layer(1, x, mask, B, T)), r);
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
        DoubleClassifier o = TinyClassifiers.oracle(m, DropoutContext.training(7, 3), DoubleLayers.Act.valueOf(act));
        DoubleEncoder e = o.encoder();
        assertEquals(java.util.Set.of("encoder.layer.0.attention.output.adapter", "encoder.layer.1.attention.output.adapter"),
                e.adaptersBeforeDropout());
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        double[] x = rnd(B * T * 16), r = rnd(B * T * 16);
        int[] mask = TinyClassifiers.MASK;
        var g = o.zeroGrads();
        var tape = e.layer(1, x, mask, B, T);
        assertTrue(tape.ad1().m() != null && tape.ad2().m() != null, "both bottleneck dropouts are on");
        double[] dX = e.layerBackward(tape, r, g);
        java.util.function.DoubleSupplier loss = () -> dot(e.layerOutput(e.layer(1, x, mask, B, T)), r);
        check("layer 1 dX", x, dX, loss, FiniteDifferences.sample(x.length, 40, rand), H, TOL);
        checkParams("layer 1 (" + act + " authors' adapters)", o, g, loss, n -> n.startsWith("encoder.layer.1."), false);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void headsMatchCentralDifferencesWithDropout(boolean roberta) {
        DoubleClassifier o = oracle(roberta, false, true, DoubleLayers.Act.GELU);
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
        DoubleClassifier o = oracle(roberta, true, true, DoubleLayers.Act.GELU);
        var b = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        var tape = o.forward(b.ids(), b.types(), b.mask(), b.special(), B, T);
        var g = o.backward(tape, DoubleClassifier.crossEntropyBackward(tape.logits(), b.labels(), B, 3, 1.0));
        checkParams("classifier", o, g, () -> o.loss(b.ids(), b.types(), b.mask(), b.special(), b.labels(), B, T),
                n -> true, roberta);
    }
}

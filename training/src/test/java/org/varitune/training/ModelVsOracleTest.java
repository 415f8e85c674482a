package org.varitune.training;

import org.varitune.training.method.AdapterTuning;
import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.reference.DoubleLayers;
import org.varitune.training.reference.DoubleClassifier;

import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole tiny classifier (3-layer encoder + head + cross-entropy) in float against the double oracle: logits,
 * loss and the gradient of every parameter, with dropout off and on (the oracle gets the very masks our dropouts
 * draw), with adapters, and with frozen parts: frozen parameters get no gradient buffer at all, and nothing below
 * the lowest trainable layer is touched.
 */
class ModelVsOracleTest extends TestBase {
    /**
     * Per-tensor normalised error of the gradients, three layers deep (below Tolerances.F32_LAYER). Observed over
     * every OpenBLAS core type and the pure-Java GEMM: at most 1.7e-5 (the authors' adapter placement, pure-Java
     * GEMM); 8.2e-6 for the other cases (roberta, layer 0, a small gradient at the bottom of the backward).
     */
    static final double MODEL = 1.5e-4;
    /** Logits and loss. Observed at most 9.9e-7 (logits, OPENBLAS_CORETYPE=Haswell). */
    static final double LOGITS = 1e-5;
    /**
     * {@code key.bias} (exact gradient 0) relative to the largest gradient of the model. Observed at most 7.4e-8
     * (PARTIAL, pure-Java GEMM).
     */
    static final double KEY_BIAS = 8e-7;

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> s = Stream.builder();
        for (Kernels k : new Kernels[] {new CpuKernels(), Kernels.fromSystemProperty()}) {
            for (boolean roberta : new boolean[] {false, true}) {
                for (boolean dropout : new boolean[] {false, true}) s.add(Arguments.of(k, roberta, dropout));
            }
        }
        return s.build();
    }

    private record Run(SequenceClassifier model, DoubleClassifier oracle, Map<String, double[]> expected, double loss,
                       double expectedLoss) {}

    /** Forward + backward of our model and of the oracle on the tiny batch. */
    private static Run run(SequenceClassifier m, boolean roberta, DropoutContext ctx) {
        var b = TinyClassifiers.batch(roberta);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        DoubleClassifier o = TinyClassifiers.oracle(m, ctx, DoubleLayers.Act.GELU);
        m.zeroGrad();
        var trace = m.forwardTrain(b.ids(), b.types(), b.mask(), b.special(), B, T, ctx);
        var ce = CrossEntropyLoss.forward(trace.logits(), b.labels(), B, 3);
        m.backward(trace, CrossEntropyLoss.backward(1.0, ce));
        var tape = o.forward(b.ids(), b.types(), b.mask(), b.special(), B, T);
        AllClose.assertAllClose("logits", trace.logits(), tape.logits(), LOGITS, B, 3);
        var g = o.backward(tape, DoubleClassifier.crossEntropyBackward(tape.logits(), b.labels(), B, 3, 1.0));
        return new Run(m, o, g, ce.loss(), DoubleClassifier.crossEntropy(tape.logits(), b.labels(), B, 3));
    }

    /** Compares the grads of the trainable parameters; asserts frozen ones have none. Returns how many compared. */
    private static int compareGrads(String label, Run r) {
        double maxG = 0;
        for (double[] g : r.expected().values()) for (double v : g) maxG = Math.max(maxG, Math.abs(v));
        int compared = 0;
        for (Parameter p : r.model().parameters()) {
            if (!p.trainable()) {
                assertFalse(p.hasGrad(), label + ": frozen " + p.name() + " got a gradient buffer");
                continue;
            }
            double[] e = r.expected().get(p.name());
            if (p.name().endsWith("attention.self.key.bias")) {
                double[] scaled = new double[e.length];
                for (int i = 0; i < e.length; i++) scaled[i] = p.grad()[i] / maxG;
                AllClose.assertAllClose(label + " " + p.name() + " / max|g|", scaled, new double[e.length], KEY_BIAS);
            } else {
                AllClose.assertAllClose(label + " grad " + p.name(), p.grad(), e, MODEL, p.shape());
            }
            compared++;
        }
        return compared;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyGradientOfTheWholeClassifierMatchesTheOracle(Kernels k, boolean roberta, boolean dropout) {
        Pooling pooling = roberta ? Pooling.MEAN_NON_PAD : Pooling.MEAN_NON_SPECIAL;
        SequenceClassifier m = TinyClassifiers.model(roberta, k, 3, pooling, true, rand);
        FreezePolicy.of(Plans.full(3)).apply(m);
        Run r = run(m, roberta, dropout ? DropoutContext.training(42, 7) : DropoutContext.OFF);
        AllClose.assertAllClose("loss", new double[] {r.loss()}, new double[] {r.expectedLoss()}, LOGITS);
        assertEquals(m.parameters().size(), compareGrads(k.name() + (roberta ? " roberta" : " bert"), r),
                "every parameter is trainable and compared");
    }

    static Stream<Arguments> policies() {
        return Stream.of(
                Arguments.of(Plans.of(3, TuningMode.PARTIAL, 2, 1), 2),     // layer 2 only; layer 1 frozen
                Arguments.of(Plans.of(3, TuningMode.TOP_K, 3, 2), 2),       // layers 2, 3
                Arguments.of(Plans.of(3, TuningMode.ADAPTERS, 3, 1), 3),    // layer 3's adapters and LayerNorms
                Arguments.of(Plans.of(3, TuningMode.PROBE, 2, 0), 3),       // head only
                // tuned blocks ending below the head: the gradient reaches them through frozen layers 2..3 / 3
                Arguments.of(Plans.of(3, TuningMode.PARTIAL, 3, 1, 1), 1),  // layer 1 only, head on 3
                Arguments.of(Plans.of(3, TuningMode.ADAPTERS, 3, 1, 2), 2)); // layer 2's adapters, head on 3
    }

    @ParameterizedTest
    @MethodSource("policies")
    void frozenPartsGetNoGradientAndBackwardStopsBelowTheLowestTrainableLayer(LayerPlan plan, int lowestLayer) {
        Kernels k = Kernels.fromSystemProperty();
        FreezePolicy policy = FreezePolicy.of(plan);
        int headLayer = plan.headLayer();
        SequenceClassifier m = TinyClassifiers.model(false, k, headLayer, Pooling.FIRST_TOKEN, false, rand);
        if (plan.mode() == TuningMode.ADAPTERS) {
            new AdapterTuning(Adapter.Site.houlsby(4), Adapter.Site.houlsby(4), Adapter.Activation.GELU)
                    .insert(m.encoder(), plan, new Random(1));
        }
        // adapters start at identity with up = 0; randomise them so that every gradient is exercised
        for (Parameter p : m.parameters()) {
            if (p.name().contains(".adapter.")) for (int i = 0; i < p.numel(); i++) p.data()[i] = (float) (0.3 * rand.nextGaussian());
        }
        policy.apply(m);
        Run r = run(m, false, DropoutContext.training(1, 2));
        int compared = compareGrads(plan.mode().toString(), r);
        assertTrue(compared >= 4, plan.mode() + ": at least the head is compared");
        // nothing below the lowest trainable layer was touched: not even the embeddings' LayerNorm
        for (Parameter p : m.encoder().parameters()) {
            java.util.regex.Matcher mt = java.util.regex.Pattern.compile("^encoder\\.layer\\.(\\d+)\\.").matcher(p.name());
            int layer = mt.find() ? Integer.parseInt(mt.group(1)) + 1 : 0;
            if (layer < lowestLayer) assertFalse(p.hasGrad(), p.name() + " is below the lowest trainable layer " + lowestLayer);
            if (layer > headLayer) assertFalse(p.trainable() || p.hasGrad(), p.name() + " is above the head");
        }
        int[] tuned = {plan.firstTuned(), plan.lastTuned()};
        for (Parameter p : m.encoder().parameters()) {
            java.util.regex.Matcher mt = java.util.regex.Pattern.compile("^encoder\\.layer\\.(\\d+)\\.").matcher(p.name());
            int layer = mt.find() ? Integer.parseInt(mt.group(1)) + 1 : 0;
            if (layer > tuned[1] && layer <= headLayer) assertFalse(p.trainable(), p.name() + " is above the tuned block");
        }
        int expectLowest = plan.mode() == TuningMode.PROBE ? 4 : lowestLayer;
        assertEquals(expectLowest, m.encoder().lowestTrainable(), "lowest trainable block");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void theAuthorsAdapterPlacementMatchesTheOracle(Kernels k, boolean roberta, boolean dropout) {
        // attention adapter before its dropout, FFN adapter after, both with a bottleneck dropout, different widths
        Adapter.Site att = new Adapter.Site(4, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.2);
        Adapter.Site ffn = new Adapter.Site(6, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0.2);
        SequenceClassifier m = TinyClassifiers.model(roberta, k, 3, Pooling.FIRST_TOKEN, att, ffn, rand);
        FreezePolicy.of(Plans.full(3)).apply(m);
        Run r = run(m, roberta, dropout ? DropoutContext.training(42, 7) : DropoutContext.OFF);
        AllClose.assertAllClose("loss", new double[] {r.loss()}, new double[] {r.expectedLoss()}, MODEL);
        assertEquals(m.parameters().size(), compareGrads(k.name() + " authors' adapters", r), "every parameter compared");
    }

    @org.junit.jupiter.api.Test
    void anAdapterBeforeOrAfterTheDropoutComputesTheSameFunctionWithDropoutOffAndDifferentOnesWithItOn() {
        Kernels k = Kernels.fromSystemProperty();
        Adapter.Site before = new Adapter.Site(4, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0);
        Adapter.Site after = new Adapter.Site(4, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0);
        SequenceClassifier a = TinyClassifiers.model(false, k, 3, Pooling.FIRST_TOKEN, before, null, new Random(5));
        SequenceClassifier b = TinyClassifiers.model(false, k, 3, Pooling.FIRST_TOKEN, after, null, new Random(5));
        var batch = TinyClassifiers.batch(false);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        float[] offA = a.forwardTrain(batch.ids(), batch.types(), batch.mask(), batch.special(), B, T, DropoutContext.OFF).logits();
        float[] offB = b.forwardTrain(batch.ids(), batch.types(), batch.mask(), batch.special(), B, T, DropoutContext.OFF).logits();
        org.junit.jupiter.api.Assertions.assertArrayEquals(offA, offB, "same weights, dropout off: same logits");
        DropoutContext on = DropoutContext.training(3, 1);
        float[] onA = a.forwardTrain(batch.ids(), batch.types(), batch.mask(), batch.special(), B, T, on).logits();
        float[] onB = b.forwardTrain(batch.ids(), batch.types(), batch.mask(), batch.special(), B, T, on).logits();
        assertFalse(java.util.Arrays.equals(onA, onB), "dropout on: the placement changes the function");
    }
}

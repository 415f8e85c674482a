package org.varitune.training;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.training.method.BitFitTuning;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.model.Fixtures;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BitFit against the PyTorch fixtures of full fine-tuning ({@link HfFixtureTrainingTest}): a bias's gradient is the sum
 * over rows of the gradient at its output, which does not depend on which other parameters train, so under
 * {@code bitfit} each trained bias (and the head) must get exactly the fixture's full fine-tuning gradient, with that
 * test's tolerances. Frozen weights get no gradient and do not move under AdamW.
 */
class BitFitFixtureTest extends TestBase {
    private final Kernels kernels = Kernels.fromSystemProperty();

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.TINY_BERT, Fixtures.TINY_ROBERTA, Fixtures.TINY_DISTILBERT})
    void theTrainedBiasesGetFullFineTuningsGradientsAndOnlyTheyMoveUnderAdamW(String fixture) throws Exception {
        for (int k = 1; k <= 2; k++) {
            HfFixtureTrainingTest.Setup s = HfFixtureTrainingTest.load(fixture, kernels);
            SequenceClassifier m = s.model();
            FreezePolicy.of(Plans.of(2, TuningMode.BITFIT, 2, k), BitFitTuning.of(Map.of())).apply(m);
            m.zeroGrad();
            var trace = m.forwardTrain(s.ids(), s.types(), s.mask(), null, s.B(), s.T(), DropoutContext.OFF);
            var ce = CrossEntropyLoss.forward(trace.logits(), s.labels(), s.B(), 3);
            m.backward(trace, CrossEntropyLoss.backward(1.0, ce));
            int compared = 0;
            try (WeightSource g = Fixtures.open(fixture, "grads")) {
                double maxG = 0;
                for (String name : g.names()) for (float v : g.readFloat(name)) maxG = Math.max(maxG, Math.abs(v));
                for (Parameter p : m.parameters()) {
                    String key = HfFixtureTrainingTest.hfName(s, p), at = fixture + " k=" + k + " " + key;
                    if (!p.trainable()) {
                        assertFalse(p.hasGrad() && nonZero(p.grad()), at + ": frozen, so no gradient");
                        continue;
                    }
                    boolean head = m.head().parameters().contains(p);
                    assertTrue(head || p.name().endsWith(".bias"), at + ": only biases train in the encoder");
                    float[] expected = g.readFloat(key);
                    if (p.name().endsWith("attention.self.key.bias") || p.name().endsWith("attention.k_lin.bias")) {
                        // exact gradient 0 (softmax is shift invariant per query): compared absolutely against max|g|
                        double[] scaled = new double[expected.length], zero = new double[expected.length];
                        for (int i = 0; i < expected.length; i++) scaled[i] = p.grad()[i] / maxG;
                        AllClose.assertAllClose(at + " / max|g|", scaled, zero, HfFixtureTrainingTest.KEY_BIAS_ABS_TOL);
                    } else {
                        AllClose.assertAllClose(at, p.grad(), expected, HfFixtureTrainingTest.GRAD_TOL, p.shape());
                    }
                    compared++;
                }
            }
            assertEquals(4 + 8 * k, compared, fixture + " k=" + k + ": the head's 4 tensors and 8 biases per tuned layer");

            Map<Parameter, float[]> before = new HashMap<>();
            for (Parameter p : m.parameters()) before.put(p, p.data().clone());
            new AdamW(m.parameters(), 0.9, 0.999, 1e-8, 0.01).step(1e-3);
            for (Parameter p : m.parameters()) {
                String at = fixture + " k=" + k + " " + p.name();
                if (!p.trainable()) {
                    assertArrayEquals(before.get(p), p.data(), at + ": frozen, unchanged by AdamW");
                } else if (!p.name().endsWith("key.bias") && !p.name().endsWith("k_lin.bias")) {
                    // (a key bias's gradient is 0 up to rounding, so whether AdamW moves it is rounding's call)
                    assertFalse(java.util.Arrays.equals(before.get(p), p.data()), at + ": trained, moved by AdamW");
                }
            }
        }
    }

    private static boolean nonZero(float[] a) {
        for (float v : a) if (v != 0) return true;
        return false;
    }
}

package org.varitune.transformer.layers;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Training steps whose kept activations and in-layer gradients come from reused buffers ({@link StepActivations})
 * give exactly the hidden states and gradients of the same steps on new arrays, dropout on, step after step (the
 * buffers then hold the previous step's or layer's values, which every kernel must overwrite or which must be zeroed).
 */
class StepActivationsTest extends TestBase {

    @Test
    void stepsInsideTheScopeEqualTheSameStepsOnNewArraysBitForBit() {
        EncoderConfig c = TinyModels.bert();
        Kernels k = Kernels.fromSystemProperty();
        Encoder fresh = TinyModels.random(c, k, false, new Random(7)), reused = TinyModels.random(c, k, false, new Random(7));
        int B = 3, T = 9, L = c.numHiddenLayers(), C = c.hiddenSize();
        int[] ids = new int[B * T], types = new int[B * T], mask = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rand.nextInt(c.vocabSize());
            mask[i] = i / T == 1 && i % T >= 6 ? 0 : 1;                       // the second sequence padded
        }
        for (int step = 0; step < 3; step++) {
            DropoutContext drop = DropoutContext.training(11, step);
            float[] dLast = randn(B * T * C);
            Encoder.Trace tf = fresh.forwardTrain(ids, types, mask, B, T, L, drop);
            fresh.backward(tf, dLast, null);
            try (StepActivations s = StepActivations.open()) {
                Encoder.Trace tr = reused.forwardTrain(ids, types, mask, B, T, L, drop);
                assertTrue(StepActivations.current().taken() >= 9 * L, "kept activations taken from the step's buffers: "
                        + StepActivations.current().taken());
                reused.backward(tr, dLast, null);
                assertTrue(StepActivations.layerGradientsTaken() >= 10, "a layer's gradients taken from reused buffers: "
                        + StepActivations.layerGradientsTaken());
                for (int l = 0; l <= L; l++) {
                    assertBits("step " + step + " hidden state " + l, tf.output().hiddenStates().get(l),
                            tr.output().hiddenStates().get(l));
                }
            }
            assertNull(StepActivations.current());
            List<Parameter> pf = fresh.parameters(), pr = reused.parameters();
            for (int i = 0; i < pf.size(); i++) {
                assertBits("step " + step + " grad of " + pf.get(i).name(), pf.get(i).grad(), pr.get(i).grad());
            }
        }
    }

    @Test
    void opensOncePerThread() {
        try (StepActivations s = StepActivations.open()) {
            assertThrows(IllegalStateException.class, StepActivations::open);
        }
        try (StepActivations s = StepActivations.open()) {
            assertEquals(0, StepActivations.current().taken(), "every buffer free again");
        }
    }

    private static void assertBits(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + " [" + i + "]: " + actual[i] + " on reused buffers, " + expected[i]
                        + " on new arrays");
            }
        }
    }
}

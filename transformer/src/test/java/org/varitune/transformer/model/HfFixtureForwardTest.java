package org.varitune.transformer.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Whole-encoder forward against the PyTorch fixtures: every hidden state, at every position, and the pooler. */
class HfFixtureForwardTest extends TestBase {
    /**
     * Observed over every kernel choice: hidden states below 5e-7 on every layer of both fixtures, pooled 9.7e-7
     * (tiny-bert, OPENBLAS_CORETYPE=Haswell).
     */
    static final double HIDDEN_TOL = 1e-5;

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.TINY_BERT, Fixtures.TINY_ROBERTA, Fixtures.TINY_DISTILBERT})
    void forwardMatchesPyTorchAtEveryLayer(String model) throws Exception {
        Encoder enc = Encoder.load(Fixtures.dir(model), Kernels.fromSystemProperty());
        try (WeightSource f = Fixtures.open(model, "forward")) {
            int[] shape = f.info("hidden_states.0").shape();
            int B = shape[0], T = shape[1], C = shape[2];
            int[] ids = Fixtures.ints(f, "input_ids");
            assertArrayEquals(Fixtures.ints(f, "position_ids"), enc.embeddings().positionIds(ids, B, T), "position_ids");
            EncoderOutput out = enc.forward(ids, Fixtures.intsOrNull(f, "token_type_ids"), Fixtures.ints(f, "attention_mask"),
                    B, T, enc.numLayers());
            assertEquals(enc.numLayers() + 1, out.hiddenStates().size());
            for (int l = 0; l <= enc.numLayers(); l++) {
                AllClose.assertAllClose(model + " hidden_states." + l, out.hiddenStates().get(l),
                        f.readFloat("hidden_states." + l), HIDDEN_TOL, B, T, C);
            }
            if (f.contains("pooled")) {
                AllClose.assertAllClose(model + " pooled", out.pooled(), f.readFloat("pooled"), HIDDEN_TOL, B, C);
            } else {
                assertNull(out.pooled(), model + " fixture has no pooler");
            }
        }
    }
}

package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerSelectionTest extends TestBase {
    static EncoderConfig bert(int layers) {
        return new EncoderConfig("bert", 30522, 768, layers, 12, 3072, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1);
    }

    @Test
    void argminAndLowestWithinFraction() {
        double[] nu = {5, 3, 0.52, 0.5, 0.6, 0.7};   // index 0 = embeddings
        LayerSelection.Recommendation a = LayerSelection.recommend(nu, bert(5), 2, LayerSelection.Options.defaults());
        assertEquals(3, a.headLayer());
        assertEquals(2, a.tuneLayers());
        assertEquals(0.6, a.forwardFraction(), 1e-15);
        assertEquals(0.4, a.backwardFraction(), 1e-15);
        assertEquals(7.0 / 15, a.trainStepFraction(), 1e-15);
        assertTrue(a.yaml().contains("mode: partial\nhead_layer: 3\ntune_layers: 2\n"), a.yaml());
        LayerSelection.Recommendation f = LayerSelection.recommend(nu, bert(5), 2, LayerSelection.Options.defaults().withinFraction(0.05));
        assertEquals(2, f.headLayer());
        assertEquals(3, f.argminLayer());
    }

    @Test
    void embeddingsAreNotACandidateByDefault() {
        double[] nu = {0.1, 3, 2, 1};
        assertEquals(3, LayerSelection.recommend(nu, bert(3), 2, LayerSelection.Options.defaults()).headLayer());
    }

    @Test
    void dropCoverageChoosesLayersCarryingTheDrop() {
        double[] nu = {5, 3, 0.52, 0.5, 0.6, 0.7};   // drops into layers 1..3: 2, 2.48, 0.02
        LayerSelection.Options o = LayerSelection.Options.defaults().dropCoverage(0.8, 4);
        assertEquals(3, LayerSelection.recommend(nu, bert(5), 2, o).tuneLayers());
        assertEquals(2, LayerSelection.recommend(nu, bert(5), 2, LayerSelection.Options.defaults().dropCoverage(0.5, 4)).tuneLayers());
    }

    @Test
    void parameterCountsMatchBertBase() {
        double[] nu = new double[13];
        for (int l = 0; l <= 12; l++) nu[l] = 13 - l;
        LayerSelection.Recommendation r = LayerSelection.recommend(nu, bert(12), 2, LayerSelection.Options.defaults());
        assertEquals(12, r.headLayer());
        assertEquals(7_087_872L, LayerSelection.layerParams(bert(12)));
        // bert-base-uncased with pooler: 109,482,240; plus a 768 x 2 classifier
        assertEquals(109_482_240L + 768 * 2 + 2, r.fullParams());
        assertEquals(2 * 7_087_872L + 768L * 768 + 768 + 768 * 2 + 2, r.trainableParams());
    }

    @Test
    void rejectsWrongLengthAndNonFiniteRatios() {
        assertThrows(IllegalArgumentException.class, () -> LayerSelection.recommend(new double[5], bert(5), 2, LayerSelection.Options.defaults()));
        double[] nu = {1, 2, Double.NaN, 1, 1, 1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayerSelection.recommend(nu, bert(5), 2, LayerSelection.Options.defaults()));
        assertTrue(e.getMessage().contains("layer 2"));
    }
}

package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.OptionalDouble;

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

    private static VariabilityResult defined(int l, double nu) {
        return VariabilityResult.of(l, nu, Variant.PAPER_CLASS_BALANCED, 1e-8, 1, 1, 1, new double[] {1}, 0);
    }

    private static VariabilityResult undefined(int l) {
        return new VariabilityResult(l, OptionalDouble.empty(), "Sb = 0: every class has exactly the same mean at this layer",
                Variant.PAPER_CLASS_BALANCED, 1e-8, 0, 1, 0, new double[0], 0);
    }

    @Test
    void anUndefinedLayerIsNeverTheHeadLayerNorADrop() {
        // layer 2 undefined; without it the argmin is layer 4; the drop into layer 3 (from the undefined layer 2)
        // counts as 0, so drop coverage sees only the drop 3 -> 4 (and 0 -> 1: 1)
        List<VariabilityResult> r = List.of(defined(0, 9), defined(1, 8), undefined(2), defined(3, 5), defined(4, 0.5), defined(5, 2));
        LayerSelection.Recommendation a = LayerSelection.recommend(r, bert(5), 2, LayerSelection.Options.defaults());
        assertEquals(4, a.headLayer());
        assertEquals(0.5, a.nuAtHead());
        assertEquals(1, LayerSelection.recommend(r, bert(5), 2, LayerSelection.Options.defaults().dropCoverage(0.8, 4)).tuneLayers());
        List<VariabilityResult> low = List.of(defined(0, 9), undefined(1), defined(2, 1.04), defined(3, 1), defined(4, 2), defined(5, 2));
        assertEquals(2, LayerSelection.recommend(low, bert(5), 2, LayerSelection.Options.defaults().withinFraction(0.05)).headLayer());
    }

    @Test
    void everyCandidateUndefinedIsAnErrorNamingTheLayersAndReason() {
        List<VariabilityResult> r = List.of(defined(0, 1), undefined(1), undefined(2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerSelection.recommend(r, bert(2), 2, LayerSelection.Options.defaults()));
        assertTrue(e.getMessage().contains("undefined at every candidate layer 1..2")
                && e.getMessage().contains("layer 2: Sb = 0"), e.getMessage());
    }
}

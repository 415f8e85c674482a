package org.varitune.metrics;

import org.varitune.transformer.layers.Pooling;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VariabilityReportTest extends TestBase {
    @Test
    void reportRecordsVariantToleranceAndUncertainty() {
        // layer l = class mean + noise / (1 + l): nu falls and probe accuracy rises with depth
        int d = 6, layers = 4;
        int[] counts = {60, 55};
        VariabilityAccumulator acc = new VariabilityAccumulator(layers, d, counts, null);
        float[][] mean = {uniform(d, -0.3, 0.3), uniform(d, -0.3, 0.3)};
        for (int y = 0; y < 2; y++) {
            for (int k = 0; k < counts[y]; k++) {
                float[] noise = randn(d);
                float[][] per = new float[layers][d];
                for (int l = 0; l < layers; l++) for (int i = 0; i < d; i++) per[l][i] = mean[y][i] + noise[i] / (1 + 2 * l);
                acc.addAll(per, new int[] {y}, 1);
            }
        }
        VariabilityReport r = VariabilityReport.of(acc, Variant.PAPYAN_SAMPLE_WEIGHTED, 1e-9, Pooling.MEAN_NON_SPECIAL, true);
        ObjectNode j = r.toJson();
        assertEquals("papyan", j.get("variant").asText());
        assertEquals(1e-9, j.get("relative_tolerance").asDouble());
        assertEquals(4, j.get("layers").size());
        assertTrue(j.get("layers").get(1).has("ci_lo"));
        assertEquals("nu_bias_corrected", j.get("layers").get(1).get("ci_of").asText());
        assertEquals(115, j.get("bootstrap").get("reservoir_examples").asInt());
        assertTrue(j.get("bootstrap").get("reservoir_holds_all_examples").asBoolean());
        assertTrue(j.get("layers").get(1).has("probe_majority_rate") && j.get("layers").get(1).has("probe_l2"));
        assertEquals(50, j.get("sample_size_curve").get("points").get(0).get("per_class").asInt());
        assertTrue(r.spearmanNuProbe().getAsDouble() < 0, "nu and probe accuracy should rank layers oppositely: " + r.spearmanNuProbe());
        assertEquals(r.nu()[2].getAsDouble(), j.get("layers").get(2).get("nu").asDouble());
    }

    @Test
    void rejectsResultsOfAnotherVariant() {
        VariabilityResult paper = VariabilityResult.of(0, 1, Variant.PAPER_CLASS_BALANCED, 1e-8, 1, 1, 1, new double[] {1}, 0);
        assertThrows(IllegalArgumentException.class, () -> new VariabilityReport(Variant.PAPYAN_SAMPLE_WEIGHTED, 1e-8,
                Pooling.FIRST_TOKEN, new int[] {1, 1}, 2, List.of(paper), null, null, null, OptionalDouble.empty()));
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void aLayerWhoseClassMeansCoincideIsNullInJsonAndLeftOutOfEverythingElse(Variant v) {
        // layer 0 is one vector for every input (CLS at the embeddings); layers 1..2 separate the classes
        int d = 4, layers = 3;
        int[] counts = {30, 25};
        VariabilityAccumulator acc = new VariabilityAccumulator(layers, d, counts, null);
        float[] cls = uniform(d, -1, 1);
        for (int y = 0; y < 2; y++) {
            for (int k = 0; k < counts[y]; k++) {
                float[][] per = {cls.clone(), randn(d), randn(d)};
                for (int l = 1; l < layers; l++) per[l][0] += 3 * y * l;
                acc.addAll(per, new int[] {y}, 1);
            }
        }
        VariabilityReport r = VariabilityReport.of(acc, v, 1e-8, Pooling.FIRST_TOKEN, true);
        assertTrue(r.nu()[0].isEmpty());
        assertTrue(r.bootstrap().at(0).isEmpty() && r.bootstrap().at(1).isPresent() && r.bootstrap().at(2).isPresent());
        assertArrayEquals(new int[] {1, 2}, r.curve().layers());
        assertEquals(3, r.probe().size(), "the probe still runs on every layer");
        assertEquals(r.probe().get(0).majorityRate(), r.probe().get(0).testAccuracy(), 1e-12,
                "identical inputs: the probe can only predict the majority class");
        ObjectNode j = r.toJson();
        assertTrue(j.get("layers").get(0).get("nu").isNull());
        assertEquals("Sb = 0: every class has exactly the same mean at this layer",
                j.get("layers").get(0).get("nu_undefined_reason").asText());
        assertFalse(j.get("layers").get(0).has("ci_lo"));
        assertFalse(j.toString().contains("NaN"), j.toString());
        LayerSelection.Recommendation rec = LayerSelection.recommend(r.layers(), LayerSelectionTest.bert(2), 2,
                LayerSelection.Options.defaults());
        assertEquals(2, rec.headLayer(), "layer 2 separates the classes most");
    }
}

package org.varitune.metrics;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertEquals(50, j.get("sample_size_curve").get("points").get(0).get("per_class").asInt());
        assertTrue(r.spearmanNuProbe() < 0, "nu and probe accuracy should rank layers oppositely: " + r.spearmanNuProbe());
        assertEquals(r.nu()[2], j.get("layers").get(2).get("nu").asDouble());
    }

    @Test
    void rejectsResultsOfAnotherVariant() {
        VariabilityResult paper = new VariabilityResult(0, 1, Variant.PAPER_CLASS_BALANCED, 1e-8, 1, 1, 1, new double[] {1}, 0);
        assertThrows(IllegalArgumentException.class, () -> new VariabilityReport(Variant.PAPYAN_SAMPLE_WEIGHTED, 1e-8,
                Pooling.CLS, new int[] {1, 1}, List.of(paper), null, null, null, Double.NaN));
    }
}

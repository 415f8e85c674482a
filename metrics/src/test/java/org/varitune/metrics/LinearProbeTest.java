package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearProbeTest extends TestBase {

    private LayerSamples samples(int d, int perClass, int C, double separation, boolean shuffleLabels) {
        float[][] v = new float[C][perClass * d];
        long[][] idx = new long[C][perClass];
        for (int y = 0; y < C; y++) {
            for (int k = 0; k < perClass; k++) {
                int cls = shuffleLabels ? rand.nextInt(C) : y;
                for (int i = 0; i < d; i++) v[y][k * d + i] = (float) (rand.nextGaussian() + (i == cls ? separation : 0));
                idx[y][k] = (long) y * perClass + k;
            }
        }
        return new LayerSamples(0, d, v, idx);
    }

    @Test
    void separableClassesAreProbedPerfectlyAndRandomLabelsAtChance() {
        LinearProbe.Result sep = LinearProbe.fit(samples(8, 60, 3, 8.0, false), LinearProbe.Options.defaults());
        assertEquals(1.0, sep.testAccuracy());
        assertEquals(36, sep.nTest());
        assertEquals(144, sep.nTrain());
        LinearProbe.Result noise = LinearProbe.fit(samples(8, 60, 3, 8.0, true), LinearProbe.Options.defaults());
        assertTrue(noise.testAccuracy() < 0.6, "random labels: " + noise.testAccuracy());
        assertTrue(noise.trainAccuracy() > noise.testAccuracy());
    }

    @Test
    void rankCorrelationIsSpearman() {
        assertEquals(-1.0, LinearProbe.rankCorrelation(new double[] {3, 1, 2}, new double[] {0.1, 0.9, 0.5}), 1e-12);
        assertEquals(1.0, LinearProbe.rankCorrelation(new double[] {1, 2, 30}, new double[] {0.1, 0.2, 0.25}), 1e-12);
    }
}

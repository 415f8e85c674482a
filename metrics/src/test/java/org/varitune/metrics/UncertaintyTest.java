package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UncertaintyTest extends TestBase {
    static final double TOL = RatioMath.DEFAULT_RELATIVE_TOLERANCE;

    /** Layers with clearly decreasing nu: layer l = class mean + noise / (1 + l). counts per class, d dims. */
    private VariabilityAccumulator layered(int layers, int d, int[] counts, int reservoir) {
        VariabilityAccumulator acc = new VariabilityAccumulator(layers, d, counts, null,
                VariabilityAccumulator.Options.defaults().withReservoirPerClass(reservoir));
        int C = counts.length;
        float[][] mean = new float[C][];
        for (int y = 0; y < C; y++) mean[y] = randn(d);
        for (int y = 0; y < C; y++) {
            for (int k = 0; k < counts[y]; k++) {
                float[] noise = randn(d);
                float[][] per = new float[layers][d];
                for (int l = 0; l < layers; l++) for (int i = 0; i < d; i++) per[l][i] = mean[y][i] + noise[i] / (1 + l);
                acc.addAll(per, new int[] {y}, 1);
            }
        }
        return acc;
    }

    @Test
    void reservoirHoldingEveryExampleReproducesTheExactRatio() {
        VariabilityAccumulator acc = layered(3, 6, new int[] {20, 31, 12}, 100);
        List<VariabilityResult> exact = acc.compute();
        for (int l = 0; l < 3; l++) {
            LayerSamples s = acc.samples(l);
            assertEquals(31, s.count(1));
            double nu = SampleRatio.compute(s.vectors(), null, 6, Variant.PAPER_CLASS_BALANCED, TOL).nu();
            assertTrue(VariabilityAccumulatorTest.rel(nu, exact.get(l).nu()) < 1e-10, nu + " vs " + exact.get(l).nu());
        }
    }

    @Test
    void reservoirKeepsTheSameBoundedSampleAtEveryLayer() {
        VariabilityAccumulator acc = layered(2, 4, new int[] {50, 40}, 15);
        LayerSamples a = acc.samples(0), b = acc.samples(1);
        assertEquals(15, a.count(0));
        assertArrayEquals(a.index()[0], b.index()[0]);
        assertArrayEquals(a.index()[1], b.index()[1]);
    }

    @Test
    void bootstrapBracketsTheSampleRatioAndFindsTheStableArgmin() {
        VariabilityAccumulator acc = layered(4, 5, new int[] {40, 40}, 40);
        Uncertainty.Bootstrap b = Uncertainty.bootstrap(acc.allSamples(), Variant.PAPER_CLASS_BALANCED, TOL, 100, 0.9, 11, 1);
        for (int l = 0; l < 4; l++) {
            assertTrue(b.lo()[l] < b.hi()[l], "layer " + l);
            assertTrue(b.lo()[l] >= 0 && b.hi()[l] > b.lo()[l], "layer " + l + ": interval [" + b.lo()[l] + ", " + b.hi()[l] + "]");
            // basic interval around the estimate: its width is that of the replicates' spread, within a factor of the estimate
            assertTrue(b.hi()[l] - b.lo()[l] < b.sampleNu()[l] && b.lo()[l] < 2 * b.sampleNu()[l], "layer " + l + ": interval [" + b.lo()[l] + ", " + b.hi()[l] + "] vs estimate " + b.sampleNu()[l]);
        }
        assertEquals(0.0, b.argminFrequency()[0]);
        assertTrue(b.argminFrequency()[3] > 0.95, "argmin frequency of the last layer " + b.argminFrequency()[3]);
        double sum = 0;
        for (double f : b.argminFrequency()) sum += f;
        assertEquals(1.0, sum, 1e-12);
        // noise 1/(1+l) scales Sw by 1/(1+l)²: intervals of layer 3 lie far below those of layer 0
        assertTrue(b.hi()[3] < b.lo()[0]);
        // deterministic for a seed
        Uncertainty.Bootstrap again = Uncertainty.bootstrap(acc.allSamples(), Variant.PAPER_CLASS_BALANCED, TOL, 100, 0.9, 11, 1);
        assertArrayEquals(b.lo(), again.lo());
    }

    @Test
    void sampleSizeCurveUsesOnlyAvailableSizesAndConvergesToTheWholeSample() {
        VariabilityAccumulator acc = layered(3, 4, new int[] {100, 120}, 100);
        Uncertainty.SampleSizeCurve c = Uncertainty.sampleSizeCurve(acc.allSamples(), Variant.PAPER_CLASS_BALANCED, TOL,
                new int[] {50, 100, 200, 500}, 3, 5, 1);
        assertArrayEquals(new int[] {50, 100}, c.perClass());
        assertEquals(2, c.argminLayer()[0]);
        assertEquals(1.0, c.spearmanWithAll()[1], 1e-12);
        assertTrue(c.sdNu()[0][0] > 0);
        assertArrayEquals(new int[] {50, 100, 200, 500, 1000}, Uncertainty.defaultSizes(1999));
        assertArrayEquals(new int[] {}, Uncertainty.defaultSizes(49));
    }
}

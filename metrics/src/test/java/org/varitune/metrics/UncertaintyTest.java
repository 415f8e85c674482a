package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
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
    void quantilesInterpolateBetweenOrderStatisticsAsType7() {
        double[] v = {10, 1, 4, 3, 2};                         // sorted: 1 2 3 4 10, h = 4q
        assertEquals(1.1, Uncertainty.quantile(v, 0.025), 1e-12);   // h = 0.1: 1 + 0.1·(2 − 1)
        assertEquals(2.2, Uncertainty.quantile(v, 0.3), 1e-12);     // h = 1.2: 2 + 0.2·(3 − 2)
        assertEquals(3.0, Uncertainty.quantile(v, 0.5), 1e-12);     // h = 2: x_(3)
        assertEquals(9.4, Uncertainty.quantile(v, 0.975), 1e-12);   // h = 3.9: 4 + 0.9·(10 − 4)
        assertEquals(10.0, Uncertainty.quantile(v, 1), 0);
        assertArrayEquals(new double[] {10, 1, 4, 3, 2}, v, 0, "input left in its order");
    }

    @Test
    void reservoirHoldingEveryExampleReproducesTheExactRatio() {
        VariabilityAccumulator acc = layered(3, 6, new int[] {20, 31, 12}, 100);
        List<VariabilityResult> exact = acc.compute();
        for (int l = 0; l < 3; l++) {
            LayerSamples s = acc.samples(l);
            assertEquals(31, s.count(1));
            double nu = SampleRatio.compute(s.vectors(), null, 6, Variant.PAPER_CLASS_BALANCED, TOL).nuOrThrow();
            assertTrue(VariabilityAccumulatorTest.rel(nu, exact.get(l).nuOrThrow()) < 1e-10, nu + " vs " + exact.get(l).nu());
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

    @ParameterizedTest
    @EnumSource(Variant.class)
    void bootstrapIntervalContainsTheBiasCorrectedValueAndFindsTheStableArgmin(Variant v) {
        VariabilityAccumulator acc = layered(4, 5, new int[] {40, 30}, 40);
        List<VariabilityResult> exact = acc.compute(v, TOL);
        Uncertainty.Bootstrap b = Uncertainty.bootstrap(acc.allSamples(), v, TOL, 100, 0.9, 11, 1);
        assertEquals(4, b.intervals().size());
        assertEquals(70, b.reservoirExamples());
        assertTrue(b.skipped().isEmpty());
        double sum = 0;
        for (Uncertainty.Interval i : b.intervals()) {
            int l = i.layer();
            // the reservoir holds every example: its plug-in is the exact nu
            assertTrue(VariabilityAccumulatorTest.rel(i.reservoirNu(), exact.get(l).nuOrThrow()) < 1e-10, "layer " + l);
            assertEquals(Math.max(0, 2 * i.reservoirNu() - i.replicateMean()), i.biasCorrected(), 1e-15);
            assertTrue(i.lo() <= i.biasCorrected() && i.biasCorrected() <= i.hi(), "layer " + l + ": " + i);
            assertTrue(i.lo() < i.hi(), "layer " + l + ": " + i);
            sum += i.argminFrequency();
        }
        assertEquals(0.0, b.at(0).orElseThrow().argminFrequency());
        assertTrue(b.at(3).orElseThrow().argminFrequency() > 0.95, "argmin frequency of the last layer");
        assertEquals(1.0, sum, 1e-12);
        // noise 1/(1+l) scales Sw by 1/(1+l)²: the interval of layer 3 lies far below that of layer 0
        assertTrue(b.at(3).orElseThrow().hi() < b.at(0).orElseThrow().lo());
        Uncertainty.Bootstrap again = Uncertainty.bootstrap(acc.allSamples(), v, TOL, 100, 0.9, 11, 1);
        assertEquals(b.intervals(), again.intervals(), "deterministic for a seed");
    }

    @Test
    void biasCorrectionMovesTowardsThePopulationRatioWhenClassesAreSmall() {
        // C = 2 classes of n = 10 points in d = 40 with N(m_y, I), |m_1 − m_0| = 2: population Sw = I, Sb = ¼ δδᵀ, so
        // nu = 2/|δ|² = 0.5. The sample mean difference carries noise of variance 2/n in each of the d dimensions
        // (|δ̂|² ≈ 4 + 2d/n = 12), so the plug-in is far too low (the high-dimensional regime of hidden states).
        // Averaged over 30 data sets, nu_bc must be closer to the truth than the plug-in, and each interval must
        // contain its own nu_bc.
        int d = 40, n = 10, sets = 30;
        double truth = 0.5, plugIn = 0, corrected = 0;
        for (int s = 0; s < sets; s++) {
            float[][] v = new float[2][n * d];
            for (int y = 0; y < 2; y++) {
                for (int k = 0; k < n; k++) for (int i = 0; i < d; i++) v[y][k * d + i] = (float) ((i == 0 ? 2 * y : 0) + rand.nextGaussian());
            }
            LayerSamples smp = new LayerSamples(1, d, v, new long[][] {new long[n], new long[n]});
            Uncertainty.Interval i = Uncertainty.bootstrap(List.of(smp), Variant.PAPER_CLASS_BALANCED, TOL, 200, 0.95, s, 1)
                    .intervals().get(0);
            assertTrue(i.lo() <= i.biasCorrected() && i.biasCorrected() <= i.hi(), "set " + s + ": " + i);
            plugIn += i.reservoirNu() / sets;
            corrected += i.biasCorrected() / sets;
        }
        assertTrue(plugIn < 0.5 * truth, "the plug-in should be strongly biased low here: " + plugIn + " vs " + truth);
        assertTrue(corrected > plugIn && Math.abs(corrected - truth) < Math.abs(plugIn - truth),
                "bias-corrected " + corrected + ", plug-in " + plugIn + ", population " + truth);
    }

    @Test
    void layersWithoutARatioAreSkippedWithTheirReason() {
        // layer 0: the same vector for every example; layer 1: two clusters
        int d = 3, n = 20;
        float[][] same = new float[2][n * d], apart = new float[2][n * d];
        for (int y = 0; y < 2; y++) {
            for (int k = 0; k < n; k++) {
                for (int i = 0; i < d; i++) {
                    same[y][k * d + i] = 0.25f * (i + 1);
                    apart[y][k * d + i] = (float) (y * 2 + rand.nextGaussian());
                }
            }
        }
        long[][] idx = {new long[n], new long[n]};
        List<LayerSamples> layers = List.of(new LayerSamples(0, d, same, idx), new LayerSamples(1, d, apart, idx));
        Uncertainty.Bootstrap b = Uncertainty.bootstrap(layers, Variant.PAPER_CLASS_BALANCED, TOL, 20, 0.95, 3, 0);
        assertEquals(1, b.intervals().size());
        assertEquals(1, b.intervals().get(0).layer());
        assertEquals(1.0, b.intervals().get(0).argminFrequency(), 1e-12, "the only layer with a ratio is always the argmin");
        assertEquals("on the reservoir sample: Sb = 0: every class has exactly the same mean at this layer", b.skipped().get(0));
        Uncertainty.SampleSizeCurve c = Uncertainty.sampleSizeCurve(layers, Variant.PAPER_CLASS_BALANCED, TOL,
                new int[] {5, 10}, 2, 3, 0);
        assertArrayEquals(new int[] {1}, c.layers());
        assertTrue(c.skipped().containsKey(0));
        assertEquals(1, c.argminLayer()[0].getAsInt());
        assertTrue(c.spearmanWithAll()[0].isEmpty(), "no rank correlation over a single layer");
    }

    @Test
    void sampleSizeCurveUsesOnlyAvailableSizesAndConvergesToTheWholeSample() {
        VariabilityAccumulator acc = layered(3, 4, new int[] {100, 120}, 100);
        Uncertainty.SampleSizeCurve c = Uncertainty.sampleSizeCurve(acc.allSamples(), Variant.PAPER_CLASS_BALANCED, TOL,
                new int[] {50, 100, 200, 500}, 3, 5, 1);
        assertArrayEquals(new int[] {50, 100}, c.perClass());
        assertArrayEquals(new int[] {0, 1, 2}, c.layers());
        assertEquals(2, c.argminLayer()[0].getAsInt());
        assertEquals(1.0, c.spearmanWithAll()[1].getAsDouble(), 1e-12);
        assertTrue(c.sdNu()[0][0] > 0);
        assertArrayEquals(new int[] {50, 100, 200, 500, 1000}, Uncertainty.defaultSizes(1999));
        assertArrayEquals(new int[] {}, Uncertainty.defaultSizes(49));
    }
}

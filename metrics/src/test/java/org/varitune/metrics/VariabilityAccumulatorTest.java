package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VariabilityAccumulatorTest extends TestBase {
    /** Streaming vs two-pass in double: the 1e-10; observed ≤ 3.3e-15 on these data (5 seeds, both variants). */
    static final double STREAMING_REL = 1e-10;
    static final double TOL = RatioMath.DEFAULT_RELATIVE_TOLERANCE;

    static double rel(double a, double e) { return Math.abs(a - e) / Math.abs(e); }

    private VariabilityAccumulator accumulate(Data data, int layers, int batch, VariabilityAccumulator.Options o) {
        VariabilityAccumulator acc = new VariabilityAccumulator(layers, data.d, data.counts, null, o);
        data.feed(acc, 0, data.N, batch);
        return acc;
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void streamingMatchesTwoPassReference(Variant v) {
        Data data = Data.clusters(rand, 12, new int[] {7, 11, 20}, 3.0, 1.0);
        VariabilityAccumulator acc = accumulate(data, 3, 13, VariabilityAccumulator.Options.defaults());
        List<VariabilityResult> res = acc.compute(v, TOL);
        for (int l = 0; l < 3; l++) {
            TwoPassOracle ref = new TwoPassOracle(data.layerAll(l), data.labels, data.N, data.d, data.C, v);
            assertTrue(rel(res.get(l).nuOrThrow(), ref.nu) < STREAMING_REL, "layer " + l + " nu " + res.get(l).nuOrThrow() + " vs " + ref.nu);
            assertEquals(2, res.get(l).rank());
            assertEquals(v, res.get(l).variant());
            assertEquals(TOL, res.get(l).relativeTolerance());
            AllClose.assertAllClose("Sw layer " + l, acc.withinScatter(l, v).data, ref.sw.data, STREAMING_REL, 12, 12);
            AllClose.assertAllClose("Sb layer " + l, acc.betweenScatter(l, v).data, ref.sb.data, STREAMING_REL, 12, 12);
            double trSw = 0;
            for (int i = 0; i < 12; i++) trSw += ref.sw.get(i, i);
            assertTrue(rel(res.get(l).traceSw(), trSw) < STREAMING_REL);
        }
    }

    @Test
    void twoClassRatioMatchesClosedForm() {
        // C = 2: Sb = (1/4) d dᵀ, Sb⁺ = 4 d dᵀ/|d|⁴, nu = (1/2) tr(Sw · 4 d dᵀ/|d|⁴) = 2 dᵀ Sw d / |d|⁴
        Data data = Data.clusters(rand, 9, new int[] {15, 40}, -2.0, 0.7);
        VariabilityAccumulator acc = accumulate(data, 1, 8, VariabilityAccumulator.Options.defaults());
        double[] m0 = new double[9], m1 = new double[9];
        for (int n = 0; n < data.N; n++) {
            double[] m = data.labels[n] == 0 ? m0 : m1;
            for (int i = 0; i < 9; i++) m[i] += data.x[n * 9 + i] / (double) data.counts[data.labels[n]];
        }
        double[] diff = new double[9];
        double norm2 = 0;
        for (int i = 0; i < 9; i++) { diff[i] = m0[i] - m1[i]; norm2 += diff[i] * diff[i]; }
        TwoPassOracle ref = new TwoPassOracle(data.x, data.labels, data.N, 9, 2, Variant.PAPER_CLASS_BALANCED);
        double q = 0;
        for (int i = 0; i < 9; i++) for (int j = 0; j < 9; j++) q += diff[i] * ref.sw.get(i, j) * diff[j];
        double closed = 2 * q / (norm2 * norm2);
        double nu = acc.compute().get(0).nuOrThrow();
        assertTrue(rel(nu, closed) < STREAMING_REL, nu + " vs closed form " + closed);
        assertEquals(1, acc.compute().get(0).rank());
    }

    @Test
    void subspaceRouteMatchesDenseEigenRoute() {
        Data data = Data.clusters(rand, 30, new int[] {20, 25, 30, 22, 21}, 1.0, 0.5);
        VariabilityAccumulator acc = accumulate(data, 1, 16, VariabilityAccumulator.Options.defaults());
        for (Variant v : Variant.values()) {
            RatioMath.Parts dense = RatioMath.ratioViaEigen(acc.withinScatter(0, v), acc.betweenScatter(0, v), 5, TOL, acc.meanSquareNorm(0));
            VariabilityResult r = acc.compute(v, TOL).get(0);
            assertEquals(4, dense.rank());
            assertEquals(4, r.rank());
            assertTrue(rel(r.nuOrThrow(), dense.nuOrThrow()) < 1e-10, v + ": " + r.nuOrThrow() + " vs " + dense.nuOrThrow());
            AllClose.assertAllClose("eigenvalues " + v, r.keptEigenvalues(), dense.keptEigenvalues(), 1e-10);
        }
    }

    @Test
    void ratioIsInvariantUnderTranslationScalingAndRotation() {
        int d = 10;
        Data data = Data.clusters(rand, d, new int[] {12, 17, 9}, 0.0, 1.0);
        double base = accumulate(data, 1, 7, VariabilityAccumulator.Options.defaults()).compute().get(0).nuOrThrow();
        DMatrixRMaj q = Orthogonal.random(rand, d);
        double[] t = new double[d];
        for (int i = 0; i < d; i++) t[i] = 50 * rand.nextGaussian();
        float[][] transformed = new float[3][data.N * d];
        for (int n = 0; n < data.N; n++) {
            for (int i = 0; i < d; i++) {
                double r = 0;
                for (int j = 0; j < d; j++) r += q.get(i, j) * data.x[n * d + j];
                transformed[0][n * d + i] = (float) (data.x[n * d + i] + t[i]);
                transformed[1][n * d + i] = data.x[n * d + i] * 4096f;   // exact in float
                transformed[2][n * d + i] = (float) r;
            }
        }
        String[] what = {"translation", "scaling", "rotation"};
        for (int k = 0; k < 3; k++) {
            double nu = accumulate(new Data(transformed[k], data.labels, d, 3), 1, 7,
                    VariabilityAccumulator.Options.defaults()).compute().get(0).nuOrThrow();
            // float rounding of the transformed inputs (≈ 6e-8 · 50 for the translation) bounds the agreement
            assertTrue(rel(nu, base) < (k == 1 ? 1e-12 : 1e-5), what[k] + ": " + nu + " vs " + base);
        }
        // the scale factor must not be a no-op of the test: a non-isotropic stretch changes nu
        float[] stretched = data.x.clone();
        for (int n = 0; n < data.N; n++) stretched[n * d] *= 10;
        double other = accumulate(new Data(stretched, data.labels, d, 3), 1, 7, VariabilityAccumulator.Options.defaults())
                .compute().get(0).nuOrThrow();
        assertTrue(rel(other, base) > 1e-3);
    }

    @Test
    void identicalVectorsWithinEachClassGiveZero() {
        int d = 6;
        int[] labels = {0, 1, 2, 0, 1, 2, 2, 0};
        float[] x = new float[labels.length * d];
        float[][] means = {randn(d), randn(d), randn(d)};
        for (int n = 0; n < labels.length; n++) System.arraycopy(means[labels[n]], 0, x, n * d, d);
        Data data = new Data(x, labels, d, 3);
        for (Variant v : Variant.values()) {
            VariabilityResult r = accumulate(data, 1, 3, VariabilityAccumulator.Options.defaults()).compute(v, TOL).get(0);
            assertTrue(Math.abs(r.nuOrThrow()) < 1e-14, v + ": " + r.nuOrThrow());
            assertTrue(r.traceSb() > 0.1);
        }
    }

    @Test
    void duplicatingOneClassLeavesPaperRatioUnchangedButNotSampleWeighted() {
        int d = 8;
        Data data = Data.clusters(rand, d, new int[] {10, 14, 6}, 1.0, 1.0);
        int extra = data.counts[2];
        float[] x2 = new float[(data.N + extra) * d];
        int[] l2 = new int[data.N + extra];
        System.arraycopy(data.x, 0, x2, 0, data.N * d);
        System.arraycopy(data.labels, 0, l2, 0, data.N);
        int k = data.N;
        for (int n = 0; n < data.N; n++) {
            if (data.labels[n] != 2) continue;
            System.arraycopy(data.x, n * d, x2, k * d, d);
            l2[k++] = 2;
        }
        Data dup = new Data(x2, l2, d, 3);
        VariabilityAccumulator.Options o = VariabilityAccumulator.Options.defaults();
        double paper = accumulate(data, 1, 5, o).compute().get(0).nuOrThrow();
        double paperDup = accumulate(dup, 1, 5, o).compute().get(0).nuOrThrow();
        assertTrue(rel(paperDup, paper) < 1e-12, paperDup + " vs " + paper);
        double sw = accumulate(data, 1, 5, o).compute(Variant.PAPYAN_SAMPLE_WEIGHTED, TOL).get(0).nuOrThrow();
        double swDup = accumulate(dup, 1, 5, o).compute(Variant.PAPYAN_SAMPLE_WEIGHTED, TOL).get(0).nuOrThrow();
        assertTrue(rel(swDup, sw) > 1e-3, "sample-weighted variant should see the imbalance: " + swDup + " vs " + sw);
    }

    @Test
    void classWithOneExampleIsAllowedAndMatchesReference() {
        Data data = Data.clusters(rand, 5, new int[] {1, 9, 4}, 0.5, 1.0);
        VariabilityAccumulator acc = accumulate(data, 1, 4, VariabilityAccumulator.Options.defaults());
        TwoPassOracle ref = new TwoPassOracle(data.x, data.labels, data.N, 5, 3, Variant.PAPER_CLASS_BALANCED);
        assertTrue(rel(acc.compute().get(0).nuOrThrow(), ref.nu) < STREAMING_REL);
    }

    @Test
    void rejectsSingleClassAndEmptyClass() {
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> new VariabilityAccumulator(2, 4, new int[] {10}, null));
        assertTrue(one.getMessage().contains("at least 2 classes"), one.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new VariabilityAccumulator(2, 4, new int[] {3, 0, 2}, null));
        assertTrue(empty.getMessage().contains("class 1"), empty.getMessage());
    }

    @Test
    void rejectsUnseenLabelAndNonFiniteStateWithoutChangingState() {
        VariabilityAccumulator acc = new VariabilityAccumulator(2, 3, new int[] {2, 2}, null);
        float[] ok = randn(6);
        acc.addAll(new float[][] {ok, ok}, new int[] {0, 1}, 2);
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> acc.addAll(new float[][] {ok, ok}, new int[] {0, 2}, 2));
        assertTrue(bad.getMessage().contains("label 2") && bad.getMessage().contains("example 3"), bad.getMessage());
        float[] nan = ok.clone();
        nan[4] = Float.NaN;
        IllegalArgumentException nanErr = assertThrows(IllegalArgumentException.class,
                () -> acc.addAll(new float[][] {ok, nan}, new int[] {0, 1}, 2));
        assertTrue(nanErr.getMessage().contains("layer 1") && nanErr.getMessage().contains("example 3"), nanErr.getMessage());
        assertEquals(2, acc.examplesSeen());
        assertEquals(2, acc.examplesSeen(1));
        IllegalArgumentException over = assertThrows(IllegalArgumentException.class,
                () -> acc.addAll(new float[][] {ok, ok}, new int[] {0, 0}, 2));
        assertTrue(over.getMessage().contains("class 0"), over.getMessage());
    }

    @Test
    void computeRejectsMissingExamplesNamingTheClass() {
        VariabilityAccumulator acc = new VariabilityAccumulator(1, 3, new int[] {2, 3}, null);
        acc.add(0, randn(9), new int[] {0, 0, 1}, 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, acc::compute);
        assertTrue(e.getMessage().contains("class 1") && e.getMessage().contains("1 examples added but 3 declared"), e.getMessage());
    }

    @Test
    void sampleWeightedVariantNeedsPlainMoment() {
        VariabilityAccumulator acc = new VariabilityAccumulator(1, 2, new int[] {1, 1}, null,
                new VariabilityAccumulator.Options(false, 0, 1, 0));
        acc.add(0, new float[] {0, 0, 1, 1}, new int[] {0, 1}, 2);
        assertThrows(IllegalStateException.class, () -> acc.compute(Variant.PAPYAN_SAMPLE_WEIGHTED, TOL));
        assertTrue(acc.compute().get(0).nuOrThrow() == 0.0 || Math.abs(acc.compute().get(0).nuOrThrow()) < 1e-15);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void coincidentClassMeansGiveAnUndefinedRatioWithItsReasonWhileOtherLayersAreDefined(Variant v) {
        // layer 0: every input has the same vector (CLS pooling at the embeddings); layer 1: two separated classes
        VariabilityAccumulator acc = new VariabilityAccumulator(2, 2, new int[] {2, 3}, null);
        float[] same = {1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f, 1.5f, -2f};
        float[] apart = {1, 0, 1, 1, -1, 0, -1, 1, -1, 2};
        acc.addAll(new float[][] {same, apart}, new int[] {0, 0, 1, 1, 1}, 5);
        List<VariabilityResult> res = acc.compute(v, TOL);
        assertTrue(res.get(0).nu().isEmpty());
        assertEquals("Sb = 0: every class has exactly the same mean at this layer", res.get(0).undefinedReason());
        assertEquals(0, res.get(0).rank());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> res.get(0).nuOrThrow());
        assertTrue(e.getMessage().contains("layer 0") && e.getMessage().contains("same mean"), e.getMessage());
        assertTrue(res.get(1).defined());
        assertEquals(null, res.get(1).undefinedReason());
    }

    @Test
    void aResultIsEitherDefinedOrCarriesAReason() {
        assertThrows(IllegalArgumentException.class, () -> new VariabilityResult(0, java.util.OptionalDouble.empty(), null,
                Variant.PAPER_CLASS_BALANCED, TOL, 0, 0, 0, new double[0], 0));
        assertThrows(IllegalArgumentException.class, () -> new VariabilityResult(0, java.util.OptionalDouble.of(1), "why",
                Variant.PAPER_CLASS_BALANCED, TOL, 1, 1, 1, new double[] {1}, 0));
    }
}

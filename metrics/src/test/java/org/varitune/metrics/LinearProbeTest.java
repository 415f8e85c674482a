package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearProbeTest extends TestBase {

    /** counts[y] points of class y in d dims; class y is shifted by {@code separation} along axis y (0: pure noise). */
    private LayerSamples samples(int d, int[] counts, double separation) {
        int C = counts.length;
        float[][] v = new float[C][];
        long[][] idx = new long[C][];
        for (int y = 0; y < C; y++) {
            v[y] = new float[counts[y] * d];
            idx[y] = new long[counts[y]];
            for (int k = 0; k < counts[y]; k++) {
                for (int i = 0; i < d; i++) v[y][k * d + i] = (float) (rand.nextGaussian() + (i == y ? separation : 0));
                idx[y][k] = k;
            }
        }
        return new LayerSamples(0, d, v, idx);
    }

    @Test
    void separableClassesAreProbedPerfectlyWithAWeakPenalty() {
        LinearProbe.Result sep = LinearProbe.fit(samples(8, new int[] {60, 60, 60}, 8.0), LinearProbe.Options.defaults());
        assertEquals(1.0, sep.testAccuracy());
        assertEquals(1.0 / 3, sep.majorityRate(), 1e-12);
        assertEquals(36, sep.nTest());
        assertEquals(144, sep.nTrain());
        assertTrue(sep.converged(), "the refit reaches the gradient tolerance");
        assertEquals(1 / (sep.inverseL2() * 144), sep.l2(), 1e-15);
        assertTrue(sep.inverseL2() >= 1, "separable data want little penalty, got C = " + sep.inverseL2());
    }

    @Test
    void pureNoiseIsProbedAtTheMajorityRateWithTheStrongestPenalty() {
        // the case: binary, 53% majority, noise features; five draws
        for (int draw = 0; draw < 5; draw++) {
            LinearProbe.Result noise = LinearProbe.fit(samples(32, new int[] {212, 188}, 0), LinearProbe.Options.defaults());
            assertEquals(42.0 / 80, noise.majorityRate(), 1e-12, "held out: 42 of class 0, 38 of class 1");
            assertTrue(noise.testAccuracy() >= noise.majorityRate() - 0.03,
                    "draw " + draw + ": accuracy " + noise.testAccuracy() + " vs majority " + noise.majorityRate());
            assertTrue(noise.inverseL2() <= 1e-2, "draw " + draw + ": noise wants a strong penalty, got C = " + noise.inverseL2());
        }
    }

    @Test
    void crossValidationPenalisesNoiseMoreThanSignal() {
        LinearProbe.Result signal = LinearProbe.fit(samples(16, new int[] {100, 100}, 1.0), LinearProbe.Options.defaults());
        LinearProbe.Result noise = LinearProbe.fit(samples(16, new int[] {100, 100}, 0), LinearProbe.Options.defaults());
        assertTrue(noise.l2() > 10 * signal.l2(), "noise λ " + noise.l2() + " vs signal λ " + signal.l2());
        assertTrue(signal.testAccuracy() > 0.7, "signal accuracy " + signal.testAccuracy());
    }

    @Test
    void fittedModelHasZeroGradientByAnIndependentDoubleComputation() {
        // 3 classes, correlated features (a shared factor), weak penalty: an ill-conditioned problem
        int n = 150, k = 10, C = 3;
        double[] x = new double[n * k];
        int[] y = new int[n];
        for (int r = 0; r < n; r++) {
            y[r] = r % C;
            double common = rand.nextGaussian() * 3;
            for (int i = 0; i < k; i++) x[r * k + i] = common + 0.3 * rand.nextGaussian() + (i == y[r] ? 0.8 : 0);
        }
        double lambda = 1e-3;
        Logistic lr = new Logistic(x, y, n, k, C);
        double[] precond = new double[lr.size()];
        java.util.Arrays.fill(precond, 1);
        Logistic.Fit fit = lr.minimise(lambda, new double[lr.size()], precond, 1e-8, 5000);
        assertTrue(fit.converged(), "iterations " + fit.iterations() + ", max |g| " + fit.gradientMax());
        // naive loops: f = mean CE + λ/2 |W|², gradient by the textbook formula
        double[] th = fit.theta(), g = new double[th.length];
        double f = 0;
        for (int r = 0; r < n; r++) {
            double[] z = new double[C];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int c = 0; c < C; c++) {
                z[c] = th[C * k + c];
                for (int i = 0; i < k; i++) z[c] += th[c * k + i] * x[r * k + i];
                max = Math.max(max, z[c]);
            }
            for (int c = 0; c < C; c++) sum += Math.exp(z[c] - max);
            f += (max + Math.log(sum) - z[y[r]]) / n;
            for (int c = 0; c < C; c++) {
                double e = Math.exp(z[c] - max) / sum - (c == y[r] ? 1 : 0);
                for (int i = 0; i < k; i++) g[c * k + i] += e * x[r * k + i] / n;
                g[C * k + c] += e / n;
            }
        }
        for (int j = 0; j < C * k; j++) {
            f += 0.5 * lambda * th[j] * th[j];
            g[j] += lambda * th[j];
        }
        assertEquals(f, fit.loss(), 1e-12 * Math.abs(f));
        for (int j = 0; j < g.length; j++) assertTrue(Math.abs(g[j]) < 1e-7, "gradient " + j + " = " + g[j]);
        // and it is a minimum: random perturbations of size 1e-3 never lower f
        for (int t = 0; t < 20; t++) {
            double[] p = th.clone();
            for (int j = 0; j < p.length; j++) p[j] += 1e-3 * rand.nextGaussian();
            assertTrue(lr.lossAndGradient(p, lambda, new double[p.length]) >= fit.loss(), "perturbation " + t);
        }
    }

    @Test
    void identicalInputsAreProbedAtTheMajorityRate() {
        // CLS pooling at the embeddings: every input is the same 384-dim vector, so no feature has any variance
        int d = 384;
        float[] same = uniform(d, -1, 1);
        int[] counts = {30, 20};
        float[][] v = new float[2][];
        long[][] idx = new long[2][];
        for (int y = 0; y < 2; y++) {
            v[y] = new float[counts[y] * d];
            idx[y] = new long[counts[y]];
            for (int k = 0; k < counts[y]; k++) System.arraycopy(same, 0, v[y], k * d, d);
        }
        LinearProbe.Result r = LinearProbe.fit(new LayerSamples(0, d, v, idx), LinearProbe.Options.defaults());
        assertEquals(0.6, r.majorityRate(), 1e-12);
        assertEquals(0.6, r.testAccuracy(), 1e-12);
    }

    @Test
    void rankCorrelationIsSpearman() {
        assertEquals(-1.0, LinearProbe.rankCorrelation(new double[] {3, 1, 2}, new double[] {0.1, 0.9, 0.5}), 1e-12);
        assertEquals(1.0, LinearProbe.rankCorrelation(new double[] {1, 2, 30}, new double[] {0.1, 0.2, 0.25}), 1e-12);
    }
}

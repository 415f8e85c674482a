package org.varitune.metrics;

import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Linear probe per layer: multinomial logistic regression on the pooled reservoir vectors, reported beside nu.
 *
 * <p>Split: per class, a seeded permutation (the same for every layer, so every layer is probed on the same examples);
 * the first {@code round(trainFraction · n_y)} (clamped to [1, n_y − 1] when n_y ≥ 2) train, the rest test.
 * Features are standardised with the training mean and standard deviation (a constant feature keeps scale 1).
 * Model: logits {@code z = W x + b}, loss {@code mean CE + (l2/2)|W|²} (b unregularised), minimised in double by
 * Nesterov-accelerated gradient descent for a fixed number of iterations with step {@code 1/Lip},
 * {@code Lip = ½ λ_max(X̃ᵀX̃/n) + l2} (X̃ = features with a bias column; the softmax Hessian is ≤ ½ I), λ_max by
 * power iteration. Deterministic for a given seed.
 */
public final class LinearProbe {
    private LinearProbe() {}

    /**
     * @param trainFraction share of each class used for training, in (0, 1)
     * @param l2            L2 penalty on W
     * @param iterations    gradient steps
     * @param seed          split seed
     */
    public record Options(double trainFraction, double l2, int iterations, long seed) {
        public static Options defaults() { return new Options(0.8, 1e-3, 300, 7L); }

        public Options {
            if (!(trainFraction > 0 && trainFraction < 1)) throw new IllegalArgumentException("trainFraction must be in (0, 1), got " + trainFraction);
            if (!(l2 >= 0)) throw new IllegalArgumentException("l2 must be >= 0, got " + l2);
            if (iterations < 1) throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
    }

    public record Result(int layer, double trainAccuracy, double testAccuracy, int nTrain, int nTest) {}

    /** Probes one layer. Inputs not modified. */
    public static Result fit(LayerSamples s, Options o) {
        int C = s.numClasses(), d = s.dim();
        int nTrain = 0, nTest = 0;
        int[][] perm = new int[C][];
        int[] cut = new int[C];
        Random rng = new Random(o.seed());
        for (int y = 0; y < C; y++) {
            int n = s.count(y);
            perm[y] = IntStream.range(0, n).toArray();
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = perm[y][i]; perm[y][i] = perm[y][j]; perm[y][j] = t;
            }
            cut[y] = n < 2 ? n : Math.max(1, Math.min(n - 1, (int) Math.round(o.trainFraction() * n)));
            nTrain += cut[y];
            nTest += n - cut[y];
        }
        int D = d + 1;
        double[] xTr = new double[nTrain * D], xTe = new double[nTest * D];   // (n, d + 1), last column = 1
        int[] yTr = new int[nTrain], yTe = new int[nTest];
        int a = 0, b = 0;
        for (int y = 0; y < C; y++) {
            for (int k = 0; k < perm[y].length; k++) {
                int src = perm[y][k] * d;
                boolean train = k < cut[y];
                double[] dst = train ? xTr : xTe;
                int row = train ? a++ : b++;
                for (int i = 0; i < d; i++) dst[row * D + i] = s.vectors()[y][src + i];
                dst[row * D + d] = 1;
                if (train) yTr[row] = y; else yTe[row] = y;
            }
        }
        standardise(xTr, nTrain, xTe, nTest, d);
        double[] w = train(xTr, yTr, nTrain, D, C, o);
        return new Result(s.layer(), accuracy(w, xTr, yTr, nTrain, D, C), nTest == 0 ? Double.NaN : accuracy(w, xTe, yTe, nTest, D, C),
                nTrain, nTest);
    }

    /** {@link #fit} for every layer, layers in parallel. */
    public static List<Result> probeLayers(List<LayerSamples> layers, Options o) {
        Result[] out = new Result[layers.size()];
        IntStream.range(0, out.length).parallel().forEach(l -> out[l] = fit(layers.get(l), o));
        return List.of(out);
    }

    /** Spearman rank correlation of nu and probe accuracy across layers (commons-math3); expected negative. */
    public static double rankCorrelation(double[] nu, double[] accuracy) {
        if (nu.length != accuracy.length || nu.length < 2) {
            throw new IllegalArgumentException("need two equal-length series of at least 2 layers, got " + nu.length + " and " + accuracy.length);
        }
        return new SpearmansCorrelation().correlation(nu, accuracy);
    }

    private static void standardise(double[] xTr, int nTr, double[] xTe, int nTe, int d) {
        int D = d + 1;
        for (int i = 0; i < d; i++) {
            double m = 0, q = 0;
            for (int r = 0; r < nTr; r++) m += xTr[r * D + i] / nTr;
            for (int r = 0; r < nTr; r++) q += (xTr[r * D + i] - m) * (xTr[r * D + i] - m);
            double sd = Math.sqrt(q / nTr);
            double scale = sd > 0 ? 1 / sd : 1;
            for (int r = 0; r < nTr; r++) xTr[r * D + i] = (xTr[r * D + i] - m) * scale;
            for (int r = 0; r < nTe; r++) xTe[r * D + i] = (xTe[r * D + i] - m) * scale;
        }
    }

    /** Returns W: (C, D) with the bias in the last column. */
    private static double[] train(double[] x, int[] y, int n, int D, int C, Options o) {
        double lip = 0.5 * maxEigenGram(x, n, D) + o.l2();
        double step = 1 / lip;
        double[] w = new double[C * D], prev = new double[C * D], look = new double[C * D], g = new double[C * D];
        double t = 1;
        for (int it = 0; it < o.iterations(); it++) {
            double tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
            double mom = (t - 1) / tNext;
            for (int k = 0; k < w.length; k++) look[k] = w[k] + mom * (w[k] - prev[k]);
            gradient(look, x, y, n, D, C, o.l2(), g);
            System.arraycopy(w, 0, prev, 0, w.length);
            for (int k = 0; k < w.length; k++) w[k] = look[k] - step * g[k];
            t = tNext;
        }
        return w;
    }

    private static void gradient(double[] w, double[] x, int[] y, int n, int D, int C, double l2, double[] g) {
        java.util.Arrays.fill(g, 0);
        double[] z = new double[C];
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int i = 0; i < D; i++) s += w[c * D + i] * x[r * D + i];
                z[c] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int c = 0; c < C; c++) { z[c] = Math.exp(z[c] - max); sum += z[c]; }
            for (int c = 0; c < C; c++) {
                double coef = (z[c] / sum - (c == y[r] ? 1 : 0)) / n;
                for (int i = 0; i < D; i++) g[c * D + i] += coef * x[r * D + i];
            }
        }
        for (int c = 0; c < C; c++) for (int i = 0; i < D - 1; i++) g[c * D + i] += l2 * w[c * D + i];
    }

    private static double maxEigenGram(double[] x, int n, int D) {
        double[] v = new double[D], u = new double[D];
        java.util.Arrays.fill(v, 1 / Math.sqrt(D));
        double lambda = 0;
        for (int it = 0; it < 50; it++) {
            java.util.Arrays.fill(u, 0);
            for (int r = 0; r < n; r++) {
                double p = 0;
                for (int i = 0; i < D; i++) p += x[r * D + i] * v[i];
                for (int i = 0; i < D; i++) u[i] += p * x[r * D + i] / n;
            }
            double norm = 0;
            for (double e : u) norm += e * e;
            norm = Math.sqrt(norm);
            if (norm == 0) return 1;
            lambda = norm;
            for (int i = 0; i < D; i++) v[i] = u[i] / norm;
        }
        return lambda * 1.05;   // power iteration approaches λ_max from below; 5% margin keeps the step stable
    }

    private static double accuracy(double[] w, double[] x, int[] y, int n, int D, int C) {
        if (n == 0) return Double.NaN;
        int correct = 0;
        for (int r = 0; r < n; r++) {
            int best = 0;
            double bestZ = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int i = 0; i < D; i++) s += w[c * D + i] * x[r * D + i];
                if (s > bestZ) { bestZ = s; best = c; }
            }
            if (best == y[r]) correct++;
        }
        return correct / (double) n;
    }
}

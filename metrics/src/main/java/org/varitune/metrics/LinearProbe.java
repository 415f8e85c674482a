package org.varitune.metrics;

import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Linear probe per layer, as the probing literature runs it: L2-regularised multinomial logistic regression on the
 * pooled reservoir vectors, the penalty chosen by cross-validation on the training split, accuracy on a held-out
 * split reported beside that split's majority-class rate.
 *
 * <h2>Procedure</h2>
 * <ol>
 * <li>Split: per class, a seeded permutation (the same for every layer, so every layer is probed on the same
 * examples); the first {@code round(trainFraction · n_y)} (clamped to [1, n_y − 1] when n_y ≥ 2) train, the rest
 * are held out.</li>
 * <li>Features are standardised with the training split's mean and standard deviation (a constant feature becomes
 * 0), then rotated onto the eigenvectors of the training Gram matrix {@code X̃ᵀX̃}. The penalty |W|² is
 * rotation-invariant, so this changes nothing but the conditioning the optimiser sees (its preconditioner is the
 * per-direction variance); directions with eigenvalue ≤ 1e-10 · λ_max carry no training variance and are dropped
 * (the optimal W has no component there).</li>
 * <li>Penalty: scikit-learn's convention, {@code ½|W|² + C Σ_r CE_r} (bias unpenalised), i.e. the mean loss of
 * {@link Logistic} with {@code λ = 1/(C n)}. C runs over {@link Options#inverseL2Grid} (default 1e-4 … 1e2, one per
 * decade). K-fold cross-validation on the training split only (stratified: fold = position within the class mod K)
 * scores each C by held-out cross-entropy (a proper scoring rule, smoother than accuracy); the smallest mean wins,
 * ties going to the stronger penalty. The folds walk the grid from the strongest penalty down, each warm-starting
 * from its previous solution, and the walk stops once the CV loss has risen at two consecutive grid values after its
 * minimum (CV curves of L2 logistic regression are unimodal in practice; the weak-penalty end is the slowest to fit
 * and, on a layer without signal, the least useful); C values not reached have cvLoss +∞.</li>
 * <li>Refit on the whole training split with the chosen C, minimised to {@code max |∇f| ≤ gradientTolerance} (or the
 * iteration cap, reported), and score the held-out split.</li>
 * </ol>
 * Deterministic for a given seed; layers run in parallel in {@link #probeLayers}.
 */
public final class LinearProbe {
    private LinearProbe() {}

    /** C = 1e-4, 1e-3, …, 1e2 (scikit-learn's inverse penalty, one per decade). */
    public static final double[] DEFAULT_INVERSE_L2_GRID = {1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100};

    /**
     * @param trainFraction     share of each class used for training, in (0, 1)
     * @param folds             cross-validation folds K ≥ 2 (fewer when the training split has fewer examples)
     * @param inverseL2Grid     candidate C values, ascending, &gt; 0
     * @param gradientTolerance stop when max |∇f| ≤ this (f = mean cross-entropy + λ/2 |W|²)
     * @param maxIterations     L-BFGS iteration cap per fit
     * @param seed              split seed
     */
    public record Options(double trainFraction, int folds, double[] inverseL2Grid, double gradientTolerance,
                          int maxIterations, long seed) {
        public static Options defaults() { return new Options(0.8, 5, DEFAULT_INVERSE_L2_GRID, 1e-5, 1000, 7L); }

        public Options {
            if (!(trainFraction > 0 && trainFraction < 1)) throw new IllegalArgumentException("trainFraction must be in (0, 1), got " + trainFraction);
            if (folds < 2) throw new IllegalArgumentException("folds must be >= 2, got " + folds);
            if (inverseL2Grid.length == 0) throw new IllegalArgumentException("inverseL2Grid is empty");
            for (int g = 0; g < inverseL2Grid.length; g++) {
                if (!(inverseL2Grid[g] > 0) || (g > 0 && !(inverseL2Grid[g] > inverseL2Grid[g - 1]))) {
                    throw new IllegalArgumentException("inverseL2Grid must be positive and ascending, got " + Arrays.toString(inverseL2Grid));
                }
            }
            if (!(gradientTolerance > 0)) throw new IllegalArgumentException("gradientTolerance must be > 0, got " + gradientTolerance);
            if (maxIterations < 1) throw new IllegalArgumentException("maxIterations must be >= 1, got " + maxIterations);
            inverseL2Grid = inverseL2Grid.clone();
        }
    }

    /**
     * @param testAccuracy  accuracy on the held-out split
     * @param majorityRate  share of the held-out split's most frequent class (what predicting it always scores)
     * @param inverseL2     chosen C
     * @param l2            λ = 1/(C · nTrain) of the refit, in the mean-loss form of {@link Logistic}
     * @param cvLoss        (grid) mean held-out cross-entropy of each C over the K folds (+∞ where the walk along
     *                      the grid stopped before that C)
     * @param iterations    L-BFGS iterations of the refit
     * @param converged     whether the refit reached the gradient tolerance
     */
    public record Result(int layer, double trainAccuracy, double testAccuracy, double majorityRate, double inverseL2,
                         double l2, double[] cvLoss, int iterations, boolean converged, int nTrain, int nTest) {}

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
        if (nTest == 0 || nTrain < 2) {
            throw new IllegalArgumentException("layer " + s.layer() + ": the probe needs a class with at least 2 examples "
                    + "and 2 training examples in all (got " + nTrain + " train, " + nTest + " held out)");
        }
        double[] xTr = new double[nTrain * d], xTe = new double[nTest * d];   // (n, d)
        int[] yTr = new int[nTrain], yTe = new int[nTest], fold = new int[nTrain], testCount = new int[C];
        int K = Math.min(o.folds(), nTrain);
        int a = 0, b = 0;
        for (int y = 0; y < C; y++) {
            for (int k = 0; k < perm[y].length; k++) {
                int src = perm[y][k] * d;
                boolean train = k < cut[y];
                double[] dst = train ? xTr : xTe;
                int row = train ? a++ : b++;
                for (int i = 0; i < d; i++) dst[row * d + i] = s.vectors()[y][src + i];
                if (train) {
                    yTr[row] = y;
                    fold[row] = k % K;
                } else {
                    yTe[row] = y;
                    testCount[y]++;
                }
            }
        }
        standardise(xTr, nTrain, xTe, nTest, d);
        Rotation rot = Rotation.of(xTr, nTrain, d);
        double[] zTr = rot.apply(xTr, nTrain), zTe = rot.apply(xTe, nTest);
        int k = rot.k;
        double[] grid = o.inverseL2Grid();
        double[] cvLoss = new double[grid.length];
        Arrays.fill(cvLoss, Double.POSITIVE_INFINITY);
        Logistic[] lrIn = new Logistic[K];
        double[][] xOut = new double[K][], theta = new double[K][];
        int[][] yOut = new int[K][];
        for (int f = 0; f < K; f++) {
            int nIn = 0;
            for (int r = 0; r < nTrain; r++) if (fold[r] != f) nIn++;
            int nOut = nTrain - nIn;
            double[] xIn = new double[nIn * k];
            int[] yIn = new int[nIn];
            xOut[f] = new double[nOut * k];
            yOut[f] = new int[nOut];
            for (int r = 0, i = 0, j = 0; r < nTrain; r++) {
                if (fold[r] != f) { System.arraycopy(zTr, r * k, xIn, i * k, k); yIn[i++] = yTr[r]; }
                else { System.arraycopy(zTr, r * k, xOut[f], j * k, k); yOut[f][j++] = yTr[r]; }
            }
            lrIn[f] = new Logistic(xIn, yIn, nIn, k, C);
            theta[f] = new double[lrIn[f].size()];
        }
        int best = 0, rises = 0;
        for (int g = 0; g < grid.length && rises < 2; g++) {      // along the path: stronger to weaker penalty
            double loss = 0;
            for (int f = 0; f < K; f++) {
                double lambda = 1 / (grid[g] * lrIn[f].n);
                theta[f] = lrIn[f].minimise(lambda, theta[f], rot.precond(C, lambda), o.gradientTolerance(),
                        o.maxIterations()).theta();
                loss += Logistic.crossEntropySum(theta[f], xOut[f], yOut[f], yOut[f].length, k, C) / nTrain;
            }
            cvLoss[g] = loss;
            if (loss < cvLoss[best]) best = g;                    // ties: the stronger penalty (earlier) stays
            rises = g > best && loss > cvLoss[g - 1] ? rises + 1 : 0;
        }
        double lambda = 1 / (grid[best] * nTrain);
        Logistic lr = new Logistic(zTr, yTr, nTrain, k, C);
        Logistic.Fit fit = lr.minimise(lambda, new double[lr.size()], rot.precond(C, lambda), o.gradientTolerance(),
                o.maxIterations());
        int majority = Arrays.stream(testCount).max().orElseThrow();
        return new Result(s.layer(), accuracy(fit.theta(), zTr, yTr, nTrain, k, C), accuracy(fit.theta(), zTe, yTe, nTest, k, C),
                majority / (double) nTest, grid[best], lambda, cvLoss, fit.iterations(), fit.converged(), nTrain, nTest);
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

    /**
     * Centres and scales each column of xTr (nTr, d) by the training mean and sd; applies the same to xTe. Both
     * modified. A column whose training sd is ≤ 1e-9 |mean| (far below the float32 resolution of the inputs, i.e.
     * the same float value in every training row up to double rounding) is constant: it becomes 0 in both splits
     * instead of rounding noise blown up to unit variance.
     */
    private static void standardise(double[] xTr, int nTr, double[] xTe, int nTe, int d) {
        for (int i = 0; i < d; i++) {
            double m = 0, q = 0;
            for (int r = 0; r < nTr; r++) m += xTr[r * d + i];
            m /= nTr;
            for (int r = 0; r < nTr; r++) q += (xTr[r * d + i] - m) * (xTr[r * d + i] - m);
            double sd = Math.sqrt(q / nTr);
            double scale = sd > 1e-9 * Math.abs(m) ? 1 / sd : 0;
            for (int r = 0; r < nTr; r++) xTr[r * d + i] = (xTr[r * d + i] - m) * scale;
            for (int r = 0; r < nTe; r++) xTe[r * d + i] = (xTe[r * d + i] - m) * scale;
        }
    }

    /** The orthonormal eigenvectors V (d, k) of the training Gram matrix with eigenvalue &gt; 1e-10 λ_max, descending. */
    private static final class Rotation {
        final int d, k;
        final double[] v;          // (d, k)
        final double[] variance;   // (k) eigenvalue / n: the training variance along each direction

        private Rotation(int d, int k, double[] v, double[] variance) {
            this.d = d;
            this.k = k;
            this.v = v;
            this.variance = variance;
        }

        static Rotation of(double[] x, int n, int d) {
            DMatrixRMaj gram = new DMatrixRMaj(d, d);   // (d, d) = xᵀx, upper triangle then mirrored
            double[] g = gram.data;
            for (int r = 0; r < n; r++) {
                int xo = r * d;
                for (int i = 0; i < d; i++) {
                    double xi = x[xo + i];
                    if (xi == 0) continue;
                    int go = i * d;
                    for (int j = i; j < d; j++) g[go + j] += xi * x[xo + j];
                }
            }
            for (int i = 0; i < d; i++) for (int j = 0; j < i; j++) g[i * d + j] = g[j * d + i];
            double trace = 0;
            for (int i = 0; i < d; i++) trace += g[i * d + i];
            if (trace == 0) return new Rotation(d, 0, new double[0], new double[0]);   // every feature constant
            EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
            if (!eig.decompose(gram)) throw new IllegalStateException("eigendecomposition of the (" + d + " x " + d + ") probe Gram matrix failed");
            Integer[] order = IntStream.range(0, d).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble(i -> -eig.getEigenvalue(i).real));
            double max = Math.max(0, eig.getEigenvalue(order[0]).real);
            int k = 0;
            while (k < d && eig.getEigenvalue(order[k]).real > 1e-10 * max) k++;
            double[] v = new double[d * k], var = new double[k];
            for (int j = 0; j < k; j++) {
                DMatrixRMaj e = eig.getEigenVector(order[j]);
                double norm = 0;
                for (int i = 0; i < d; i++) norm += e.data[i] * e.data[i];
                norm = Math.sqrt(norm);
                for (int i = 0; i < d; i++) v[i * k + j] = e.data[i] / norm;
                var[j] = eig.getEigenvalue(order[j]).real / n;
            }
            return new Rotation(d, k, v, var);
        }

        /** x (m, d) V → (m, k). */
        double[] apply(double[] x, int m) {
            double[] out = new double[m * k];
            for (int r = 0; r < m; r++) {
                for (int i = 0; i < d; i++) {
                    double xi = x[r * d + i];
                    if (xi == 0) continue;
                    int vo = i * k, oo = r * k;
                    for (int j = 0; j < k; j++) out[oo + j] += xi * v[vo + j];
                }
            }
            return out;
        }

        /** Diagonal inverse-curvature guess: 1/(½ var_j + λ) for W, 2 for b (softmax Hessian ≤ ½ per logit). */
        double[] precond(int C, double lambda) {
            double[] p = new double[C * k + C];
            for (int c = 0; c < C; c++) for (int j = 0; j < k; j++) p[c * k + j] = 1 / (0.5 * variance[j] + lambda);
            for (int c = 0; c < C; c++) p[C * k + c] = 2;
            return p;
        }
    }

    private static double accuracy(double[] theta, double[] x, int[] y, int n, int k, int C) {
        int[] pred = Logistic.predict(theta, x, n, k, C);
        int correct = 0;
        for (int r = 0; r < n; r++) if (pred[r] == y[r]) correct++;
        return correct / (double) n;
    }
}

package org.varitune.metrics;

import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * How far to trust the per-layer ratios and their ranking, from the reservoir samples
 * ({@link VariabilityAccumulator#samples}).
 *
 * <p>The point estimate of nu always comes from the exact streaming statistics. Resampling needs the vectors, so these
 * estimates use the bounded reservoir ({@code min(n_y, reservoirPerClass)} uniformly sampled examples per class, the
 * same examples at every layer). When a class has more examples than the reservoir holds, the interval describes the
 * ratio of a sample of the reservoir's size, which is wider (and, since the ratio is biased upward at small n, shifted
 * up) compared with the full-data ratio: read it as conservative. Replicates resample the same example indices at
 * every layer (paired), so the frequency with which each layer is the argmin measures the stability of the ranking.
 */
public final class Uncertainty {
    private Uncertainty() {}

    /**
     * Percentile bootstrap, resampling within classes.
     *
     * @param level           coverage, e.g. 0.95
     * @param lo              (layers) lower bound of nu
     * @param hi              (layers) upper bound of nu
     * @param sampleNu        (layers) nu of the reservoir sample itself
     * @param argminFrequency (layers) fraction of replicates in which the layer had the smallest nu among layers ≥
     *                        minLayer (0 below minLayer)
     */
    public record Bootstrap(Variant variant, double relativeTolerance, double level, int replicates, long seed, int minLayer,
                            double[] lo, double[] hi, double[] sampleNu, double[] argminFrequency) {}

    /**
     * @param perClass        examples per class at each point
     * @param meanNu          (points, layers) mean of nu over the repeats
     * @param sdNu            (points, layers) standard deviation over the repeats (0 with one repeat)
     * @param argminLayer     (points) layer ≥ minLayer with the smallest mean nu
     * @param spearmanWithAll (points) rank correlation of the layers' mean nu with nu of the whole reservoir
     */
    public record SampleSizeCurve(Variant variant, double relativeTolerance, int repeats, long seed, int minLayer,
                                  int[] perClass, double[][] meanNu, double[][] sdNu, int[] argminLayer,
                                  double[] spearmanWithAll) {}

    /**
     * Basic (reverse-percentile) bootstrap intervals of nu per layer: {@code [2·nû − q(1−α/2), 2·nû − q(α/2)]}.
     * The plug-in nu is biased low when classes are small (noise in the class means inflates Sb), and resampling
     * with replacement repeats that bias; the basic interval corrects it to first order, so for small classes it can
     * lie above the point estimate. Each replicate draws, for every class, as many examples as the class has
     * in the sample, uniformly with replacement, and evaluates every layer on the same draw. Inputs not modified.
     */
    public static Bootstrap bootstrap(List<LayerSamples> layers, Variant v, double relTol, int replicates, double level,
                                      long seed, int minLayer) {
        check(layers, minLayer);
        if (replicates < 2) throw new IllegalArgumentException("need at least 2 bootstrap replicates, got " + replicates);
        if (!(level > 0 && level < 1)) throw new IllegalArgumentException("level must be in (0, 1), got " + level);
        int L = layers.size();
        LayerSamples s0 = layers.get(0);
        int C = s0.numClasses();
        double[][] nu = new double[replicates][L];
        for (int r = 0; r < replicates; r++) {
            Random rng = new Random(Reservoir.priority(seed, r));
            int[][] w = new int[C][];
            for (int y = 0; y < C; y++) {
                int n = s0.count(y);
                w[y] = new int[n];
                for (int k = 0; k < n; k++) w[y][rng.nextInt(n)]++;
            }
            double[] row = nu[r];
            IntStream.range(0, L).parallel().forEach(l -> row[l] = SampleRatio.compute(layers.get(l).vectors(), w,
                    layers.get(l).dim(), v, relTol).nu());
        }
        double[] lo = new double[L], hi = new double[L], point = new double[L], freq = new double[L];
        for (int l = 0; l < L; l++) {
            double[] col = new double[replicates];
            for (int r = 0; r < replicates; r++) col[r] = nu[r][l];
            Arrays.sort(col);
            LayerSamples s = layers.get(l);
            point[l] = SampleRatio.compute(s.vectors(), null, s.dim(), v, relTol).nu();
            // Basic (reverse-percentile) interval: the replicates are biased low (noisy class means inflate Sb), so
            // the percentile interval sits below the estimate; 2·nû − q(1−α/2) .. 2·nû − q(α/2) corrects that
            // first-order bias. nu ≥ 0, so clamp at 0.
            lo[l] = Math.max(0.0, 2 * point[l] - quantile(col, 1 - (1 - level) / 2));
            hi[l] = Math.max(0.0, 2 * point[l] - quantile(col, (1 - level) / 2));
        }
        for (int r = 0; r < replicates; r++) freq[argmin(nu[r], minLayer)] += 1.0 / replicates;
        return new Bootstrap(v, relTol, level, replicates, seed, minLayer, lo, hi, point, freq);
    }

    /** 50, 100, 200, 500, 1000, 2000, 5000, ... up to and including max. */
    public static int[] defaultSizes(int max) {
        List<Integer> out = new ArrayList<>();
        for (long dec = 10; dec <= max; dec *= 10) {
            for (int f : new int[] {5, 10, 20}) if (dec * f <= max) out.add((int) (dec * f));
        }
        return out.stream().distinct().sorted().mapToInt(Integer::intValue).toArray();
    }

    /**
     * nu at n examples per class: for each size (only sizes ≤ the smallest class in the sample are evaluated), each
     * repeat draws n examples per class without replacement (seeded), the same examples at every layer.
     */
    public static SampleSizeCurve sampleSizeCurve(List<LayerSamples> layers, Variant v, double relTol, int[] sizes,
                                                  int repeats, long seed, int minLayer) {
        check(layers, minLayer);
        if (repeats < 1) throw new IllegalArgumentException("repeats must be >= 1, got " + repeats);
        int L = layers.size();
        LayerSamples s0 = layers.get(0);
        int C = s0.numClasses();
        int smallest = Integer.MAX_VALUE;
        for (int y = 0; y < C; y++) smallest = Math.min(smallest, s0.count(y));
        final int limit = smallest;
        int[] used = Arrays.stream(sizes).filter(n -> n >= 2 && n <= limit).toArray();
        double[] all = new double[L];
        IntStream.range(0, L).parallel().forEach(l -> all[l] = SampleRatio.compute(layers.get(l).vectors(), null,
                layers.get(l).dim(), v, relTol).nu());
        double[][] mean = new double[used.length][L], sd = new double[used.length][L];
        int[] arg = new int[used.length];
        double[] rho = new double[used.length];
        for (int p = 0; p < used.length; p++) {
            double[][] nu = new double[repeats][L];
            for (int r = 0; r < repeats; r++) {
                Random rng = new Random(Reservoir.priority(seed, (long) p * 1_000_003L + r));
                int[][] w = new int[C][];
                for (int y = 0; y < C; y++) {
                    int n = s0.count(y);
                    int[] perm = IntStream.range(0, n).toArray();
                    for (int i = n - 1; i > 0; i--) {
                        int j = rng.nextInt(i + 1);
                        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
                    }
                    w[y] = new int[n];
                    for (int k = 0; k < used[p]; k++) w[y][perm[k]] = 1;
                }
                double[] row = nu[r];
                IntStream.range(0, L).parallel().forEach(l -> row[l] = SampleRatio.compute(layers.get(l).vectors(), w,
                        layers.get(l).dim(), v, relTol).nu());
            }
            for (int l = 0; l < L; l++) {
                double m = 0, q = 0;
                for (int r = 0; r < repeats; r++) m += nu[r][l] / repeats;
                for (int r = 0; r < repeats; r++) q += (nu[r][l] - m) * (nu[r][l] - m);
                mean[p][l] = m;
                sd[p][l] = repeats > 1 ? Math.sqrt(q / (repeats - 1)) : 0;
            }
            arg[p] = argmin(mean[p], minLayer);
            rho[p] = L >= 2 ? new SpearmansCorrelation().correlation(mean[p], all) : Double.NaN;
        }
        return new SampleSizeCurve(v, relTol, repeats, seed, minLayer, used, mean, sd, arg, rho);
    }

    static int argmin(double[] nu, int minLayer) {
        int best = minLayer;
        for (int l = minLayer + 1; l < nu.length; l++) if (nu[l] < nu[best]) best = l;
        return best;
    }

    /** Linear interpolation between order statistics of sorted values (type 7). */
    static double quantile(double[] sorted, double q) {
        double h = (sorted.length - 1) * q;
        int i = (int) Math.floor(h);
        if (i >= sorted.length - 1) return sorted[sorted.length - 1];
        return sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]);
    }

    private static void check(List<LayerSamples> layers, int minLayer) {
        if (layers.isEmpty()) throw new IllegalArgumentException("no layers");
        if (minLayer < 0 || minLayer >= layers.size()) {
            throw new IllegalArgumentException("minLayer " + minLayer + " outside [0, " + layers.size() + ")");
        }
        LayerSamples s0 = layers.get(0);
        for (LayerSamples s : layers) {
            for (int y = 0; y < s0.numClasses(); y++) {
                if (s.numClasses() != s0.numClasses() || s.count(y) != s0.count(y)) {
                    throw new IllegalArgumentException("layer " + s.layer() + " sample differs in classes or counts from layer " + s0.layer());
                }
            }
        }
        for (int y = 0; y < s0.numClasses(); y++) {
            if (s0.count(y) == 0) throw new IllegalArgumentException("class " + y + " has no examples in the reservoir");
        }
    }
}

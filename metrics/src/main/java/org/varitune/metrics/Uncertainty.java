package org.varitune.metrics;

import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.apache.commons.math3.stat.descriptive.rank.Percentile;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * How far to trust the per-layer ratios and their ranking, from the reservoir samples
 * ({@link VariabilityAccumulator#samples}).
 *
 * <h2>Which data each number comes from</h2>
 * The plug-in nu of a layer ({@link VariabilityResult#nu}) comes from the exact streaming statistics of all N
 * examples. Resampling needs the vectors, so everything here uses the bounded reservoir ({@code min(n_y,
 * reservoirPerClass)} uniformly sampled examples per class, the same examples at every layer): the reservoir's own
 * plug-in {@code nû_R}, the replicates {@code nu*}, the bias-corrected value and its interval all come from the same
 * reservoir. When the reservoir holds every example, {@code nû_R} = nu (up to rounding) and all of them come from the
 * same data as nu. Replicates resample the same example indices at every layer (paired), so the frequency with which
 * each layer is the argmin measures the stability of the ranking.
 *
 * <h2>Undefined layers</h2>
 * A layer whose ratio is undefined on a sample (Sb = 0, {@link RatioMath}) is left out of the interval, the argmin
 * and the curve, with the reason in {@code skipped}; callers pass only layers whose full-data nu is defined.
 */
public final class Uncertainty {
    private Uncertainty() {}

    /**
     * The bootstrap of one layer, all on the reservoir.
     *
     * @param reservoirNu     plug-in nû_R on the whole reservoir
     * @param replicateMean   mean of nu* over the replicates
     * @param biasCorrected   {@code max(0, 2 nû_R − mean(nu*))}
     * @param lo              lower bound of the basic interval of the bias-corrected value
     * @param hi              upper bound; {@code lo ≤ biasCorrected ≤ hi} always holds
     * @param argminFrequency fraction of replicates in which this layer had the smallest nu* among the layers ≥
     *                        minLayer with an interval (0 below minLayer)
     */
    public record Interval(int layer, double reservoirNu, double replicateMean, double biasCorrected, double lo, double hi,
                           double argminFrequency) {}

    /**
     * Bootstrap intervals per layer.
     *
     * @param level             coverage, e.g. 0.95
     * @param reservoirExamples examples in the reservoir, Σ_y min(n_y, reservoirPerClass)
     * @param intervals         layers with an interval, ascending
     * @param skipped           layer → why it has no interval
     */
    public record Bootstrap(Variant variant, double relativeTolerance, double level, int replicates, long seed, int minLayer,
                            int reservoirExamples, List<Interval> intervals, Map<Integer, String> skipped) {
        /** The interval of a layer, if it has one. */
        public Optional<Interval> at(int layer) {
            return intervals.stream().filter(i -> i.layer() == layer).findFirst();
        }
    }

    /**
     * @param perClass        examples per class at each point
     * @param layers          layers evaluated (ratio defined on every subsample), ascending; columns of the arrays
     * @param meanNu          (points, layers) mean of nu over the repeats
     * @param sdNu            (points, layers) standard deviation over the repeats (0 with one repeat)
     * @param argminLayer     (points) layer ≥ minLayer with the smallest mean nu (hidden_states index); empty when no
     *                        evaluated layer is ≥ minLayer
     * @param spearmanWithAll (points) rank correlation of the layers' mean nu with nu of the whole reservoir; empty with
     *                        fewer than 2 layers or constant values
     * @param skipped         layer → why it was left out
     */
    public record SampleSizeCurve(Variant variant, double relativeTolerance, int repeats, long seed, int minLayer,
                                  int[] perClass, int[] layers, double[][] meanNu, double[][] sdNu, OptionalInt[] argminLayer,
                                  OptionalDouble[] spearmanWithAll, Map<Integer, String> skipped) {}

    /**
     * Bias-corrected bootstrap of nu per layer, resampling within classes. With the reservoir's plug-in {@code nû_R},
     * replicates {@code nu*_r} and their quantiles {@code q(·)}:
     * <pre>
     *   nu_bc = 2 nû_R − mean_r(nu*_r)                           (bootstrap bias correction)
     *   CI    = [2 nû_R − q(1 − α/2), 2 nû_R − q(α/2)]            (basic interval, α = 1 − level)
     * </pre>
     * With few examples per class relative to the dimension (the regime of hidden states) the plug-in is biased low:
     * noise in the class means inflates Sb and the 1/n covariance shrinks Sw (in a few dimensions the noisy small
     * eigenvalues of Sb can push the other way); {@code mean(nu*) − nû_R} estimates that bias, whatever its sign, and the basic interval is the interval of
     * the bias-corrected value: it contains nu_bc whenever {@code q(α/2) ≤ mean(nu*) ≤ q(1 − α/2)}. A replicate
     * distribution so skewed that its mean falls outside that range gives no interval (the layer is listed in
     * skipped with the numbers). nu ≥ 0, so nu_bc and the bounds are clamped at 0 (which keeps the containment). Each
     * replicate draws, for every class, as many examples as the class has in the sample, uniformly with replacement,
     * and evaluates every layer on the same draw. Inputs not modified.
     */
    public static Bootstrap bootstrap(List<LayerSamples> layers, Variant v, double relTol, int replicates, double level,
                                      long seed, int minLayer) {
        check(layers, minLayer);
        if (replicates < 2) throw new IllegalArgumentException("need at least 2 bootstrap replicates, got " + replicates);
        if (!(level > 0 && level < 1)) throw new IllegalArgumentException("level must be in (0, 1), got " + level);
        int L = layers.size();
        LayerSamples s0 = layers.get(0);
        int C = s0.numClasses();
        RatioMath.Parts[] point = new RatioMath.Parts[L];
        double[][][] norms = new double[L][][];
        IntStream.range(0, L).parallel().forEach(k -> {
            norms[k] = SampleRatio.squaredNorms(layers.get(k).vectors(), layers.get(k).dim());
            point[k] = SampleRatio.compute(layers.get(k).vectors(), null, layers.get(k).dim(), v, relTol, norms[k]);
        });
        RatioMath.Parts[][] rep = new RatioMath.Parts[replicates][L];
        for (int r = 0; r < replicates; r++) {
            Random rng = new Random(Reservoir.priority(seed, r));
            int[][] w = new int[C][];
            for (int y = 0; y < C; y++) {
                int n = s0.count(y);
                w[y] = new int[n];
                for (int k = 0; k < n; k++) w[y][rng.nextInt(n)]++;
            }
            RatioMath.Parts[] row = rep[r];
            IntStream.range(0, L).parallel().forEach(k -> row[k] = point[k].nu().isEmpty() ? null
                    : SampleRatio.compute(layers.get(k).vectors(), w, layers.get(k).dim(), v, relTol, norms[k]));
        }
        Map<Integer, String> skipped = new LinkedHashMap<>();
        boolean[] ok = new boolean[L];
        double[][] col = new double[L][replicates];
        for (int k = 0; k < L; k++) {
            int layer = layers.get(k).layer();
            if (point[k].nu().isEmpty()) {
                skipped.put(layer, "on the reservoir sample: " + point[k].undefinedReason());
                continue;
            }
            int undefined = 0;
            String why = null;
            for (int r = 0; r < replicates; r++) {
                if (rep[r][k].nu().isEmpty()) {
                    undefined++;
                    why = rep[r][k].undefinedReason();
                } else {
                    col[k][r] = rep[r][k].nu().getAsDouble();
                }
            }
            if (undefined > 0) {
                skipped.put(layer, "undefined in " + undefined + " of " + replicates + " bootstrap replicates: " + why);
                continue;
            }
            ok[k] = true;
        }
        double[] freq = new double[L];
        for (int r = 0; r < replicates; r++) {
            int best = -1;
            for (int k = 0; k < L; k++) {
                if (!ok[k] || layers.get(k).layer() < minLayer) continue;
                if (best < 0 || col[k][r] < col[best][r]) best = k;
            }
            if (best >= 0) freq[best] += 1.0 / replicates;
        }
        List<Interval> out = new ArrayList<>();
        for (int k = 0; k < L; k++) {
            if (!ok[k]) continue;
            int layer = layers.get(k).layer();
            double nuR = point[k].nu().getAsDouble();
            double mean = Arrays.stream(col[k]).average().orElseThrow();
            double qLo = quantile(col[k], (1 - level) / 2), qHi = quantile(col[k], 1 - (1 - level) / 2);
            if (!(mean >= qLo && mean <= qHi)) {
                skipped.put(layer, String.format(Locale.ROOT, "bootstrap distribution too skewed for a basic interval: "
                        + "mean of the replicates %.6g outside their own central %.0f%% range [%.6g, %.6g]", mean,
                        100 * level, qLo, qHi));
                continue;
            }
            out.add(new Interval(layer, nuR, mean, Math.max(0, 2 * nuR - mean), Math.max(0, 2 * nuR - qHi),
                    Math.max(0, 2 * nuR - qLo), freq[k]));
        }
        int examples = 0;
        for (int y = 0; y < C; y++) examples += s0.count(y);
        return new Bootstrap(v, relTol, level, replicates, seed, minLayer, examples, List.copyOf(out), skipped);
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
     * repeat draws n examples per class without replacement (seeded), the same examples at every layer. A layer whose
     * ratio is undefined on the whole sample or on any subsample is left out (see {@code skipped}).
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
        RatioMath.Parts[] all = new RatioMath.Parts[L];
        double[][][] norms = new double[L][][];
        IntStream.range(0, L).parallel().forEach(k -> {
            norms[k] = SampleRatio.squaredNorms(layers.get(k).vectors(), layers.get(k).dim());
            all[k] = SampleRatio.compute(layers.get(k).vectors(), null, layers.get(k).dim(), v, relTol, norms[k]);
        });
        Map<Integer, String> skipped = new LinkedHashMap<>();
        for (int k = 0; k < L; k++) {
            if (all[k].nu().isEmpty()) skipped.put(layers.get(k).layer(), "on the reservoir sample: " + all[k].undefinedReason());
        }
        RatioMath.Parts[][][] nu = new RatioMath.Parts[used.length][repeats][];
        for (int p = 0; p < used.length; p++) {
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
                RatioMath.Parts[] row = nu[p][r] = new RatioMath.Parts[L];
                IntStream.range(0, L).parallel().forEach(k -> row[k] = all[k].nu().isEmpty() ? null
                        : SampleRatio.compute(layers.get(k).vectors(), w, layers.get(k).dim(), v, relTol, norms[k]));
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (int k = 0; k < L; k++) {
            int layer = layers.get(k).layer();
            if (skipped.containsKey(layer)) continue;
            String why = null;
            for (int p = 0; p < used.length && why == null; p++) {
                for (int r = 0; r < repeats && why == null; r++) {
                    if (nu[p][r][k].nu().isEmpty()) why = "undefined at " + used[p] + " per class: " + nu[p][r][k].undefinedReason();
                }
            }
            if (why != null) skipped.put(layer, why); else kept.add(k);
        }
        int K = kept.size();
        int[] layerIds = kept.stream().mapToInt(k -> layers.get(k).layer()).toArray();
        double[] allNu = kept.stream().mapToDouble(k -> all[k].nu().getAsDouble()).toArray();
        double[][] mean = new double[used.length][K], sd = new double[used.length][K];
        OptionalInt[] arg = new OptionalInt[used.length];
        OptionalDouble[] rho = new OptionalDouble[used.length];
        for (int p = 0; p < used.length; p++) {
            for (int j = 0; j < K; j++) {
                int k = kept.get(j);
                double m = 0, q = 0;
                for (int r = 0; r < repeats; r++) m += nu[p][r][k].nu().getAsDouble() / repeats;
                for (int r = 0; r < repeats; r++) q += Math.pow(nu[p][r][k].nu().getAsDouble() - m, 2);
                mean[p][j] = m;
                sd[p][j] = repeats > 1 ? Math.sqrt(q / (repeats - 1)) : 0;
            }
            int best = -1;
            for (int j = 0; j < K; j++) {
                if (layerIds[j] >= minLayer && (best < 0 || mean[p][j] < mean[p][best])) best = j;
            }
            arg[p] = best < 0 ? OptionalInt.empty() : OptionalInt.of(layerIds[best]);
            rho[p] = spearman(mean[p], allNu);
        }
        return new SampleSizeCurve(v, relTol, repeats, seed, minLayer, used, layerIds, mean, sd, arg, rho, skipped);
    }

    /** Spearman correlation, empty with fewer than 2 values or when either series is constant. */
    static OptionalDouble spearman(double[] a, double[] b) {
        if (a.length < 2) return OptionalDouble.empty();
        double r = new SpearmansCorrelation().correlation(a, b);
        return Double.isFinite(r) ? OptionalDouble.of(r) : OptionalDouble.empty();
    }

    /**
     * The q-quantile, q in (0, 1], of {@code values} (any order; not modified) by linear interpolation between order
     * statistics (Hyndman and Fan's type 7, R's and NumPy's default): with {@code x_(1) ≤ ... ≤ x_(n)} and
     * {@code h = (n − 1)·q}, {@code Q(q) = x_(⌊h⌋+1) + (h − ⌊h⌋)·(x_(⌊h⌋+2) − x_(⌊h⌋+1))}, and {@code x_(n)} at q = 1.
     */
    static double quantile(double[] values, double q) {
        return new Percentile().withEstimationType(Percentile.EstimationType.R_7).evaluate(values, 100 * q);
    }

    private static void check(List<LayerSamples> layers, int minLayer) {
        if (layers.isEmpty()) throw new IllegalArgumentException("no layers");
        if (minLayer < 0) throw new IllegalArgumentException("minLayer must be >= 0, got " + minLayer);
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

package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Streaming, mergeable statistics of the pooled hidden states of every layer, filled in one forward pass, from which
 * {@link #compute} gives the variability ratio of each layer exactly (no pooled vector is held except the optional
 * bounded {@linkplain Options#reservoirPerClass reservoir}).
 *
 * <h2>What is accumulated (per layer l, in double)</h2>
 * The class counts {@code n_y} are declared up front (count the labels before the pass), so each example's class
 * weight {@code w_y = 1/(C n_y)} is known when it arrives. With a pilot mean {@code p} (given, or the mean of the
 * first batch added to the layer; it only improves conditioning) and {@code g_n = h_n − p}:
 * <pre>
 *   S_y = Σ_{n∈y} g_n                       (C, d)   class sums
 *   M   = Σ_n w_{y(n)} g_n g_nᵀ              (d, d)   class-weighted second moment (upper triangle, packed)
 *   U   = Σ_n g_n g_nᵀ                       (d, d)   plain second moment (only with Options.sampleWeighted)
 * </pre>
 * Then, with shifted class means {@code m̃_y = S_y / n_y = m_y − p}:
 * <pre>
 *   (1/n_y) Σ_{n∈y} (h_n − m_y)(h_n − m_y)ᵀ = (1/n_y) Σ_{n∈y} g_n g_nᵀ − m̃_y m̃_yᵀ        (shift-free covariance)
 *   ⇒ Sw = (1/C) Σ_y [(1/n_y) Σ_{n∈y} g_n g_nᵀ − m̃_y m̃_yᵀ] = M − (1/C) Σ_y m̃_y m̃_yᵀ     (paper)
 *      Sw = (1/N) (U − Σ_y n_y m̃_y m̃_yᵀ)                                               (Papyan)
 *   Sb uses only differences of means, so m̃_y serve unchanged.
 * </pre>
 * Memory per layer: {@code d(d+1)/2} doubles for M (twice with U) plus {@code C d} for the sums: O(L d² + L C d).
 * A batch costs {@code d² B} multiply-adds per moment per layer (upper triangle, blocked by 8 rows); layers run in
 * parallel in {@link #addAll}.
 *
 * <h2>Sharding and resuming</h2>
 * Each example has a global index: {@code Options.baseIndex} plus its position in this accumulator's stream; a
 * driver that splits a pass gives each shard the index of its first example. {@link #merge} combines shards exactly
 * (a differing pilot mean is shifted algebraically), {@link #save}/{@link #load} write and read the whole state
 * (atomic, checksummed), and {@link #examplesSeen()} says how many examples to skip when resuming.
 *
 * <h2>Validation</h2>
 * At construction: at least two classes, every declared count ≥ 1. At {@link #add}: labels in [0, C), no class
 * beyond its declared count, finite values (the error names layer and global example index); a rejected batch leaves
 * the state unchanged. At {@link #compute}: every layer saw exactly the declared counts. A class with one example is
 * allowed: its covariance is 0, and it still weighs 1/C in Sw and Sb.
 *
 * <p>Not thread-safe, except that {@link #add} calls for different layers may run concurrently.
 */
public final class VariabilityAccumulator {

    /**
     * @param sampleWeighted     also accumulate the plain second moment U, needed by
     *                           {@link Variant#PAPYAN_SAMPLE_WEIGHTED} (doubles the d² memory)
     * @param reservoirPerClass  pooled vectors kept per class and layer for the bootstrap, the sample-size curve and
     *                           the probe ({@code L · Σ_y min(n_y, k) · d} floats); 0 keeps none
     * @param seed               seed of the reservoir priorities
     * @param baseIndex          global index of this accumulator's first example (shards)
     */
    public record Options(boolean sampleWeighted, int reservoirPerClass, long seed, long baseIndex) {
        public static final int DEFAULT_RESERVOIR_PER_CLASS = 500;
        public static final long DEFAULT_SEED = 20221018L;

        public Options {
            if (reservoirPerClass < 0) throw new IllegalArgumentException("reservoirPerClass must be >= 0, got " + reservoirPerClass);
            if (baseIndex < 0) throw new IllegalArgumentException("baseIndex must be >= 0, got " + baseIndex);
        }

        public static Options defaults() { return new Options(true, DEFAULT_RESERVOIR_PER_CLASS, DEFAULT_SEED, 0); }

        public Options withBaseIndex(long base) { return new Options(sampleWeighted, reservoirPerClass, seed, base); }

        public Options withReservoirPerClass(int k) { return new Options(sampleWeighted, k, seed, baseIndex); }
    }

    final int layers, dim, numClasses;
    final int[] classCounts;
    final Options options;
    final double[] classWeight;     // (C): 1/(C n_y)
    final double[][] pilot;         // per layer: (d), null until set
    final double[][] sums;          // per layer: (C, d)
    final double[][] moment;        // per layer: packed upper (d(d+1)/2), M
    final double[][] plainMoment;   // per layer: packed upper, U; null rows without sampleWeighted
    final int[][] classSeen;        // per layer: (C)
    final long[] seen;              // per layer
    final Reservoir[] reservoirs;   // per layer, null when reservoirPerClass == 0

    /** Same as {@code new VariabilityAccumulator(layers, dim, classCounts, pilot, Options.defaults())}. */
    public VariabilityAccumulator(int layers, int dim, int[] classCounts, double[][] pilotMeanPerLayer) {
        this(layers, dim, classCounts, pilotMeanPerLayer, Options.defaults());
    }

    /**
     * @param layers            number of hidden-state layers including the embeddings (L + 1 for an L-layer encoder)
     * @param dim               pooled vector size d (hidden_size)
     * @param classCounts       (C) number of examples of each class in the whole pass; copied
     * @param pilotMeanPerLayer (layers, d) shift per layer, or null to use each layer's first batch mean; copied
     */
    public VariabilityAccumulator(int layers, int dim, int[] classCounts, double[][] pilotMeanPerLayer, Options options) {
        if (layers < 1 || dim < 1) throw new IllegalArgumentException("layers and dim must be >= 1, got " + layers + ", " + dim);
        if (classCounts.length < 2) {
            throw new IllegalArgumentException("the variability ratio needs at least 2 classes, got " + classCounts.length
                    + " (Sb = 0 for a single class)");
        }
        for (int y = 0; y < classCounts.length; y++) {
            if (classCounts[y] < 1) throw new IllegalArgumentException("class " + y + " has " + classCounts[y]
                    + " examples; every class needs at least one (classCounts " + Arrays.toString(classCounts) + ")");
        }
        this.layers = layers;
        this.dim = dim;
        this.numClasses = classCounts.length;
        this.classCounts = classCounts.clone();
        this.options = options;
        classWeight = new double[numClasses];
        for (int y = 0; y < numClasses; y++) classWeight[y] = 1.0 / ((double) numClasses * classCounts[y]);
        long packed = (long) dim * (dim + 1) / 2;
        if (packed > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("dim " + dim + " too large for a packed moment");
        pilot = new double[layers][];
        sums = new double[layers][numClasses * dim];
        moment = new double[layers][(int) packed];
        plainMoment = new double[layers][];
        classSeen = new int[layers][numClasses];
        seen = new long[layers];
        if (pilotMeanPerLayer != null) {
            if (pilotMeanPerLayer.length != layers) throw new IllegalArgumentException("pilot mean has " + pilotMeanPerLayer.length + " layers, expected " + layers);
            for (int l = 0; l < layers; l++) {
                if (pilotMeanPerLayer[l].length != dim) throw new IllegalArgumentException("pilot mean of layer " + l + " has length " + pilotMeanPerLayer[l].length + ", expected " + dim);
                for (double v : pilotMeanPerLayer[l]) if (!Double.isFinite(v)) throw new IllegalArgumentException("pilot mean of layer " + l + " is not finite");
                pilot[l] = pilotMeanPerLayer[l].clone();
            }
        }
        if (options.sampleWeighted()) for (int l = 0; l < layers; l++) plainMoment[l] = new double[(int) packed];
        if (options.reservoirPerClass() > 0) {
            reservoirs = new Reservoir[layers];
            int[] cap = new int[numClasses];
            for (int y = 0; y < numClasses; y++) cap[y] = Math.min(options.reservoirPerClass(), classCounts[y]);
            for (int l = 0; l < layers; l++) reservoirs[l] = new Reservoir(dim, cap);
        } else {
            reservoirs = null;
        }
    }

    public int layers() { return layers; }

    public int dim() { return dim; }

    public int numClasses() { return numClasses; }

    public int[] classCounts() { return classCounts.clone(); }

    public Options options() { return options; }

    /** Total declared examples N = Σ n_y. */
    public long totalCount() {
        long n = 0;
        for (int c : classCounts) n += c;
        return n;
    }

    /**
     * Examples consumed so far: the number a resumed pass skips. All layers must agree (after a completed
     * {@link #addAll}, or after a per-layer loop over all layers).
     */
    public long examplesSeen() {
        for (int l = 1; l < layers; l++) {
            if (seen[l] != seen[0]) {
                throw new IllegalStateException("layers disagree on examples seen: layer 0 has " + seen[0] + ", layer " + l
                        + " has " + seen[l] + " (a batch was added to some layers only)");
            }
        }
        return seen[0];
    }

    /** Examples consumed by one layer. */
    public long examplesSeen(int layer) {
        checkLayer(layer);
        return seen[layer];
    }

    /**
     * Adds one pooled batch to one layer: {@code S_y += g_b}, {@code M += w_y g_b g_bᵀ}, {@code U += g_b g_bᵀ}, and
     * offers each example to the reservoir. Modifies this accumulator only; on an exception nothing changed.
     *
     * @param pooled (B, d) pooled vectors, not modified
     * @param labels (B) class of each row, not modified
     */
    public void add(int layer, float[] pooled, int[] labels, int B) {
        validate(layer, pooled, labels, B);
        apply(layer, pooled, labels, B);
    }

    /** Checks a batch for one layer without modifying anything. */
    private void validate(int layer, float[] pooled, int[] labels, int B) {
        checkLayer(layer);
        int d = dim;
        if (B < 0 || pooled.length < (long) B * d || labels.length < B) {
            throw new IllegalArgumentException("layer " + layer + ": pooled length " + pooled.length + " / labels length "
                    + labels.length + " too short for B=" + B + ", d=" + d);
        }
        long first = options.baseIndex() + seen[layer];
        int[] batchCount = new int[numClasses];
        for (int b = 0; b < B; b++) {
            int y = labels[b];
            if (y < 0 || y >= numClasses) {
                throw new IllegalArgumentException("layer " + layer + ", example " + (first + b) + ": label " + y
                        + " outside [0, " + numClasses + ")");
            }
            batchCount[y]++;
            for (int i = 0; i < d; i++) {
                if (!Float.isFinite(pooled[b * d + i])) {
                    throw new IllegalArgumentException("layer " + layer + ", example " + (first + b) + " (batch row " + b
                            + "), component " + i + ": non-finite hidden state " + pooled[b * d + i]);
                }
            }
        }
        for (int y = 0; y < numClasses; y++) {
            if ((long) classSeen[layer][y] + batchCount[y] > classCounts[y]) {
                throw new IllegalArgumentException("layer " + layer + ": class " + y + " would have "
                        + (classSeen[layer][y] + batchCount[y]) + " examples but " + classCounts[y] + " were declared");
            }
        }
    }

    private void apply(int layer, float[] pooled, int[] labels, int B) {
        if (B == 0) return;
        int d = dim;
        long first = options.baseIndex() + seen[layer];
        if (pilot[layer] == null) {
            double[] p = new double[d];
            for (int b = 0; b < B; b++) for (int i = 0; i < d; i++) p[i] += pooled[b * d + i];
            for (int i = 0; i < d; i++) p[i] /= B;
            pilot[layer] = p;
        }
        double[] p = pilot[layer];
        double[] g = new double[B * d];       // g: (B, d) shifted rows
        double[] w = new double[B];           // w: (B) class weights
        double[] s = sums[layer];
        for (int b = 0; b < B; b++) {
            int y = labels[b];
            w[b] = classWeight[y];
            for (int i = 0; i < d; i++) {
                double v = pooled[b * d + i] - p[i];
                g[b * d + i] = v;
                s[y * d + i] += v;
            }
            classSeen[layer][y]++;
        }
        rankUpdate(moment[layer], g, w, B, d);
        if (plainMoment[layer] != null) rankUpdate(plainMoment[layer], g, null, B, d);
        if (reservoirs != null) {
            for (int b = 0; b < B; b++) {
                long gi = first + b;
                reservoirs[layer].offer(labels[b], gi, Reservoir.priority(options.seed(), gi), pooled, b * d);
            }
        }
        seen[layer] += B;
    }

    /**
     * Adds one batch to every layer, layers in parallel. Each layer is validated before any is modified.
     *
     * @param pooledPerLayer (layers) arrays of (B, d), not modified
     */
    public void addAll(float[][] pooledPerLayer, int[] labels, int B) {
        if (pooledPerLayer.length != layers) throw new IllegalArgumentException("got " + pooledPerLayer.length + " layers, expected " + layers);
        for (int l = 0; l < layers; l++) {
            if (seen[l] != seen[0]) throw new IllegalStateException("layer " + l + " has seen " + seen[l] + " examples, layer 0 " + seen[0]);
            validate(l, pooledPerLayer[l], labels, B);
        }
        IntStream.range(0, layers).parallel().forEach(l -> apply(l, pooledPerLayer[l], labels, B));
    }

    /**
     * {@code m[i, j] += Σ_b w_b g[b,i] g[b,j]} for j ≥ i (w = 1 when null), m packed row-major upper triangle.
     * Eight rows of g per sweep over a row of m.
     *
     * @param m (d(d+1)/2) modified; g (B, d) and w (B) not modified
     */
    static void rankUpdate(double[] m, double[] g, double[] w, int B, int d) {
        for (int i = 0; i < d; i++) {
            int off = rowOffset(i, d) - i;    // m[off + j] = m[i, j]
            int b = 0;
            for (; b + 8 <= B; b += 8) {
                int o0 = b * d, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d, o4 = o3 + d, o5 = o4 + d, o6 = o5 + d, o7 = o6 + d;
                double c0 = g[o0 + i], c1 = g[o1 + i], c2 = g[o2 + i], c3 = g[o3 + i];
                double c4 = g[o4 + i], c5 = g[o5 + i], c6 = g[o6 + i], c7 = g[o7 + i];
                if (w != null) {
                    c0 *= w[b]; c1 *= w[b + 1]; c2 *= w[b + 2]; c3 *= w[b + 3];
                    c4 *= w[b + 4]; c5 *= w[b + 5]; c6 *= w[b + 6]; c7 *= w[b + 7];
                }
                for (int j = i; j < d; j++) {
                    m[off + j] += c0 * g[o0 + j] + c1 * g[o1 + j] + c2 * g[o2 + j] + c3 * g[o3 + j]
                            + c4 * g[o4 + j] + c5 * g[o5 + j] + c6 * g[o6 + j] + c7 * g[o7 + j];
                }
            }
            for (; b < B; b++) {
                int o = b * d;
                double c = g[o + i] * (w == null ? 1 : w[b]);
                for (int j = i; j < d; j++) m[off + j] += c * g[o + j];
            }
        }
    }

    /** Offset of row i in a packed row-major upper triangle of a d × d matrix. */
    static int rowOffset(int i, int d) {
        return (int) ((long) i * d - (long) i * (i - 1) / 2);
    }

    /** uᵀ m u for m packed upper triangle. */
    static double quadratic(double[] m, double[] u, int d) {
        double q = 0;
        for (int i = 0; i < d; i++) {
            int off = rowOffset(i, d) - i;
            double r = 0;
            for (int j = i + 1; j < d; j++) r += m[off + j] * u[j];
            q += u[i] * (m[off + i] * u[i] + 2 * r);
        }
        return q;
    }

    /** Checks that every layer saw exactly the declared class counts; the error names layer, class and counts. */
    public void checkComplete() {
        for (int l = 0; l < layers; l++) {
            for (int y = 0; y < numClasses; y++) {
                if (classSeen[l][y] != classCounts[y]) {
                    throw new IllegalStateException("layer " + l + ", class " + y + ": " + classSeen[l][y]
                            + " examples added but " + classCounts[y] + " declared"
                            + (classSeen[l][y] == 0 ? " (class " + y + " has no examples in this pass)" : ""));
                }
            }
        }
    }

    /** Shifted class means m̃_y = S_y / n_y, (C, d). */
    double[] shiftedMeans(int layer) {
        double[] m = new double[numClasses * dim];
        for (int y = 0; y < numClasses; y++) {
            for (int i = 0; i < dim; i++) m[y * dim + i] = sums[layer][y * dim + i] / classCounts[y];
        }
        return m;
    }

    /** Centre of Sb in shifted coordinates: mean of means (paper) or global sample mean (Papyan). */
    double[] center(int layer, Variant v, double[] means) {
        double[] c = new double[dim];
        if (v == Variant.PAPER_CLASS_BALANCED) {
            for (int y = 0; y < numClasses; y++) for (int i = 0; i < dim; i++) c[i] += means[y * dim + i] / numClasses;
        } else {
            double n = totalCount();
            for (int y = 0; y < numClasses; y++) for (int i = 0; i < dim; i++) c[i] += sums[layer][y * dim + i] / n;
        }
        return c;
    }

    private void requireVariant(Variant v) {
        if (v == Variant.PAPYAN_SAMPLE_WEIGHTED && !options.sampleWeighted()) {
            throw new IllegalStateException("variant " + v + " needs the plain second moment: construct with Options.sampleWeighted = true");
        }
    }

    /**
     * The ratio of every layer from the exact statistics, after {@link #checkComplete()}. Does not modify this.
     *
     * @param relTol relative eigenvalue tolerance of Sb⁺ ({@link RatioMath#DEFAULT_RELATIVE_TOLERANCE})
     */
    public List<VariabilityResult> compute(Variant variant, double relTol) {
        requireVariant(variant);
        checkComplete();
        VariabilityResult[] out = new VariabilityResult[layers];
        IntStream.range(0, layers).parallel().forEach(l -> out[l] = computeLayer(l, variant, relTol));
        return List.of(out);
    }

    /** {@link #compute(Variant, double)} with the paper's variant and the default tolerance. */
    public List<VariabilityResult> compute() {
        return compute(Variant.PAPER_CLASS_BALANCED, RatioMath.DEFAULT_RELATIVE_TOLERANCE);
    }

    private VariabilityResult computeLayer(int l, Variant v, double relTol) {
        int d = dim, C = numClasses;
        double[] means = shiftedMeans(l);
        double[] center = center(l, v, means);
        RatioMath.QuadraticForm sw = u -> {
            double[] proj = new double[C];
            for (int y = 0; y < C; y++) {
                double s = 0;
                for (int i = 0; i < d; i++) s += u[i] * means[y * d + i];
                proj[y] = s;
            }
            if (v == Variant.PAPER_CLASS_BALANCED) {
                double q = quadratic(moment[l], u, d);
                for (int y = 0; y < C; y++) q -= proj[y] * proj[y] / C;
                return q;
            }
            double q = quadratic(plainMoment[l], u, d);
            for (int y = 0; y < C; y++) q -= classCounts[y] * proj[y] * proj[y];
            return q / totalCount();
        };
        RatioMath.Parts parts = RatioMath.ratio(means, center, C, d, sw, relTol, meanSquareNorm(l));
        return new VariabilityResult(l, parts.nu(), parts.undefinedReason(), v, relTol, parts.rank(),
                traceWithin(l, v, means), parts.traceSb(), parts.keptEigenvalues(), parts.droppedNonzero());
    }

    /**
     * The class-balanced mean squared norm of the unshifted vectors, {@code s² = (1/C) Σ_y (1/n_y) Σ_{n∈y} |h_n|²},
     * the scale of the zero test of Sb ({@link RatioMath}): with {@code h = p + g},
     * {@code s² = |p|² + (2/C) Σ_y p·m̃_y + trace(M)}.
     */
    double meanSquareNorm(int l) {
        double[] p = pilot[l];
        double[] means = shiftedMeans(l);
        double s = 0;
        for (int i = 0; i < dim; i++) {
            double pm = 0;
            for (int y = 0; y < numClasses; y++) pm += means[y * dim + i];
            s += p[i] * p[i] + 2 * p[i] * pm / numClasses + moment[l][rowOffset(i, dim)];
        }
        return Math.max(0, s);
    }

    private double traceWithin(int l, Variant v, double[] means) {
        double[] m = v == Variant.PAPER_CLASS_BALANCED ? moment[l] : plainMoment[l];
        double t = 0;
        for (int i = 0; i < dim; i++) t += m[rowOffset(i, dim)];
        for (int y = 0; y < numClasses; y++) {
            double s = 0;
            for (int i = 0; i < dim; i++) s += means[y * dim + i] * means[y * dim + i];
            t -= v == Variant.PAPER_CLASS_BALANCED ? s / numClasses : classCounts[y] * s;
        }
        return v == Variant.PAPER_CLASS_BALANCED ? t : t / totalCount();
    }

    /** Dense Sw of a layer (d × d), for inspection and the dense reference route. */
    public DMatrixRMaj withinScatter(int layer, Variant v) {
        checkLayer(layer);
        requireVariant(v);
        double[] means = shiftedMeans(layer);
        double[] m = v == Variant.PAPER_CLASS_BALANCED ? moment[layer] : plainMoment[layer];
        DMatrixRMaj sw = new DMatrixRMaj(dim, dim);
        for (int i = 0; i < dim; i++) {
            int off = rowOffset(i, dim) - i;
            for (int j = i; j < dim; j++) {
                double x = m[off + j];
                for (int y = 0; y < numClasses; y++) {
                    double mm = means[y * dim + i] * means[y * dim + j];
                    x -= v == Variant.PAPER_CLASS_BALANCED ? mm / numClasses : classCounts[y] * mm;
                }
                if (v == Variant.PAPYAN_SAMPLE_WEIGHTED) x /= totalCount();
                sw.unsafe_set(i, j, x);
                sw.unsafe_set(j, i, x);
            }
        }
        return sw;
    }

    /** Dense Sb of a layer (d × d). */
    public DMatrixRMaj betweenScatter(int layer, Variant v) {
        checkLayer(layer);
        double[] means = shiftedMeans(layer);
        double[] c = center(layer, v, means);
        DMatrixRMaj sb = new DMatrixRMaj(dim, dim);
        for (int y = 0; y < numClasses; y++) {
            for (int i = 0; i < dim; i++) {
                double a = means[y * dim + i] - c[i];
                for (int j = 0; j < dim; j++) sb.data[i * dim + j] += a * (means[y * dim + j] - c[j]) / numClasses;
            }
        }
        return sb;
    }

    /** The reservoir sample of one layer, each class ordered by global example index. */
    public LayerSamples samples(int layer) {
        checkLayer(layer);
        if (reservoirs == null) throw new IllegalStateException("no reservoir: constructed with reservoirPerClass = 0");
        Reservoir r = reservoirs[layer];
        float[][] vec = new float[numClasses][];
        long[][] idx = new long[numClasses][];
        for (int y = 0; y < numClasses; y++) {
            Integer[] slots = r.slotsByIndex(y);
            vec[y] = new float[slots.length * dim];
            idx[y] = new long[slots.length];
            for (int k = 0; k < slots.length; k++) {
                System.arraycopy(r.vectors[y], slots[k] * dim, vec[y], k * dim, dim);
                idx[y][k] = r.index[y][slots[k]];
            }
        }
        return new LayerSamples(layer, dim, vec, idx);
    }

    /** {@link #samples(int)} of every layer. */
    public List<LayerSamples> allSamples() {
        List<LayerSamples> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) out.add(samples(l));
        return out;
    }

    /**
     * Statistics of the union of two shards, exact up to rounding: sums, moments and counts add; if b's pilot mean
     * differs, b is first shifted to a's ({@code g' = g + δ}, {@code δ = p_b − p_a}:
     * {@code M' = M + (Σ w g) δᵀ + δ (Σ w g)ᵀ + (Σ w) δ δᵀ} with {@code Σ w g = Σ_y w_y S_y},
     * {@code Σ w = Σ_y w_y k_y}, {@code S'_y = S_y + k_y δ}). Reservoirs merge exactly. Inputs are not modified.
     * The result's baseIndex is the smaller one; adding to it afterwards assumes the shards covered one contiguous
     * range of global indices.
     */
    public static VariabilityAccumulator merge(VariabilityAccumulator a, VariabilityAccumulator b) {
        if (a.layers != b.layers || a.dim != b.dim || !Arrays.equals(a.classCounts, b.classCounts)
                || a.options.sampleWeighted() != b.options.sampleWeighted()
                || a.options.reservoirPerClass() != b.options.reservoirPerClass() || a.options.seed() != b.options.seed()) {
            throw new IllegalArgumentException("cannot merge accumulators of different shape or options: layers " + a.layers
                    + "/" + b.layers + ", dim " + a.dim + "/" + b.dim + ", classCounts " + Arrays.toString(a.classCounts)
                    + "/" + Arrays.toString(b.classCounts) + ", options " + a.options + "/" + b.options);
        }
        VariabilityAccumulator r = new VariabilityAccumulator(a.layers, a.dim, a.classCounts, null,
                a.options.withBaseIndex(Math.min(a.options.baseIndex(), b.options.baseIndex())));
        for (int l = 0; l < a.layers; l++) {
            for (int y = 0; y < a.numClasses; y++) {
                if ((long) a.classSeen[l][y] + b.classSeen[l][y] > a.classCounts[y]) {
                    throw new IllegalArgumentException("merge: layer " + l + ", class " + y + " would have "
                            + (a.classSeen[l][y] + b.classSeen[l][y]) + " examples but " + a.classCounts[y] + " were declared");
                }
            }
        }
        for (int l = 0; l < a.layers; l++) {
            double[] pa = a.pilot[l] != null ? a.pilot[l] : b.pilot[l];
            r.pilot[l] = pa == null ? null : pa.clone();
            r.seen[l] = a.seen[l] + b.seen[l];
            for (int y = 0; y < a.numClasses; y++) r.classSeen[l][y] = a.classSeen[l][y] + b.classSeen[l][y];
            a.addShiftedInto(r, l);
            b.addShiftedInto(r, l);
            if (r.reservoirs != null) r.reservoirs[l] = Reservoir.merge(a.reservoirs[l], b.reservoirs[l]);
        }
        return r;
    }

    /** Adds this accumulator's layer-l statistics into r, re-expressed about r's pilot mean. Modifies r only. */
    private void addShiftedInto(VariabilityAccumulator r, int l) {
        if (seen[l] == 0) return;
        int d = dim, C = numClasses;
        double[] delta = new double[d];
        boolean shift = false;
        for (int i = 0; i < d; i++) {
            delta[i] = pilot[l][i] - r.pilot[l][i];
            shift |= delta[i] != 0;
        }
        double[] wg = new double[d], g = new double[d];   // Σ w g, Σ g
        double wsum = 0, n = 0;
        for (int y = 0; y < C; y++) {
            wsum += classWeight[y] * classSeen[l][y];
            n += classSeen[l][y];
            for (int i = 0; i < d; i++) {
                wg[i] += classWeight[y] * sums[l][y * d + i];
                g[i] += sums[l][y * d + i];
            }
        }
        for (int y = 0; y < C; y++) {
            for (int i = 0; i < d; i++) r.sums[l][y * d + i] += sums[l][y * d + i] + (shift ? classSeen[l][y] * delta[i] : 0);
        }
        addMoment(r.moment[l], moment[l], shift, wg, wsum, delta, d);
        if (plainMoment[l] != null) addMoment(r.plainMoment[l], plainMoment[l], shift, g, n, delta, d);
    }

    private static void addMoment(double[] dst, double[] src, boolean shift, double[] s, double w, double[] delta, int d) {
        for (int i = 0; i < d; i++) {
            int off = rowOffset(i, d) - i;
            for (int j = i; j < d; j++) {
                double x = src[off + j];
                if (shift) x += s[i] * delta[j] + delta[i] * s[j] + w * delta[i] * delta[j];
                dst[off + j] += x;
            }
        }
    }

    /** Writes the whole state to {@code file} atomically (temp file in the same directory, then move). */
    public void save(Path file) throws IOException {
        AccumulatorFiles.write(this, file);
    }

    /** Reads a state written by {@link #save}; a corrupt or truncated file is an IOException naming it. */
    public static VariabilityAccumulator load(Path file) throws IOException {
        return AccumulatorFiles.read(file);
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) throw new IndexOutOfBoundsException("layer " + layer + " outside [0, " + layers + ")");
    }
}

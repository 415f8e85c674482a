package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops of the fast backend that are not matrix products: elementwise adds, column sums and LayerNorm.
 * Each loop runs whole vectors and then a scalar tail; rows are spread over {@link Parallel}. Formulas are those of
 * {@link CpuKernels}; sums run in float vectors (row statistics), or in float
 * over a few rows and then in double (column sums over rows), combined in a fixed order.
 */
final class FastOps {
    private FastOps() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    /** Rows per parallel chunk so a chunk holds at least 16K elements. */
    static int rowsPerChunk(int C) { return Math.max(1, (1 << 14) / Math.max(1, C)); }

    /** {@code dst[dOff + i] += src[sOff + i]} for i < n. */
    static void addInPlace(float[] dst, int dOff, float[] src, int sOff, int n) {
        int i = 0;
        for (int e = S.loopBound(n); i < e; i += VL) {
            FloatVector.fromArray(S, dst, dOff + i).add(FloatVector.fromArray(S, src, sOff + i)).intoArray(dst, dOff + i);
        }
        for (; i < n; i++) dst[dOff + i] += src[sOff + i];
    }

    /** {@code out[i] = a[i] + b[i]} for i < n, in parallel. */
    static void add(float[] out, float[] a, float[] b, int n) {
        Parallel.parallelForRange(n, 1 << 16, (lo, hi) -> {
            int i = lo;
            for (int e = lo + S.loopBound(hi - lo); i < e; i += VL) {
                FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(out, i);
            }
            for (; i < hi; i++) out[i] = a[i] + b[i];
        });
    }

    /**
     * {@code dst[c] += Σ_n a[n, c]}. a: (N, C), dst: (C). Rows are cut into {@link RowChunks}; within a chunk the sums
     * run in float lanes over {@link #FLUSH} rows at a time and are added into a double per-chunk partial; the
     * partials are added up in chunk order. So the result depends on N, C and the thread count only.
     */
    static void addColumnSums(float[] dst, float[] a, int N, int C) {
        if (N <= 0 || C <= 0) return;
        RowChunks rc = RowChunks.of(N, C);
        double[] part = new double[rc.chunks() * C];               // part: (chunks, C)
        Parallel.parallelFor(rc.chunks(), ch -> {
            int lo = rc.lo(ch), hi = rc.hi(ch, N), e = S.loopBound(C);
            float[] acc = new float[C];                            // acc: (C), float sums over ≤ FLUSH rows
            for (int n0 = lo; n0 < hi; n0 += FLUSH) {
                int n1 = Math.min(hi, n0 + FLUSH);
                for (int n = n0; n < n1; n++) {
                    int off = n * C, c = 0;
                    for (; c < e; c += VL) {
                        FloatVector.fromArray(S, acc, c).add(FloatVector.fromArray(S, a, off + c)).intoArray(acc, c);
                    }
                    for (; c < C; c++) acc[c] += a[off + c];
                }
                flush(part, ch * C, acc, C);
            }
        });
        combine(dst, part, rc.chunks(), C, 0);
    }

    /** Rows summed in float before a flush into the double partial sums (bounds the float rounding error). */
    static final int FLUSH = 32;

    /** Row chunks of a column reduction: {@code rows} rows each (the last fewer), about four per thread. */
    record RowChunks(int rows, int chunks) {
        static RowChunks of(int N, int C) {
            int rows = Math.max(rowsPerChunk(C), Parallel.ceilDiv(N, 4 * Parallel.threads()));
            return new RowChunks(rows, Parallel.ceilDiv(N, rows));
        }

        int lo(int ch) { return ch * rows; }

        int hi(int ch, int N) { return Math.min(N, (ch + 1) * rows); }
    }

    /** {@code part[pOff + i] += acc[i]; acc[i] = 0} for i &lt; n. */
    private static void flush(double[] part, int pOff, float[] acc, int n) {
        accumulate(part, pOff, acc, 0, n);
        java.util.Arrays.fill(acc, 0, n, 0f);
    }

    /** {@code dst[c] += (float) Σ_ch part[ch·stride + pOff + c]} for c &lt; C, the chunks added in order. */
    private static void combine(float[] dst, double[] part, int chunks, int C, int pOff) {
        int stride = part.length / chunks;
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int ch = 0; ch < chunks; ch++) s += part[ch * stride + pOff + c];
            dst[c] += (float) s;
        }
    }

    /**
     * {@code acc[aOff + i] += src[sOff + i]} for i &lt; n, a scalar loop. Not on the Vector API on purpose: a float→double
     * conversion needs a second, half-width float species, and on JDK 17 a second species of one element type in the
     * JVM pollutes the type profiles of the shared {@code FloatVector} code, after which C2 leaves vector operations
     * elsewhere unintrinsified (boxed): attention measured 6× slower after one LayerNorm backward. Every loop in this
     * package uses {@code FloatVector.SPECIES_PREFERRED} and nothing else for floats.
     */
    static void accumulate(double[] acc, int aOff, float[] src, int sOff, int n) {
        for (int i = 0; i < n; i++) acc[aOff + i] += src[sOff + i];
    }

    /**
     * Sum of the lanes in lane order. {@code reduceLanes(ADD)} leaves the order to the implementation, so the JIT's
     * intrinsic and the interpreter's fallback may round differently; this fixed order keeps results bit-identical
     * across JIT tiers (needed for bit-identical resume).
     */
    static float sumLanes(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0f;
        for (int i = 0; i < VL; i++) s += lanes[i];
        return s;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[VL]);

    static void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                                 int N, int C, float eps) {
        // out: (N, C)  mean, rstd: (N)  x: (N, C)  weight, bias: (C)
        Parallel.parallelForRange(N, rowsPerChunk(C), (lo, hi) -> {
            int e = S.loopBound(C);
            for (int n = lo; n < hi; n++) {
                int off = n * C;
                FloatVector acc = FloatVector.zero(S);
                int c = 0;
                for (; c < e; c += VL) acc = acc.add(FloatVector.fromArray(S, x, off + c));
                double sum = sumLanes(acc);
                for (; c < C; c++) sum += x[off + c];
                float m = (float) (sum / C);
                acc = FloatVector.zero(S);
                c = 0;
                for (; c < e; c += VL) {
                    FloatVector d = FloatVector.fromArray(S, x, off + c).sub(m);
                    acc = d.fma(d, acc);
                }
                double var = sumLanes(acc);
                for (; c < C; c++) {
                    float d = x[off + c] - m;
                    var += d * d;
                }
                float s = (float) (1.0 / Math.sqrt(var / C + eps));
                c = 0;
                for (; c < e; c += VL) {
                    FloatVector norm = FloatVector.fromArray(S, x, off + c).sub(m).mul(s);
                    norm.fma(FloatVector.fromArray(S, weight, c), FloatVector.fromArray(S, bias, c)).intoArray(out, off + c);
                }
                for (; c < C; c++) out[off + c] = (x[off + c] - m) * s * weight[c] + bias[c];
                if (mean != null) mean[n] = m;
                if (rstd != null) rstd[n] = s;
            }
        });
    }

    /**
     * LayerNorm backward (see {@link Kernels#layerNormBackward}) in one pass over row chunks ({@link RowChunks}): per
     * row, the two row sums for dX, then dX, and the dWeight/dBias column sums into per-chunk partials as in
     * {@link #addColumnSums}, added up in chunk order at the end.
     */
    static void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                  float[] rstd, float[] weight, int N, int C) {
        layerNormBackward(dX, dWeight, dBias, dOut, x, mean, rstd, weight, N, C, false);
    }

    /** As above; with {@code overwrite} dX is written, not added to (its old contents are never read). */
    static void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                  float[] rstd, float[] weight, int N, int C, boolean overwrite) {
        boolean sums = dWeight != null || dBias != null;
        if (N <= 0 || C <= 0 || (dX == null && !sums)) return;
        RowChunks rc = RowChunks.of(N, C);
        double[] part = sums ? new double[rc.chunks() * 2 * C] : null;   // part: (chunks, 2, C): Σ norm⊙dOut, Σ dOut
        Parallel.parallelFor(rc.chunks(), ch -> {
            int lo = rc.lo(ch), hi = rc.hi(ch, N);
            float[] acc = sums ? new float[2 * C] : null;                  // acc: (2, C), float sums over ≤ FLUSH rows
            for (int n = lo; n < hi; n++) {
                if (dX != null) layerNormDx(dX, dOut, x, mean[n], rstd[n], weight, n * C, C, overwrite);
                if (sums) {
                    layerNormColumnTerms(acc, dOut, x, mean[n], rstd[n], n * C, C);
                    if ((n - lo + 1) % FLUSH == 0 || n == hi - 1) flush(part, ch * 2 * C, acc, 2 * C);
                }
            }
        });
        if (dWeight != null) combine(dWeight, part, rc.chunks(), C, 0);
        if (dBias != null) combine(dBias, part, rc.chunks(), C, C);
    }

    /**
     * One row of LayerNorm's dX (row at off, length C): {@code dX (+)= rstd·(dnorm − mean(dnorm) − norm·mean(dnorm⊙norm))}
     * (written when {@code overwrite}, else added)
     * with {@code norm = (x − m)·s}, {@code dnorm = weight⊙dOut}. A loop of its own (not behind a branch shared with
     * the column sums), so each is compiled for the one case it serves.
     */
    private static void layerNormDx(float[] dX, float[] dOut, float[] x, float m, float s, float[] weight, int off, int C,
                                    boolean overwrite) {
        int e = S.loopBound(C);
        // forward was: out = norm·weight + bias, norm = (x − mean)·rstd
        FloatVector aD = FloatVector.zero(S), aDN = FloatVector.zero(S);
        int c = 0;
        for (; c < e; c += VL) {
            FloatVector norm = FloatVector.fromArray(S, x, off + c).sub(m).mul(s);
            FloatVector dnorm = FloatVector.fromArray(S, weight, c).mul(FloatVector.fromArray(S, dOut, off + c));
            aD = aD.add(dnorm);
            aDN = dnorm.fma(norm, aDN);
        }
        double sD = sumLanes(aD), sDN = sumLanes(aDN);
        for (; c < C; c++) {
            float norm = (x[off + c] - m) * s, dnorm = weight[c] * dOut[off + c];
            sD += dnorm;
            sDN += dnorm * norm;
        }
        float meanD = (float) (sD / C), meanDN = (float) (sDN / C);
        c = 0;
        for (; c < e; c += VL) {
            FloatVector norm = FloatVector.fromArray(S, x, off + c).sub(m).mul(s);
            FloatVector dnorm = FloatVector.fromArray(S, weight, c).mul(FloatVector.fromArray(S, dOut, off + c));
            FloatVector g = dnorm.sub(meanD).sub(norm.mul(meanDN)).mul(s);
            if (overwrite) g.intoArray(dX, off + c);
            else FloatVector.fromArray(S, dX, off + c).add(g).intoArray(dX, off + c);
        }
        for (; c < C; c++) {
            float norm = (x[off + c] - m) * s, dnorm = weight[c] * dOut[off + c];
            float g = s * (dnorm - meanD - norm * meanDN);
            dX[off + c] = overwrite ? g : dX[off + c] + g;
        }
    }

    /** {@code acc[c] += norm[c]·dOut[c]; acc[C + c] += dOut[c]} for one row (at off, length C). acc: (2, C). */
    private static void layerNormColumnTerms(float[] acc, float[] dOut, float[] x, float m, float s, int off, int C) {
        int e = S.loopBound(C), c = 0;
        for (; c < e; c += VL) {
            FloatVector dy = FloatVector.fromArray(S, dOut, off + c);
            FloatVector.fromArray(S, x, off + c).sub(m).mul(s).fma(dy, FloatVector.fromArray(S, acc, c)).intoArray(acc, c);
            dy.add(FloatVector.fromArray(S, acc, C + c)).intoArray(acc, C + c);
        }
        for (; c < C; c++) {
            float dy = dOut[off + c];
            acc[c] = Math.fma((x[off + c] - m) * s, dy, acc[c]);
            acc[C + c] += dy;
        }
    }
}

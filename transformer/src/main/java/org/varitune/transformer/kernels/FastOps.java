package org.varitune.transformer.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops of the fast backend that are not matrix products: elementwise adds, column sums and LayerNorm.
 * Each loop runs whole vectors and then a scalar tail; rows are spread over {@link Parallel}. Formulas are those of
 * {@link CpuKernels}; sums run in float vectors (row statistics) or in double (column sums over rows).
 */
final class FastOps {
    private FastOps() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FH =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    private static final int DL = DS.length();

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

    /** {@code dst[c] += Σ_n a[n, c]}, summed in double. a: (N, C), dst: (C). Parallel over column blocks. */
    static void addColumnSums(float[] dst, float[] a, int N, int C) {
        columnReduce(C, N, (c0, c1) -> {
            double[] acc = new double[c1 - c0];
            for (int n = 0; n < N; n++) accumulate(acc, a, n * C + c0, c1 - c0);
            for (int c = c0; c < c1; c++) dst[c] += (float) acc[c - c0];
        });
    }

    /** {@code acc[i] += src[sOff + i]} for i < n, widening float lanes to double lanes. */
    static void accumulate(double[] acc, float[] src, int sOff, int n) {
        int i = 0;
        for (int e = FH.loopBound(n); i < e; i += DL) {
            DoubleVector v = (DoubleVector) FloatVector.fromArray(FH, src, sOff + i).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector.fromArray(DS, acc, i).add(v).intoArray(acc, i);
        }
        for (; i < n; i++) acc[i] += src[sOff + i];
    }

    /** Runs body over column blocks of about 4 vectors covering [0, C), in parallel when there are enough rows. */
    private static void columnReduce(int C, int N, Parallel.RangeBody body) {
        int block = 4 * VL;
        int blocks = Parallel.ceilDiv(C, block);
        if ((long) C * N < (1 << 15)) {
            body.run(0, C);
            return;
        }
        Parallel.parallelFor(blocks, i -> body.run(i * block, Math.min(C, (i + 1) * block)));
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

    static void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                  float[] rstd, float[] weight, int N, int C) {
        if (dX != null) {
            Parallel.parallelForRange(N, rowsPerChunk(C), (lo, hi) -> {
                int e = S.loopBound(C);
                for (int n = lo; n < hi; n++) {
                    int off = n * C;
                    float m = mean[n], s = rstd[n];
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
                    // dX += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm⊙norm))
                    c = 0;
                    for (; c < e; c += VL) {
                        FloatVector norm = FloatVector.fromArray(S, x, off + c).sub(m).mul(s);
                        FloatVector dnorm = FloatVector.fromArray(S, weight, c).mul(FloatVector.fromArray(S, dOut, off + c));
                        FloatVector g = dnorm.sub(meanD).sub(norm.mul(meanDN)).mul(s);
                        FloatVector.fromArray(S, dX, off + c).add(g).intoArray(dX, off + c);
                    }
                    for (; c < C; c++) {
                        float norm = (x[off + c] - m) * s, dnorm = weight[c] * dOut[off + c];
                        dX[off + c] += s * (dnorm - meanD - norm * meanDN);
                    }
                }
            });
        }
        if (dBias != null) addColumnSums(dBias, dOut, N, C);
        if (dWeight != null) {
            // dWeight[c] += Σ_n norm[n, c]·dOut[n, c]
            columnReduce(C, N, (c0, c1) -> {
                int w = c1 - c0;
                double[] acc = new double[w];
                float[] prod = new float[w];
                int e = S.loopBound(w);
                for (int n = 0; n < N; n++) {
                    int off = n * C + c0;
                    float m = mean[n], s = rstd[n];
                    int c = 0;
                    for (; c < e; c += VL) {
                        FloatVector.fromArray(S, x, off + c).sub(m).mul(s).mul(FloatVector.fromArray(S, dOut, off + c))
                                .intoArray(prod, c);
                    }
                    for (; c < w; c++) prod[c] = (x[off + c] - m) * s * dOut[off + c];
                    accumulate(acc, prod, 0, w);
                }
                for (int c = c0; c < c1; c++) dWeight[c] += (float) acc[c - c0];
            });
        }
    }
}

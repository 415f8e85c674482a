package org.varitune.metrics;

/**
 * The ratio from stored pooled vectors with integer multiplicities (a bootstrap replicate or a subsample), by the
 * two-pass route: weighted class means, then {@code u ᵀ Sw u} evaluated directly as a weighted sum of squared
 * projections, so the cost is O(n d C) and no d × d matrix is formed.
 */
final class SampleRatio {
    private SampleRatio() {}

    /** {@link #compute(float[][], int[][], int, Variant, double, double[][])} computing the squared norms. */
    static RatioMath.Parts compute(float[][] vectors, int[][] weights, int d, Variant v, double relTol) {
        return compute(vectors, weights, d, v, relTol, squaredNorms(vectors, d));
    }

    /** {@code |h_k|²} of every stored vector: (C) arrays of (n_y). */
    static double[][] squaredNorms(float[][] vectors, int d) {
        double[][] out = new double[vectors.length][];
        for (int y = 0; y < vectors.length; y++) {
            int ny = vectors[y].length / d;
            out[y] = new double[ny];
            for (int k = 0; k < ny; k++) out[y][k] = dot(vectors[y], k * d, vectors[y], k * d, d);
        }
        return out;
    }

    /**
     * @param vectors      (C) arrays of (n_y, d); not modified
     * @param weights      (C) arrays of (n_y) multiplicities ≥ 0, or null for all 1; not modified
     * @param squaredNorms {@link #squaredNorms} of vectors (a resampling loop computes them once); not modified
     */
    static RatioMath.Parts compute(float[][] vectors, int[][] weights, int d, Variant v, double relTol, double[][] squaredNorms) {
        int C = vectors.length;
        double[] means = new double[C * d];
        double[] n = new double[C];
        double total = 0;
        for (int y = 0; y < C; y++) {
            int ny = vectors[y].length / d;
            for (int k = 0; k < ny; k++) {
                int w = weights == null ? 1 : weights[y][k];
                if (w == 0) continue;
                n[y] += w;
                for (int i = 0; i < d; i++) means[y * d + i] += w * (double) vectors[y][k * d + i];
            }
            if (n[y] == 0) throw new IllegalArgumentException("class " + y + " has no examples in the sample");
            for (int i = 0; i < d; i++) means[y * d + i] /= n[y];
            total += n[y];
        }
        double meanSquareNorm = 0;        // (1/C) Σ_y (1/n_y) Σ_k w_k |h_k|², the scale of the zero test of Sb
        for (int y = 0; y < C; y++) {
            int ny = vectors[y].length / d;
            double s = 0;
            for (int k = 0; k < ny; k++) {
                int w = weights == null ? 1 : weights[y][k];
                if (w == 0) continue;
                s += w * squaredNorms[y][k];
            }
            meanSquareNorm += s / (n[y] * C);
        }
        double[] center = new double[d];
        for (int y = 0; y < C; y++) {
            double cw = v == Variant.PAPER_CLASS_BALANCED ? 1.0 / C : n[y] / total;
            for (int i = 0; i < d; i++) center[i] += cw * means[y * d + i];
        }
        final double tot = total;
        RatioMath.QuadraticForm sw = u -> {
            double q = 0;
            for (int y = 0; y < C; y++) {
                double mu = 0;
                for (int i = 0; i < d; i++) mu += u[i] * means[y * d + i];
                int ny = vectors[y].length / d;
                double s = 0;
                for (int k = 0; k < ny; k++) {
                    int w = weights == null ? 1 : weights[y][k];
                    if (w == 0) continue;
                    double p = dot(u, vectors[y], k * d, d);
                    s += w * (p - mu) * (p - mu);
                }
                q += v == Variant.PAPER_CLASS_BALANCED ? s / (C * n[y]) : s / tot;
            }
            return q;
        };
        return RatioMath.ratio(means, center, C, d, sw, relTol, meanSquareNorm);
    }

    /** Σ_i u[i] x[off + i] with four partial sums (independent add chains: about 4× a single chain). */
    static double dot(double[] u, float[] x, int off, int d) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= d; i += 4) {
            s0 += u[i] * x[off + i];
            s1 += u[i + 1] * x[off + i + 1];
            s2 += u[i + 2] * x[off + i + 2];
            s3 += u[i + 3] * x[off + i + 3];
        }
        for (; i < d; i++) s0 += u[i] * x[off + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** Σ_i a[ao + i] b[bo + i] in double with four partial sums. */
    static double dot(float[] a, int ao, float[] b, int bo, int d) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= d; i += 4) {
            s0 += (double) a[ao + i] * b[bo + i];
            s1 += (double) a[ao + i + 1] * b[bo + i + 1];
            s2 += (double) a[ao + i + 2] * b[bo + i + 2];
            s3 += (double) a[ao + i + 3] * b[bo + i + 3];
        }
        for (; i < d; i++) s0 += (double) a[ao + i] * b[bo + i];
        return (s0 + s1) + (s2 + s3);
    }
}

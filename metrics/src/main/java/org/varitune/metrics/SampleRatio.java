package org.varitune.metrics;

/**
 * The ratio from stored pooled vectors with integer multiplicities (a bootstrap replicate or a subsample), by the
 * two-pass route: weighted class means, then {@code u ᵀ Sw u} evaluated directly as a weighted sum of squared
 * projections, so the cost is O(n d C) and no d × d matrix is formed.
 */
final class SampleRatio {
    private SampleRatio() {}

    /**
     * @param vectors (C) arrays of (n_y, d); not modified
     * @param weights (C) arrays of (n_y) multiplicities ≥ 0, or null for all 1; not modified
     */
    static RatioMath.Parts compute(float[][] vectors, int[][] weights, int d, Variant v, double relTol) {
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
                double q = 0;
                for (int i = 0; i < d; i++) q += (double) vectors[y][k * d + i] * vectors[y][k * d + i];
                s += w * q;
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
                    double p = 0;
                    for (int i = 0; i < d; i++) p += u[i] * vectors[y][k * d + i];
                    s += w * (p - mu) * (p - mu);
                }
                q += v == Variant.PAPER_CLASS_BALANCED ? s / (C * n[y]) : s / tot;
            }
            return q;
        };
        return RatioMath.ratio(means, center, C, d, sw, relTol, meanSquareNorm);
    }
}

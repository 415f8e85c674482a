package org.varitune.transformer.reference;

/**
 * Double-precision oracle of LayerNorm over the last axis: {@code out = (x − mean)/sqrt(var + eps)·weight + bias},
 * population variance, two-pass. Backward differentiates the forward directly (no saved-statistics shortcut beyond
 * mean and rstd), with the Kernels conventions.
 */
public final class LayerNormRef {
    private LayerNormRef() {}

    /** out: (N, C) overwritten; mean, rstd: (N) overwritten or null. x: (N, C)  weight, bias: (C). */
    public static void forward(double[] out, double[] mean, double[] rstd, double[] x, double[] weight, double[] bias,
                               int N, int C, double eps) {
        for (int n = 0; n < N; n++) {
            double m = 0;
            for (int c = 0; c < C; c++) m += x[n * C + c];
            m /= C;
            double v = 0;
            for (int c = 0; c < C; c++) v += (x[n * C + c] - m) * (x[n * C + c] - m);
            v /= C;
            double s = 1 / Math.sqrt(v + eps);
            for (int c = 0; c < C; c++) out[n * C + c] = (x[n * C + c] - m) * s * weight[c] + bias[c];
            if (mean != null) mean[n] = m;
            if (rstd != null) rstd[n] = s;
        }
    }

    /** dX: (N, C), dWeight, dBias: (C), each accumulated or null; mean, rstd from {@link #forward}. */
    public static void backward(double[] dX, double[] dWeight, double[] dBias, double[] dOut, double[] x,
                                double[] mean, double[] rstd, double[] weight, int N, int C) {
        for (int n = 0; n < N; n++) {
            double m = mean[n], s = rstd[n];
            // forward was: out[c] = norm[c]·weight[c] + bias[c], norm[c] = (x[c] − m)·s
            // dnorm[c] = dOut[c]·weight[c];  ∂norm[c]/∂x[j] = s·(δcj − 1/C) − norm[c]·norm[j]·s/C
            double sumD = 0, sumDN = 0;
            for (int c = 0; c < C; c++) {
                double norm = (x[n * C + c] - m) * s;
                double dnorm = dOut[n * C + c] * weight[c];
                sumD += dnorm;
                sumDN += dnorm * norm;
                if (dWeight != null) dWeight[c] += dOut[n * C + c] * norm;
                if (dBias != null) dBias[c] += dOut[n * C + c];
            }
            if (dX == null) continue;
            for (int j = 0; j < C; j++) {
                double normJ = (x[n * C + j] - m) * s;
                dX[n * C + j] += s * (dOut[n * C + j] * weight[j] - sumD / C - normJ * sumDN / C);
            }
        }
    }
}

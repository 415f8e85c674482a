package org.varitune.transformer.reference;

/**
 * Double-precision oracle of the Linear {@code out = x·Wᵀ + b}: naive loops, forward and backward, with the
 * {@link org.varitune.transformer.kernels.Kernels} conventions (forward overwrites; backward adds; null skips).
 */
public final class MatmulRef {
    private MatmulRef() {}

    /** out: (N, OC), overwritten. x: (N, IC)  weight: (OC, IC)  bias: (OC) or null. */
    public static void forward(double[] out, double[] x, double[] weight, double[] bias, int N, int IC, int OC) {
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double acc = bias == null ? 0 : bias[o];
                for (int i = 0; i < IC; i++) acc += x[n * IC + i] * weight[o * IC + i];
                out[n * OC + o] = acc;
            }
        }
    }

    /** dX: (N, IC), dWeight: (OC, IC), dBias: (OC), each accumulated or null. dOut: (N, OC). */
    public static void backward(double[] dX, double[] dWeight, double[] dBias, double[] dOut, double[] x,
                                double[] weight, int N, int IC, int OC) {
        // forward was: out[n, o] = bias[o] + Σ_i x[n, i]·weight[o, i]
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double d = dOut[n * OC + o];
                if (dBias != null) dBias[o] += d;
                for (int i = 0; i < IC; i++) {
                    if (dX != null) dX[n * IC + i] += d * weight[o * IC + i];
                    if (dWeight != null) dWeight[o * IC + i] += d * x[n * IC + i];
                }
            }
        }
    }
}

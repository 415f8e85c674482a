package org.varitune.transformer.reference;

import org.varitune.transformer.kernels.MathUtil;

/**
 * Double-precision oracle of the exact GELU {@code 0.5·x·(1 + erf(x/√2))}, written as {@code x·Φ(x)} with
 * {@code Φ(x) = 0.5·erfc(−x/√2)} on {@link MathUtil#erfc} (no cancellation for negative x).
 */
public final class GeluRef {
    private GeluRef() {}

    /** out: (n), overwritten. */
    public static void forward(double[] out, double[] x, int n) {
        for (int i = 0; i < n; i++) out[i] = x[i] * 0.5 * MathUtil.erfc(-x[i] / Math.sqrt(2));
    }

    /** dX: (n), accumulated: {@code dX += dOut·(Φ(x) + x·φ(x))}. */
    public static void backward(double[] dX, double[] x, double[] dOut, int n) {
        for (int i = 0; i < n; i++) {
            double cdf = 0.5 * MathUtil.erfc(-x[i] / Math.sqrt(2));
            double pdf = Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
            dX[i] += dOut[i] * (cdf + x[i] * pdf);
        }
    }
}

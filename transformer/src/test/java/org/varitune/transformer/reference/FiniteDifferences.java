package org.varitune.transformer.reference;

import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Central finite differences in double: {@code n = (L(x + h·e_i) − L(x − h·e_i))/(2h)} against an analytic gradient
 * {@code a}, with the relative error {@code |a − n| / max(|a| + |n|, floor)}. The loss must read {@code x} live
 * (the array is perturbed in place and restored).
 */
public final class FiniteDifferences {
    private FiniteDifferences() {}

    /** The floor of the denominator: where both gradients are below it the error is absolute (|a − n|/floor). */
    public static final double FLOOR = 1e-8;

    /** Loss {@code Σ out·R}: the weighted sum with fixed random weights R (never all ones). */
    public static double dot(double[] out, double[] r) {
        double s = 0;
        for (int i = 0; i < out.length; i++) s += out[i] * r[i];
        return s;
    }

    /**
     * Checks {@code analytic} against central differences of {@code loss} w.r.t. {@code x} at {@code indices} (all
     * when null) and fails naming the label, the index, both values and the error when one exceeds {@code tol}.
     * Returns the largest error seen.
     */
    public static double check(String label, double[] x, double[] analytic, DoubleSupplier loss, int[] indices,
                               double h, double tol) {
        if (analytic.length != x.length) fail(label + ": gradient has " + analytic.length + " entries, input " + x.length);
        double worst = 0;
        int count = indices == null ? x.length : indices.length;
        for (int j = 0; j < count; j++) {
            int i = indices == null ? j : indices[j];
            double saved = x[i];
            x[i] = saved + h;
            double plus = loss.getAsDouble();
            x[i] = saved - h;
            double minus = loss.getAsDouble();
            x[i] = saved;
            double n = (plus - minus) / (2 * h), a = analytic[i];
            double err = Math.abs(a - n) / Math.max(Math.abs(a) + Math.abs(n), FLOOR);
            if (err > tol) {
                fail(String.format("%s[%d]: analytic %.12e vs central difference %.12e, relative error %.3e > %.1e",
                        label, i, a, n, err, tol));
            }
            worst = Math.max(worst, err);
        }
        return worst;
    }

    /** Up to {@code k} distinct indices in [0, n), all of them when n <= k, drawn with {@code rand}. */
    public static int[] sample(int n, int k, java.util.Random rand) {
        if (n <= k) {
            int[] all = new int[n];
            for (int i = 0; i < n; i++) all[i] = i;
            return all;
        }
        java.util.LinkedHashSet<Integer> s = new java.util.LinkedHashSet<>();
        while (s.size() < k) s.add(rand.nextInt(n));
        return s.stream().mapToInt(Integer::intValue).toArray();
    }
}

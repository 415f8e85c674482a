package org.varitune.transformer.testing;

import org.varitune.transformer.tensor.Shapes;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares a tensor with its expected value by the normalised error {@code max|a − e| / max|e|} (llm.c
 * {@code check_tensor}). A failure names the tensor, the shape-decoded index of the worst element, and the first five
 * offending pairs. NaN or infinity in either array always fails.
 */
public final class AllClose {
    private AllClose() {}

    public static double assertAllClose(String label, float[] actual, double[] expected, double tol, int... shape) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        return assertAllClose(label, a, expected, tol, shape);
    }

    public static double assertAllClose(String label, float[] actual, float[] expected, double tol, int... shape) {
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        return assertAllClose(label, actual, e, tol, shape);
    }

    /**
     * @param shape optional shape for decoding indices in messages; empty means flat indices
     * @return the observed normalised error, for tests that record it
     */
    public static double assertAllClose(String label, double[] actual, double[] expected, double tol, int... shape) {
        if (actual.length != expected.length) {
            fail(label + ": length " + actual.length + " != expected " + expected.length);
        }
        double maxE = 0, maxDiff = 0;
        int worst = -1;
        for (int i = 0; i < actual.length; i++) {
            if (!Double.isFinite(actual[i]) || !Double.isFinite(expected[i])) {
                fail(label + ": non-finite value at " + where(i, shape) + ": actual " + actual[i] + ", expected "
                        + expected[i]);
            }
            maxE = Math.max(maxE, Math.abs(expected[i]));
            double d = Math.abs(actual[i] - expected[i]);
            if (d > maxDiff) { maxDiff = d; worst = i; }
        }
        double err = maxE == 0 ? maxDiff : maxDiff / maxE;
        ErrorLog.record(label, err, tol);
        if (err > tol) {
            StringBuilder sb = new StringBuilder();
            sb.append(label).append(": max|a-e|/max|e| = ").append(String.format("%.3e", err)).append(" > tol ")
                    .append(String.format("%.1e", tol)).append("; worst at ").append(where(worst, shape))
                    .append(" actual ").append(actual[worst]).append(" expected ").append(expected[worst])
                    .append("; max|e| = ").append(String.format("%.4e", maxE)).append("; first offenders:");
            int shown = 0;
            double threshold = tol * (maxE == 0 ? 1 : maxE);
            for (int i = 0; i < actual.length && shown < 5; i++) {
                if (Math.abs(actual[i] - expected[i]) > threshold) {
                    sb.append(' ').append(where(i, shape)).append(" a=").append(actual[i]).append(" e=")
                            .append(expected[i]).append(';');
                    shown++;
                }
            }
            fail(sb.toString());
        }
        return err;
    }

    private static String where(int i, int[] shape) {
        return shape.length == 0 ? "[" + i + "]" : Shapes.decode(i, shape);
    }
}

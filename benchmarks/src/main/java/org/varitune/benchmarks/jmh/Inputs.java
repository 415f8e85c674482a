package org.varitune.benchmarks.jmh;

import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.FastCpuKernels;
import org.varitune.transformer.kernels.Kernels;

import java.util.Random;

/** What the JMH benchmarks share: the backend named by their {@code kernels} parameter, random inputs, shape parsing. */
final class Inputs {
    private Inputs() {}

    /** {@code fast} (OpenBLAS where it loads, else the Vector API), {@code vector} (Vector API only), {@code cpu} (scalar). */
    static Kernels kernels(String name) {
        return switch (name) {
            case "fast" -> FastCpuKernels.create();
            case "vector" -> FastCpuKernels.vectorOnly();
            case "cpu" -> new CpuKernels();
            default -> throw new IllegalArgumentException("kernels=" + name + ": expected fast, vector or cpu");
        };
    }

    /** n values uniform in [−2, 2), seeded. */
    static float[] uniform(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (4 * r.nextDouble() - 2);
        return a;
    }

    /** "AxB" as {A, B}; {@code what} names the parameter in the error. */
    static int[] pair(String what, String spec) {
        String[] p = spec.split("x");
        try {
            if (p.length == 2) return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + "=" + spec + ": expected two positive integers as AxB");
    }
}

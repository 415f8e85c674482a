package org.varitune.transformer.kernels;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Kernels} decorator that times every call (wall clock) and counts matmul FLOPs, for {@code bench --profile}.
 * Not thread-safe: one model on one calling thread.
 */
public final class ProfilingKernels implements Kernels {
    private final Kernels k;
    private final Map<String, long[]> stats = new TreeMap<>();   // name -> {calls, nanos}
    private double matmulFlops;

    public ProfilingKernels(Kernels delegate) { this.k = delegate; }

    private long t0() { return System.nanoTime(); }

    private void add(String op, long start) {
        long[] s = stats.computeIfAbsent(op, x -> new long[2]);
        s[0]++;
        s[1] += System.nanoTime() - start;
    }

    public void reset() { stats.clear(); matmulFlops = 0; }

    /** A table: op, calls, seconds, share of the total, and the matmuls' GFLOP/s. */
    public String report() {
        long total = stats.values().stream().mapToLong(s -> s[1]).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s %7s %9s %6s%n", "kernel", "calls", "seconds", "share"));
        for (var e : stats.entrySet()) {
            sb.append(String.format(Locale.ROOT, "%-26s %7d %9.4f %5.1f%%%n", e.getKey(), e.getValue()[0],
                    e.getValue()[1] / 1e9, 100.0 * e.getValue()[1] / Math.max(total, 1)));
        }
        long mm = stats.getOrDefault("matmulForward", new long[2])[1] + stats.getOrDefault("matmulBackward", new long[2])[1];
        sb.append(String.format(Locale.ROOT, "total %.4f s; matmuls %.1f GFLOP/s%n", total / 1e9, matmulFlops / Math.max(mm, 1)));
        return sb.toString();
    }

    @Override public String name() { return k.name() + "+profile"; }

    @Override public void matmulForward(float[] out, float[] x, float[] w, float[] b, int N, int IC, int OC) {
        long s = t0(); k.matmulForward(out, x, w, b, N, IC, OC); add("matmulForward", s);
        matmulFlops += 2.0 * N * IC * OC;
    }

    @Override public void matmulBackward(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x, float[] w,
                                         int N, int IC, int OC) {
        long s = t0(); k.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC); add("matmulBackward", s);
        matmulFlops += 2.0 * N * IC * OC * ((dX != null ? 1 : 0) + (dW != null ? 1 : 0));
    }

    @Override public void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                                           int N, int C, float eps) {
        long s = t0(); k.layerNormForward(out, mean, rstd, x, w, b, N, C, eps); add("layerNormForward", s);
    }

    @Override public void layerNormBackward(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x, float[] mean,
                                            float[] rstd, float[] w, int N, int C) {
        long s = t0(); k.layerNormBackward(dX, dW, dB, dOut, x, mean, rstd, w, N, C); add("layerNormBackward", s);
    }

    @Override public void geluForward(float[] out, float[] x, int n) {
        long s = t0(); k.geluForward(out, x, n); add("geluForward", s);
    }

    @Override public void geluBackward(float[] dX, float[] x, float[] dOut, int n) {
        long s = t0(); k.geluBackward(dX, x, dOut, n); add("geluBackward", s);
    }

    @Override public void attentionForward(float[] out, float[] att, float[] q, float[] kk, float[] v, int[] mask,
                                           int B, int T, int H, int D) {
        long s = t0(); k.attentionForward(out, att, q, kk, v, mask, B, T, H, D); add("attentionForward", s);
    }

    @Override public void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] kk,
                                            float[] v, float[] att, int B, int T, int H, int D) {
        long s = t0(); k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D); add("attentionBackward", s);
    }

    @Override public void attentionProbs(float[] att, float[] q, float[] kk, int[] mask, int B, int T, int H, int D) {
        long s = t0(); k.attentionProbs(att, q, kk, mask, B, T, H, D); add("attentionProbs", s);
    }

    @Override public void attentionValues(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        long s = t0(); k.attentionValues(out, att, v, B, T, H, D); add("attentionValues", s);
    }

    @Override public void attentionValuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                                                  int B, int T, int H, int D) {
        long s = t0(); k.attentionValuesBackward(dAtt, dV, dOut, att, v, B, T, H, D); add("attentionValuesBackward", s);
    }

    @Override public void attentionProbsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q,
                                                 float[] kk, int B, int T, int H, int D) {
        long s = t0(); k.attentionProbsBackward(dQ, dK, dAtt, att, q, kk, B, T, H, D); add("attentionProbsBackward", s);
    }

    @Override public void add(float[] out, float[] a, float[] b, int n) {
        long s = t0(); k.add(out, a, b, n); add("add", s);
    }
}

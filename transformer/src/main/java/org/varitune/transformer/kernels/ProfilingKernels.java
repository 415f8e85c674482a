package org.varitune.transformer.kernels;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link Kernels} decorator that times every call (wall clock) and counts matmul FLOPs, for {@code bench --profile};
 * the matmuls also per shape (in→out features; a backward that computes only dX or only dW says which).
 * Not thread-safe: one model on one calling thread.
 */
public final class ProfilingKernels implements Kernels {
    private final Kernels k;
    private final Map<String, double[]> stats = new TreeMap<>();   // name -> {calls, nanos, flops}
    private final Map<String, Map<String, double[]>> shapes = new TreeMap<>();   // matmul name -> "IC→OC" -> same

    public ProfilingKernels(Kernels delegate) { this.k = delegate; }

    private long t0() { return System.nanoTime(); }

    private void add(String op, long start) { add(op, start, 0); }

    private void add(String op, long start, double flops) { add(op, null, start, flops); }

    /** Adds one call to op's row and, when shape is non-null, to its per-shape row. */
    private void add(String op, String shape, long start, double flops) {
        long dt = System.nanoTime() - start;
        double[] s = stats.computeIfAbsent(op, x -> new double[3]);
        s[0]++;
        s[1] += dt;
        s[2] += flops;
        if (shape != null) {
            double[] t = shapes.computeIfAbsent(op, x -> new TreeMap<>()).computeIfAbsent(shape, x -> new double[3]);
            t[0]++;
            t[1] += dt;
            t[2] += flops;
        }
    }

    public void reset() {
        stats.clear();
        shapes.clear();
    }

    /** Seconds spent in the kernels since the last {@link #reset}. */
    public double kernelSeconds() { return stats.values().stream().mapToDouble(s -> s[1]).sum() / 1e9; }

    /** A table: op, calls, seconds, share of the kernels' total, GFLOP/s where the op's FLOPs are counted. */
    public String report() { return report(Double.NaN); }

    /**
     * {@link #report()} with shares of {@code wallSeconds} (the timed iterations' wall clock) instead, and a row
     * {@code (outside the kernels)} for the rest: dropout masks, embeddings, residual adds, pooling, the loss,
     * allocation, and whatever else runs between kernel calls. FLOPs: a matmul 2·N·IC·OC per product (backward: one
     * for dX, one for dW when asked); attention scores and values 2·B·H·T²·D each, their backward twice that.
     */
    public String report(double wallSeconds) {
        double kern = kernelSeconds();
        double total = Double.isNaN(wallSeconds) ? kern : wallSeconds;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s %7s %9s %6s %9s%n", "kernel", "calls",
                "seconds", "share", "GFLOP/s"));
        double flops = 0, flopSeconds = 0;
        for (var e : stats.entrySet()) {
            double[] v = e.getValue();
            double sec = v[1] / 1e9;
            row(sb, e.getKey(), v, total);
            for (var sh : shapes.getOrDefault(e.getKey(), Map.of()).entrySet()) row(sb, "  " + sh.getKey(), sh.getValue(), total);
            if (v[2] > 0) { flops += v[2]; flopSeconds += sec; }
        }
        if (!Double.isNaN(wallSeconds)) {
            sb.append(String.format(Locale.ROOT, "%-26s %7s %9.4f %5.1f%% %9s%n", "(outside the kernels)", "-",
                    wallSeconds - kern, 100 * (wallSeconds - kern) / Math.max(wallSeconds, 1e-12), "-"));
        }
        sb.append(String.format(Locale.ROOT, "kernels %.4f s of %.4f s; counted FLOPs %.3g at %.1f GFLOP/s in their kernels%n",
                kern, total, flops, flops / Math.max(flopSeconds, 1e-12) / 1e9));
        return sb.toString();
    }

    private static void row(StringBuilder sb, String label, double[] v, double total) {
        double sec = v[1] / 1e9;
        sb.append(String.format(Locale.ROOT, "%-26s %7d %9.4f %5.1f%% %9s%n", label, (long) v[0], sec,
                100 * sec / Math.max(total, 1e-12), v[2] > 0 ? String.format(Locale.ROOT, "%.1f", v[2] / sec / 1e9) : "-"));
    }

    @Override public String name() { return k.name() + "+profile"; }

    @Override public void matmulForward(float[] out, float[] x, float[] w, float[] b, int N, int IC, int OC) {
        long s = t0(); k.matmulForward(out, x, w, b, N, IC, OC); add("matmulForward", IC + "→" + OC, s, 2.0 * N * IC * OC);
    }

    @Override public void matmulBackward(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x, float[] w,
                                         int N, int IC, int OC) {
        long s = t0(); k.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC);
        add("matmulBackward", IC + "→" + OC + (dX == null ? " dW" : dW == null ? " dX" : ""), s,
                2.0 * N * IC * OC * ((dX != null ? 1 : 0) + (dW != null ? 1 : 0)));
    }

    @Override public void matmulBackwardInto(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x, float[] w,
                                             int N, int IC, int OC) {
        long s = t0(); k.matmulBackwardInto(dX, dW, dB, dOut, x, w, N, IC, OC);
        add("matmulBackward", IC + "→" + OC + (dW == null ? " dX" : ""), s, 2.0 * N * IC * OC * (dW != null ? 2 : 1));
    }

    @Override public void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] w, float[] b,
                                           int N, int C, float eps) {
        long s = t0(); k.layerNormForward(out, mean, rstd, x, w, b, N, C, eps); add("layerNormForward", s);
    }

    @Override public void layerNormBackward(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x, float[] mean,
                                            float[] rstd, float[] w, int N, int C) {
        long s = t0(); k.layerNormBackward(dX, dW, dB, dOut, x, mean, rstd, w, N, C); add("layerNormBackward", s);
    }

    @Override public void layerNormBackwardInto(float[] dX, float[] dW, float[] dB, float[] dOut, float[] x,
                                                float[] mean, float[] rstd, float[] w, int N, int C) {
        long s = t0(); k.layerNormBackwardInto(dX, dW, dB, dOut, x, mean, rstd, w, N, C); add("layerNormBackward", s);
    }

    @Override public void geluForward(float[] out, float[] x, int n) {
        long s = t0(); k.geluForward(out, x, n); add("geluForward", s);
    }

    @Override public void geluBackward(float[] dX, float[] x, float[] dOut, int n) {
        long s = t0(); k.geluBackward(dX, x, dOut, n); add("geluBackward", s);
    }

    @Override public void geluBackwardInto(float[] dX, float[] x, float[] dOut, int n) {
        long s = t0(); k.geluBackwardInto(dX, x, dOut, n); add("geluBackward", s);
    }

    @Override public void attentionForward(float[] out, float[] att, float[] q, float[] kk, float[] v, int[] mask,
                                           int B, int T, int H, int D) {
        long s = t0(); k.attentionForward(out, att, q, kk, v, mask, B, T, H, D); add("attentionForward", s, 4.0 * B * H * T * T * D);
    }

    @Override public void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] kk,
                                            float[] v, float[] att, int B, int T, int H, int D) {
        long s = t0(); k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D); add("attentionBackward", s, 8.0 * B * H * T * T * D);
    }

    @Override public void attentionForwardDropout(float[] out, float[] att, float[] q, float[] kk, float[] v, int[] mask,
                                                  long[] keepBits, float scale, int B, int T, int H, int D) {
        long s = t0(); k.attentionForwardDropout(out, att, q, kk, v, mask, keepBits, scale, B, T, H, D);
        add("attentionForwardDropout", s, 4.0 * B * H * T * T * D);
    }

    @Override public void attentionBackwardDropout(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] kk,
                                                   float[] v, float[] att, long[] keepBits, float scale, int B, int T,
                                                   int H, int D) {
        long s = t0(); k.attentionBackwardDropout(dQ, dK, dV, dOut, q, kk, v, att, keepBits, scale, B, T, H, D);
        add("attentionBackwardDropout", s, 8.0 * B * H * T * T * D);
    }

    @Override public void attentionProbs(float[] att, float[] q, float[] kk, int[] mask, int B, int T, int H, int D) {
        long s = t0(); k.attentionProbs(att, q, kk, mask, B, T, H, D); add("attentionProbs", s, 2.0 * B * H * T * T * D);
    }

    @Override public void attentionValues(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        long s = t0(); k.attentionValues(out, att, v, B, T, H, D); add("attentionValues", s, 2.0 * B * H * T * T * D);
    }

    @Override public void attentionValuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                                                  int B, int T, int H, int D) {
        long s = t0(); k.attentionValuesBackward(dAtt, dV, dOut, att, v, B, T, H, D); add("attentionValuesBackward", s, 4.0 * B * H * T * T * D);
    }

    @Override public void attentionProbsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q,
                                                 float[] kk, int B, int T, int H, int D) {
        long s = t0(); k.attentionProbsBackward(dQ, dK, dAtt, att, q, kk, B, T, H, D); add("attentionProbsBackward", s, 4.0 * B * H * T * T * D);
    }

    @Override public void add(float[] out, float[] a, float[] b, int n) {
        long s = t0(); k.add(out, a, b, n); add("add", s);
    }
}

package org.varitune.transformer.kernels;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.presets.openblas_nolapack;

import java.util.Arrays;
import java.util.Random;

/**
 * A JMH-free harness (not a test; surefire does not run it): GFLOP/s of raw OpenBLAS {@code sgemm} on off-heap buffers
 * (no copies, OpenBLAS's own threads) against our {@code matmulForward}/{@code matmulBackward} at the encoder shapes,
 * in the same run, plus attention (fused and split), LayerNorm and GELU throughput. Warm-up first (at least 3 s per case), then the
 * median of the runs.
 * Run with the test classpath, e.g.
 * <pre>
 *   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE java --add-modules=jdk.incubator.vector \
 *       -cp transformer/target/classes:transformer/target/test-classes:$(deps) \
 *       org.varitune.transformer.kernels.KernelsBench [vector]
 * </pre>
 * With the argument {@code vector} it also times the pure-Java Vector API matmuls (slow; fewer runs).
 */
public final class KernelsBench {
    private KernelsBench() {}

    static final int N = 4096, RUNS = 5, WARMUP = 2;
    static final int[][] SHAPES = {{384, 384}, {384, 1536}, {1536, 384}, {768, 768}, {768, 3072}, {3072, 768}};

    interface Body { void run(); }

    /** Warm-up of at least {@code warmup} runs and 3 s (Vector API code is slow until C2 has compiled it). */
    static double medianMs(int warmup, int runs, Body b) {
        long until = System.nanoTime() + 3_000_000_000L;
        for (int i = 0; i < warmup || System.nanoTime() < until; i++) b.run();
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long s = System.nanoTime();
            b.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(t);
        return t[runs / 2];
    }

    static float[] rnd(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (4 * r.nextDouble() - 2);
        return a;
    }

    public static void main(String[] args) throws InterruptedException {
        boolean vector = args.length > 0 && args[0].equals("vector");
        int P = Parallel.threads();
        System.out.printf("threads %d, SIMD %d floats, OpenBLAS: %s%n", P, VectorGemm.VL,
                Blas.available() ? "loaded" : Blas.unavailableReason());
        Random r = new Random(1);
        Kernels blas = FastCpuKernels.create(), vec = FastCpuKernels.vectorOnly();
        System.out.println("matmul, N=4096, GFLOP/s (median of " + RUNS + "); backward = dX + dWeight + dBias");
        System.out.println("  IC    OC | raw sgemm | fwd  (ratio) | bwd  (ratio)" + (vector ? " | vector fwd  bwd" : ""));
        for (int[] s : SHAPES) {
            int IC = s[0], OC = s[1];
            float[] x = rnd(r, N * IC), w = rnd(r, OC * IC), b = rnd(r, OC), out = new float[N * OC];
            float[] dOut = rnd(r, N * OC), dX = new float[N * IC], dW = new float[OC * IC], dB = new float[OC];
            double flops = 2.0 * N * IC * OC;
            double raw = Double.NaN;
            if (Blas.available()) {
                try (FloatPointer px = new FloatPointer(x); FloatPointer pw = new FloatPointer(w); FloatPointer po = new FloatPointer(out)) {
                    // the best of OpenBLAS's own P threads and P single-threaded row tiles on our pool, both off-heap
                    double tiles = medianMs(WARMUP, RUNS, () -> Parallel.parallelTasks(P, t -> {
                        int r0 = N * t / P, r1 = N * (t + 1) / P;
                        Blas.sgemm(false, true, r1 - r0, OC, IC, 1f, px, (long) r0 * IC, IC, pw, 0, IC, 0f, po,
                                (long) r0 * OC, OC);
                    }));
                    openblas_nolapack.blas_set_num_threads(P);
                    double own = medianMs(WARMUP, RUNS, () ->
                            Blas.sgemm(false, true, N, OC, IC, 1f, px, 0, IC, pw, 0, IC, 0f, po, 0, OC));
                    openblas_nolapack.blas_set_num_threads(1);
                    raw = Math.min(tiles, own);
                }
                Thread.sleep(500);   // let OpenBLAS's spinning workers go to sleep before timing our pool
            }
            double fwd = medianMs(WARMUP, RUNS, () -> blas.matmulForward(out, x, w, b, N, IC, OC));
            double bwd = medianMs(WARMUP, RUNS, () -> blas.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC));
            String line = String.format("%5d %5d | %9.1f | %5.1f (%3.0f%%) | %5.1f (%3.0f%%)", IC, OC, flops / raw / 1e6,
                    flops / fwd / 1e6, 100 * raw / fwd, 2 * flops / bwd / 1e6, 100 * 2 * raw / bwd);
            if (vector) {
                double vf = medianMs(3, 3, () -> vec.matmulForward(out, x, w, b, N, IC, OC));
                double vb = medianMs(3, 3, () -> vec.matmulBackward(dX, dW, dB, dOut, x, w, N, IC, OC));
                line += String.format(" | %10.1f %5.1f", flops / vf / 1e6, 2 * flops / vb / 1e6);
            }
            System.out.println(line);
        }

        System.out.println("attention, B=32 T=128 (mask: last 28 positions of odd sequences padded), GFLOP/s and ms");
        for (int[] hd : new int[][] {{12, 32}, {12, 64}}) {
            int B = 32, T = 128, H = hd[0], D = hd[1], n = B * T * H * D;
            float[] q = rnd(r, n), k = rnd(r, n), v = rnd(r, n), o = new float[n], att = new float[B * H * T * T];
            float[] dO = rnd(r, n), dQ = new float[n], dK = new float[n], dV = new float[n];
            int[] mask = new int[B * T];
            for (int i = 0; i < mask.length; i++) mask[i] = (i / T) % 2 == 1 && i % T >= 100 ? 0 : 1;
            double f = 4.0 * B * H * T * T * D;
            double tf = medianMs(WARMUP, RUNS, () -> blas.attentionForward(o, att, q, k, v, mask, B, T, H, D));
            double tb = medianMs(WARMUP, RUNS, () -> blas.attentionBackward(dQ, dK, dV, dO, q, k, v, att, B, T, H, D));
            System.out.printf("  H=%d D=%d: forward %.1f GFLOP/s (%.1f ms), backward %.1f GFLOP/s (%.1f ms)%n", H, D,
                    f / tf / 1e6, tf, 2 * f / tb / 1e6, tb);
            // the split kernels (attention-probability dropout between the halves)
            float[] dAtt = new float[att.length];
            double tp = medianMs(WARMUP, RUNS, () -> blas.attentionProbs(att, q, k, mask, B, T, H, D));
            double tv = medianMs(WARMUP, RUNS, () -> blas.attentionValues(o, att, v, B, T, H, D));
            double tvb = medianMs(WARMUP, RUNS, () -> blas.attentionValuesBackward(dAtt, dV, dO, att, v, B, T, H, D));
            double tpb = medianMs(WARMUP, RUNS, () -> blas.attentionProbsBackward(dQ, dK, dAtt, att, q, k, B, T, H, D));
            System.out.printf("  H=%d D=%d split: forward %.1f GFLOP/s (probs %.1f + values %.1f ms), backward %.1f GFLOP/s"
                    + " (valuesBackward %.1f + probsBackward %.1f ms)%n", H, D, f / (tp + tv) / 1e6, tp, tv,
                    2 * f / (tvb + tpb) / 1e6, tvb, tpb);
        }

        int n = N * 1536, C = 768, rows = N;
        float[] x = rnd(r, n), y = new float[n], g = rnd(r, n), dx = new float[n];
        double tg = medianMs(WARMUP, RUNS, () -> blas.geluForward(y, x, n));
        double tgb = medianMs(WARMUP, RUNS, () -> blas.geluBackward(dx, x, g, n));
        System.out.printf("gelu on %d floats: forward %.2f ms (%.2f ns/elem), backward %.2f ms%n", n, tg, tg * 1e6 / n, tgb);
        float[] lx = rnd(r, rows * C), lw = rnd(r, C), lb = rnd(r, C), lo = new float[rows * C], m = new float[rows],
                rs = new float[rows], ldx = new float[rows * C], ldw = new float[C], ldb = new float[C];
        double tl = medianMs(WARMUP, RUNS, () -> blas.layerNormForward(lo, m, rs, lx, lw, lb, rows, C, 1e-12f));
        double tlb = medianMs(WARMUP, RUNS, () -> blas.layerNormBackward(ldx, ldw, ldb, lx, lx, m, rs, lw, rows, C));
        double tlx = medianMs(WARMUP, RUNS, () -> blas.layerNormBackward(ldx, null, null, lx, lx, m, rs, lw, rows, C));
        double tlw = medianMs(WARMUP, RUNS, () -> blas.layerNormBackward(null, ldw, ldb, lx, lx, m, rs, lw, rows, C));
        System.out.printf("layerNorm %dx%d: forward %.2f ms, backward %.2f ms (dX alone %.2f ms, dWeight + dBias alone"
                + " %.2f ms)%n", rows, C, tl, tlb, tlx, tlw);
    }
}

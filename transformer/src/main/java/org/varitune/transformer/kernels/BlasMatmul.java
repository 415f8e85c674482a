package org.varitune.transformer.kernels;

import org.bytedeco.javacpp.FloatPointer;

import java.nio.FloatBuffer;

/**
 * The Linear forward and backward on OpenBLAS (see {@link Blas} for the threading decisions): each {@link Parallel}
 * thread runs one single-threaded {@code sgemm} on its output tile (the pinned backward: on its rows of the N tokens,
 * for dX and for its part of dWeight's sum over tokens). Pinned ({@link NativeGemm}), the tiles are
 * computed straight from and into the Java arrays, gradients accumulated by OpenBLAS ({@code beta = 1}); copied, the
 * inputs are first copied into the calling thread's off-heap workspace in one parallel region, and each tile is
 * copied (or added) back. Same formulas as {@link CpuKernels#matmulForward} and {@link CpuKernels#matmulBackward};
 * sums run in float in OpenBLAS's order.
 */
final class BlasMatmul {
    private BlasMatmul() {}

    // workspace slots
    private static final int X = 0, W = 1, OUT = 2, DOUT = 3, DX = 4, DW = 5;
    private static final ThreadLocal<Blas.Workspace> WORKSPACE = ThreadLocal.withInitial(() -> new Blas.Workspace(6));
    /** Below this many multiply-adds a GEMM runs as one tile; above, one tile per thread. */
    static final long TILE_MIN_MACS = 1L << 18;
    /** The calling thread's partial dWeight sums of the pinned backward, one per task after the first, reused. */
    private static final ThreadLocal<Partials> PARTIALS = ThreadLocal.withInitial(Partials::new);

    private static final class Partials {
        float[][] bufs = new float[0][];

        /** At least {@code count} buffers of at least {@code size} floats each (contents undefined). */
        float[][] ensure(int count, int size) {
            if (bufs.length != count) bufs = java.util.Arrays.copyOf(bufs, count);
            for (int i = 0; i < count; i++) if (bufs[i] == null || bufs[i].length < size) bufs[i] = new float[size];
            return bufs;
        }
    }

    /** A 2-D cut of an (M, N) output into pm × pn tiles. */
    private record Grid(int pm, int pn) {
        int tiles() { return pm * pn; }
        int rowLo(int t, int M) { return (int) ((long) M * (t / pn) / pm); }
        int rowHi(int t, int M) { return (int) ((long) M * (t / pn + 1) / pm); }
        int colLo(int t, int N) { return (int) ((long) N * (t % pn) / pn); }
        int colHi(int t, int N) { return (int) ((long) N * (t % pn + 1) / pn); }
    }

    /** Squarest tiles (least packing per flop) among the pm·pn = P cuts, P = threads or 1 for small products. */
    private static Grid grid(int M, int N, int K) {
        int P = (long) M * N * K < TILE_MIN_MACS ? 1 : Parallel.threads();
        Grid best = new Grid(1, 1);
        long bestCost = Long.MAX_VALUE;
        for (int pm = 1; pm <= P; pm++) {
            if (P % pm != 0) continue;
            int pn = P / pm;
            if (pm > M || pn > N) continue;
            long cost = Parallel.ceilDiv(M, pm) + (long) Parallel.ceilDiv(N, pn);
            if (cost <= bestCost) {          // ties: more row tiles (for dWeight: split over OC, never over N)
                bestCost = cost;
                best = new Grid(pm, pn);
            }
        }
        return best;
    }

    static void forward(boolean pinned, float[] out, float[] x, float[] weight, float[] bias, int N, int IC, int OC) {
        // out: (N, OC)  x: (N, IC)  weight: (OC, IC)  bias: (OC)
        if (N == 0 || OC == 0) return;
        if (pinned) {
            Grid g = grid(N, OC, IC);
            Parallel.parallelTasks(g.tiles(), t -> {
                int r0 = g.rowLo(t, N), r1 = g.rowHi(t, N), c0 = g.colLo(t, OC), c1 = g.colHi(t, OC);
                if (r1 <= r0 || c1 <= c0) return;
                // out[r0:r1, c0:c1] = bias[c0:c1] + x[r0:r1, :]·weight[c0:c1, :]ᵀ: the bias is written first and
                // OpenBLAS adds the product to it (beta = 1), in place of its own zeroing pass for beta = 0
                if (bias != null) {
                    for (int r = r0; r < r1; r++) System.arraycopy(bias, c0, out, r * OC + c0, c1 - c0);
                }
                NativeGemm.sgemm(false, true, r1 - r0, c1 - c0, IC, 1f, x, r0 * IC, IC, weight, c0 * IC, IC,
                        bias != null ? 1f : 0f, out, r0 * OC + c0, OC);
            });
            return;
        }
        Blas.Workspace ws = WORKSPACE.get();
        FloatPointer px = ws.ensure(X, (long) N * IC), pw = ws.ensure(W, (long) OC * IC), po = ws.ensure(OUT, (long) N * OC);
        copyIn(ws, X, x, N, IC, W, weight, OC, IC, -1, null, 0, 0);
        Grid g = grid(N, OC, IC);
        FloatBuffer bo = ws.buf(OUT);
        Parallel.parallelTasks(g.tiles(), t -> {
            int r0 = g.rowLo(t, N), r1 = g.rowHi(t, N), c0 = g.colLo(t, OC), c1 = g.colHi(t, OC);
            if (r1 <= r0 || c1 <= c0) return;
            // out[r0:r1, c0:c1] = x[r0:r1, :]·weight[c0:c1, :]ᵀ
            Blas.sgemm(false, true, r1 - r0, c1 - c0, IC, 1f, px, (long) r0 * IC, IC, pw, (long) c0 * IC, IC,
                    0f, po, (long) r0 * OC + c0, OC);
            for (int r = r0; r < r1; r++) {
                int o = r * OC + c0;
                bo.get(o, out, o, c1 - c0);
                if (bias != null) FastOps.addInPlace(out, o, bias, c0, c1 - c0);
            }
        });
    }

    /** dX += dOut·weight, or {@code dX = dOut·weight} when {@code overwriteDX} (pinned only); dWeight, dBias added to. */
    static void backward(boolean pinned, float[] dX, boolean overwriteDX, float[] dWeight, float[] dBias, float[] dOut,
                         float[] x, float[] weight, int N, int IC, int OC) {
        if (overwriteDX && !pinned) throw new IllegalArgumentException("overwriteDX needs the pinned path");
        if (dBias != null) FastOps.addColumnSums(dBias, dOut, N, OC);
        if (overwriteDX && dX != null && OC == 0) java.util.Arrays.fill(dX, 0, N * IC, 0f);   // an empty sum
        if (N == 0 || IC == 0 || OC == 0 || (dX == null && dWeight == null)) return;
        if (pinned) {
            // One task per thread, each on its own rows [n0, n1) of the N tokens: dX's rows, and dWeight's sum over
            // those rows (a cut of the k dimension), so no two threads pack the same operand (cut over OC, every
            // thread packed all of x: N × IC, the whole cost at IC = OC = 384). Task 0 adds its part straight into
            // dWeight; task t > 0 writes its own partial sum, added to dWeight afterwards in t order (deterministic).
            int P = (long) N * IC * OC < TILE_MIN_MACS ? 1 : Math.min(Parallel.threads(), N);
            float[][] partials = dWeight != null && P > 1 ? PARTIALS.get().ensure(P - 1, OC * IC) : null;
            Parallel.parallelTasks(P, t -> {
                int n0 = (int) ((long) N * t / P), n1 = (int) ((long) N * (t + 1) / P);
                if (n1 <= n0) return;
                // dX[n0:n1, :] (+)= dOut[n0:n1, :]·weight
                if (dX != null) {
                    NativeGemm.sgemm(false, false, n1 - n0, IC, OC, 1f, dOut, n0 * OC, OC, weight, 0, IC,
                            overwriteDX ? 0f : 1f, dX, n0 * IC, IC);
                }
                // dWeight (t = 0) or partials[t − 1] (t > 0, overwritten) += dOut[n0:n1, :]ᵀ·x[n0:n1, :]
                if (dWeight != null) {
                    NativeGemm.sgemm(true, false, OC, IC, n1 - n0, 1f, dOut, n0 * OC, OC, x, n0 * IC, IC,
                            t == 0 ? 1f : 0f, t == 0 ? dWeight : partials[t - 1], 0, IC);
                }
            });
            if (partials != null) {
                // dWeight += partials[0] + … + partials[P − 2], one partial after the other
                Parallel.parallelForRange(OC, Math.max(1, (1 << 14) / IC), (lo, hi) -> {
                    for (float[] part : partials) FastOps.addInPlace(dWeight, lo * IC, part, lo * IC, (hi - lo) * IC);
                });
            }
            return;
        }
        Blas.Workspace ws = WORKSPACE.get();
        FloatPointer pdo = ws.ensure(DOUT, (long) N * OC);
        FloatPointer px = dWeight != null ? ws.ensure(X, (long) N * IC) : null;
        FloatPointer pw = dX != null ? ws.ensure(W, (long) OC * IC) : null;
        FloatPointer pdx = dX != null ? ws.ensure(DX, (long) N * IC) : null;
        FloatPointer pdw = dWeight != null ? ws.ensure(DW, (long) OC * IC) : null;
        copyIn(ws, DOUT, dOut, N, OC, X, dWeight != null ? x : null, N, IC, W, dX != null ? weight : null, OC, IC);
        Grid gx = dX != null ? grid(N, IC, OC) : new Grid(0, 0);
        Grid gw = dWeight != null ? grid(OC, IC, N) : new Grid(0, 0);
        FloatBuffer bdx = ws.buf(DX), bdw = ws.buf(DW);
        Parallel.parallelTasks(gx.tiles() + gw.tiles(), t -> {
            float[] row = new float[IC];
            if (t < gx.tiles()) {
                int r0 = gx.rowLo(t, N), r1 = gx.rowHi(t, N), c0 = gx.colLo(t, IC), c1 = gx.colHi(t, IC);
                if (r1 <= r0 || c1 <= c0) return;
                // dX[r0:r1, c0:c1] += dOut[r0:r1, :]·weight[:, c0:c1]
                Blas.sgemm(false, false, r1 - r0, c1 - c0, OC, 1f, pdo, (long) r0 * OC, OC, pw, c0, IC,
                        0f, pdx, (long) r0 * IC + c0, IC);
                addBack(dX, bdx, row, r0, r1, c0, c1, IC);
            } else {
                int u = t - gx.tiles();
                int r0 = gw.rowLo(u, OC), r1 = gw.rowHi(u, OC), c0 = gw.colLo(u, IC), c1 = gw.colHi(u, IC);
                if (r1 <= r0 || c1 <= c0) return;
                // dWeight[r0:r1, c0:c1] += dOut[:, r0:r1]ᵀ·x[:, c0:c1]
                Blas.sgemm(true, false, r1 - r0, c1 - c0, N, 1f, pdo, r0, OC, px, c0, IC,
                        0f, pdw, (long) r0 * IC + c0, IC);
                addBack(dWeight, bdw, row, r0, r1, c0, c1, IC);
            }
        });
    }

    /** dst[r, c0:c1] += ws[r, c0:c1] for r in [r0, r1), row length ld. */
    private static void addBack(float[] dst, FloatBuffer src, float[] row, int r0, int r1, int c0, int c1, int ld) {
        for (int r = r0; r < r1; r++) {
            int o = r * ld + c0;
            src.get(o, row, 0, c1 - c0);
            FastOps.addInPlace(dst, o, row, 0, c1 - c0);
        }
    }

    /**
     * Copies up to three row-major arrays (rows × cols each; a null array is skipped) into workspace slots, cut into
     * row chunks of about 16K floats spread over the threads.
     */
    private static void copyIn(Blas.Workspace ws, int s0, float[] a0, int rows0, int cols0, int s1, float[] a1,
                               int rows1, int cols1, int s2, float[] a2, int rows2, int cols2) {
        int n0 = a0 == null ? 0 : rows0, n1 = a1 == null ? 0 : rows1, n2 = a2 == null ? 0 : rows2;
        int maxCols = Math.max(1, Math.max(cols0, Math.max(cols1, cols2)));
        Parallel.parallelForRange(n0 + n1 + n2, Math.max(1, (1 << 14) / maxCols), (lo, hi) -> {
            copyRows(ws, s0, a0, cols0, lo, hi, 0, n0);
            copyRows(ws, s1, a1, cols1, lo, hi, n0, n0 + n1);
            copyRows(ws, s2, a2, cols2, lo, hi, n0 + n1, n0 + n1 + n2);
        });
    }

    /** The part of global rows [lo, hi) that falls in [from, to), copied as rows [lo−from, hi−from) of array a. */
    private static void copyRows(Blas.Workspace ws, int s, float[] a, int cols, int lo, int hi, int from, int to) {
        int l = Math.max(lo, from), h = Math.min(hi, to);
        if (a == null || h <= l) return;
        int off = (l - from) * cols;
        ws.buf(s).put(off, a, off, (h - l) * cols);
    }
}

package org.varitune.transformer.kernels.cuda;

import jcuda.driver.CUdeviceptr;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPU backend: every {@link Kernels} operation as CUDA kernels of our own ({@code transformer/src/main/cuda/*.cu},
 * loaded as PTX through the driver API), with the same semantics as {@link org.varitune.transformer.kernels.CpuKernels}:
 * forward outputs overwritten, gradients accumulated, null gradients skipped, the same masking rules.
 *
 * <p><b>Data movement (first implementation).</b> Each call copies its {@code float[]} inputs to pooled device
 * buffers, launches, and copies the outputs back, so it is correct wherever the CPU backend is and is tested against
 * it op by op, but the PCIe copies dominate at encoder sizes. The follow-up for speed is a resident-tensor API (weights
 * uploaded once, activations kept on the device between layers); the buffer pool already makes repeated shapes
 * allocation-free.
 *
 * <p><b>Precision.</b> {@link MatmulPrecision#FP32} runs the Linear GEMMs in FP32 FMA (exact mode, for parity);
 * {@link MatmulPrecision#TF32} runs them on tensor cores with TF32 inputs and FP32 accumulation. Everything else is FP32
 * (AdamW and the variability moments in double). Reductions have one owner per output and a fixed order: no atomics, so
 * results repeat bit for bit run to run.
 *
 * <p>Beyond the interface (used by the GPU training and metric paths): {@link #dropout}, {@link #embeddingsForward},
 * {@link #embeddingsBackward}, {@link #adamwUpdate}, {@link #shiftRows}, {@link #rankUpdatePacked}.
 *
 * <p>Thread-safe by serialising every call on this object. Close it to free the device memory; closing reports leaks.
 */
public final class CudaKernels implements Kernels, AutoCloseable {

    /** How the Linear GEMMs multiply. */
    public enum MatmulPrecision { FP32, TF32 }

    private static final int ROW_THREADS = 256, ATT_THREADS = 128, COLSUM_ROWS = 256;

    private final CudaContext ctx;
    private final MatmulPrecision precision;

    private CudaKernels(CudaContext ctx, MatmulPrecision precision) {
        this.ctx = ctx;
        this.precision = precision;
    }

    /** Opens {@code device}; fails with a reason when CUDA is unavailable (see {@link Device#requireCuda}). */
    public static CudaKernels open(Device device, MatmulPrecision precision) {
        return new CudaKernels(CudaContext.open(device), precision);
    }

    @Override public String name() { return ctx.device() + "(" + precision.name().toLowerCase(java.util.Locale.ROOT) + ")"; }

    public MatmulPrecision precision() { return precision; }

    /** The context (device name, memory pool statistics). */
    public CudaContext context() { return ctx; }

    @Override
    public synchronized void close() { ctx.close(); }

    /** The buffers of one call, released together (also when the call fails). */
    private final class Scope implements AutoCloseable {
        private final List<DeviceMemoryPool.Buffer<CUdeviceptr>> held = new ArrayList<>();

        Scope() { ctx.makeCurrent(); }

        DeviceMemoryPool.Buffer<CUdeviceptr> in(float[] a, int n, String tag) { return keep(a == null ? null : ctx.upload(a, n, tag)); }
        DeviceMemoryPool.Buffer<CUdeviceptr> in(int[] a, int n, String tag) { return keep(ctx.upload(a, n, tag)); }
        DeviceMemoryPool.Buffer<CUdeviceptr> in(double[] a, int n, String tag) { return keep(a == null ? null : ctx.upload(a, n, tag)); }
        DeviceMemoryPool.Buffer<CUdeviceptr> floats(long n, String tag) { return keep(ctx.scratch(n * Float.BYTES, tag)); }

        private DeviceMemoryPool.Buffer<CUdeviceptr> keep(DeviceMemoryPool.Buffer<CUdeviceptr> b) {
            if (b != null) held.add(b);
            return b;
        }

        @Override public void close() {
            for (var b : held) ctx.pool().release(b);
        }
    }

    // ---------------------------------------------------------------- matmul

    /** C(M,N) (+)= op(A)·op(B) [+ bias]; see matmul.cu for the three variants ("nt", "nn", "tn"). */
    private void gemm(String variant, Object c, Object a, Object b, Object bias, int M, int N, int K, int lda, int ldb,
                      int ldc, boolean accumulate) {
        if (M == 0 || N == 0) return;
        if (precision == MatmulPrecision.TF32) {
            ctx.launch(PtxModule.MATMUL_TF32, "sgemm_" + variant + "_tf32", LaunchShape.tiles(M, N, 64, 64, 128, 1),
                    c, a, b, bias, M, N, K, lda, ldb, ldc, accumulate ? 1 : 0);
        } else {
            ctx.launch(PtxModule.MATMUL, "sgemm_" + variant + "_f32", LaunchShape.tiles(M, N, 64, 64, 16, 16),
                    c, a, b, bias, M, N, K, lda, ldb, ldc, accumulate ? 1 : 0);
        }
    }

    /** dst(C) += Σ_r src(R, C)[r, :] in a fixed order (two passes through per-chunk partial sums). */
    private void columnSums(Scope s, Object dst, Object src, int R, int C) {
        if (C == 0) return;
        int chunks = Math.max(1, LaunchShape.ceilDiv(R, COLSUM_ROWS));
        var part = s.floats((long) chunks * C, "column sums partials");
        ctx.launch(PtxModule.REDUCE, "colsum_partial", new LaunchShape(LaunchShape.ceilDiv(C, 32), chunks, 1, 32, 8, 1, 0),
                part, src, R, C, COLSUM_ROWS);
        ctx.launch(PtxModule.REDUCE, "colsum_accumulate", LaunchShape.elementwise(C, 256), dst, part, chunks, C);
    }

    @Override
    public synchronized void matmulForward(float[] out, float[] x, float[] weight, float[] bias, int N, int IC, int OC) {
        // out: (N, OC)  x: (N, IC)  weight: (OC, IC)  bias: (OC)
        try (Scope s = new Scope()) {
            var bx = s.in(x, N * IC, "matmul x");
            var bw = s.in(weight, OC * IC, "matmul weight");
            var bb = s.in(bias, OC, "matmul bias");
            var bo = s.floats((long) N * OC, "matmul out");
            gemm("nt", bo, bx, bw, bb, N, OC, IC, IC, IC, OC, false);
            ctx.download(bo, out, N * OC);
        }
    }

    @Override
    public synchronized void matmulBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x,
                                            float[] weight, int N, int IC, int OC) {
        if (dX == null && dWeight == null && dBias == null) return;
        try (Scope s = new Scope()) {
            var bdo = s.in(dOut, N * OC, "matmul dOut");
            if (dX != null) {                    // dX(N, IC) += dOut(N, OC)·W(OC, IC)
                var bdx = s.in(dX, N * IC, "matmul dX");
                var bw = s.in(weight, OC * IC, "matmul weight");
                gemm("nn", bdx, bdo, bw, null, N, IC, OC, OC, IC, IC, true);
                ctx.download(bdx, dX, N * IC);
            }
            if (dWeight != null) {               // dW(OC, IC) += dOut(N, OC)ᵀ·x(N, IC)
                var bdw = s.in(dWeight, OC * IC, "matmul dWeight");
                var bx = s.in(x, N * IC, "matmul x");
                gemm("tn", bdw, bdo, bx, null, OC, IC, N, OC, IC, IC, true);
                ctx.download(bdw, dWeight, OC * IC);
            }
            if (dBias != null) {                 // dBias(OC) += Σ_n dOut[n, :]
                var bdb = s.in(dBias, OC, "matmul dBias");
                columnSums(s, bdb, bdo, N, OC);
                ctx.download(bdb, dBias, OC);
            }
        }
    }

    // ---------------------------------------------------------------- LayerNorm

    @Override
    public synchronized void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight,
                                              float[] bias, int N, int C, float eps) {
        if (N == 0) return;
        try (Scope s = new Scope()) {
            var bx = s.in(x, N * C, "layerNorm x");
            var bw = s.in(weight, C, "layerNorm weight");
            var bb = s.in(bias, C, "layerNorm bias");
            var bo = s.floats((long) N * C, "layerNorm out");
            var bm = mean == null ? null : s.floats(N, "layerNorm mean");
            var br = rstd == null ? null : s.floats(N, "layerNorm rstd");
            ctx.launch(PtxModule.LAYERNORM, "layernorm_forward", LaunchShape.perRow(N, ROW_THREADS, 0),
                    bo, bm, br, bx, bw, bb, N, C, eps);
            ctx.download(bo, out, N * C);
            if (bm != null) ctx.download(bm, mean, N);
            if (br != null) ctx.download(br, rstd, N);
        }
    }

    @Override
    public synchronized void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x,
                                               float[] mean, float[] rstd, float[] weight, int N, int C) {
        if (N == 0 || (dX == null && dWeight == null && dBias == null)) return;
        try (Scope s = new Scope()) {
            var bdo = s.in(dOut, N * C, "layerNorm dOut");
            var bx = s.in(x, N * C, "layerNorm x");
            var bm = s.in(mean, N, "layerNorm mean");
            var br = s.in(rstd, N, "layerNorm rstd");
            if (dX != null) {
                var bdx = s.in(dX, N * C, "layerNorm dX");
                var bw = s.in(weight, C, "layerNorm weight");
                ctx.launch(PtxModule.LAYERNORM, "layernorm_backward_dx", LaunchShape.perRow(N, ROW_THREADS, 0),
                        bdx, bdo, bx, bm, br, bw, N, C);
                ctx.download(bdx, dX, N * C);
            }
            if (dWeight != null || dBias != null) {
                int chunks = LaunchShape.ceilDiv(N, COLSUM_ROWS);
                var pw = dWeight == null ? null : s.floats((long) chunks * C, "layerNorm dWeight partials");
                var pb = dBias == null ? null : s.floats((long) chunks * C, "layerNorm dBias partials");
                ctx.launch(PtxModule.LAYERNORM, "layernorm_backward_partial",
                        new LaunchShape(LaunchShape.ceilDiv(C, 32), chunks, 1, 32, 8, 1, 0), pw, pb, bdo, bx, bm, br, N, C, COLSUM_ROWS);
                if (dWeight != null) {
                    var bdw = s.in(dWeight, C, "layerNorm dWeight");
                    ctx.launch(PtxModule.REDUCE, "colsum_accumulate", LaunchShape.elementwise(C, 256), bdw, pw, chunks, C);
                    ctx.download(bdw, dWeight, C);
                }
                if (dBias != null) {
                    var bdb = s.in(dBias, C, "layerNorm dBias");
                    ctx.launch(PtxModule.REDUCE, "colsum_accumulate", LaunchShape.elementwise(C, 256), bdb, pb, chunks, C);
                    ctx.download(bdb, dBias, C);
                }
            }
        }
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public synchronized void geluForward(float[] out, float[] x, int n) {
        if (n == 0) return;
        try (Scope s = new Scope()) {
            var bx = s.in(x, n, "gelu x");
            var bo = s.floats(n, "gelu out");
            ctx.launch(PtxModule.GELU, "gelu_forward", LaunchShape.elementwise(n, 256), bo, bx, n);
            ctx.download(bo, out, n);
        }
    }

    @Override
    public synchronized void geluBackward(float[] dX, float[] x, float[] dOut, int n) {
        if (n == 0) return;
        try (Scope s = new Scope()) {
            var bdx = s.in(dX, n, "gelu dX");
            var bx = s.in(x, n, "gelu x");
            var bdo = s.in(dOut, n, "gelu dOut");
            ctx.launch(PtxModule.GELU, "gelu_backward", LaunchShape.elementwise(n, 256), bdx, bx, bdo, n);
            ctx.download(bdx, dX, n);
        }
    }

    @Override
    public synchronized void add(float[] out, float[] a, float[] b, int n) {
        if (n == 0) return;
        try (Scope s = new Scope()) {
            var ba = s.in(a, n, "add a");
            var bb = s.in(b, n, "add b");
            ctx.launch(PtxModule.ADD, "add_f32", LaunchShape.elementwise(n, 256), ba, ba, bb, n);
            ctx.download(ba, out, n);
        }
    }

    // ---------------------------------------------------------------- attention

    private static float scale(int D) { return (float) (1.0 / Math.sqrt(D)); }

    private LaunchShape probsShape(int B, int T, int H, int D) {
        return LaunchShape.perQuery(B, T, H, ATT_THREADS, (D + T + 32) * Float.BYTES);
    }

    private LaunchShape rowShape(int B, int T, int H, int floats) {
        return LaunchShape.perQuery(B, T, H, LaunchShape.threadsFor(floats, ATT_THREADS), 0);
    }

    @Override
    public synchronized void attentionForward(float[] out, float[] att, float[] q, float[] k, float[] v,
                                              int[] attentionMask, int B, int T, int H, int D) {
        // out, q, k, v: (B, T, C)  att: (B, H, T, T)  attentionMask: (B, T)
        if (B == 0 || T == 0) return;
        int n = B * T * H * D, na = B * H * T * T;
        try (Scope s = new Scope()) {
            var bq = s.in(q, n, "attention q");
            var bk = s.in(k, n, "attention k");
            var bv = s.in(v, n, "attention v");
            var bmask = s.in(attentionMask, B * T, "attention mask");
            var batt = s.floats(na, "attention att");
            var bo = s.floats(n, "attention out");
            ctx.launch(PtxModule.ATTENTION, "attention_probs", probsShape(B, T, H, D), batt, bq, bk, bmask, B, T, H, D, scale(D));
            ctx.launch(PtxModule.ATTENTION, "attention_p_x", LaunchShape.perQuery(B, T, H, LaunchShape.threadsFor(D, ATT_THREADS),
                    T * Float.BYTES), bo, batt, bv, B, T, H, D, 0);
            ctx.download(bo, out, n);
            if (att != null) ctx.download(batt, att, na);
        }
    }

    @Override
    public synchronized void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k,
                                               float[] v, float[] att, int B, int T, int H, int D) {
        if (B == 0 || T == 0) return;
        int n = B * T * H * D, na = B * H * T * T;
        try (Scope s = new Scope()) {
            var bdo = s.in(dOut, n, "attention dOut");
            var bv = s.in(v, n, "attention v");
            var batt = s.in(att, na, "attention att");
            var bdv = s.in(dV, n, "attention dV");
            var bdatt = s.floats(na, "attention dAtt");
            // forward was: out = att·V  ⇒  dAtt = dOut·Vᵀ, dV += attᵀ·dOut
            ctx.launch(PtxModule.ATTENTION, "attention_dots", LaunchShape.perQuery(B, T, H, ATT_THREADS, D * Float.BYTES),
                    bdatt, bdo, bv, B, T, H, D, 0);
            ctx.launch(PtxModule.ATTENTION, "attention_pt_x", rowShape(B, T, H, D), bdv, batt, bdo, B, T, H, D, 1);
            probsBackward(s, dQ, dK, bdatt, batt, q, k, B, T, H, D);
            ctx.download(bdv, dV, n);
        }
    }

    @Override
    public synchronized void attentionProbs(float[] att, float[] q, float[] k, int[] attentionMask, int B, int T, int H, int D) {
        if (B == 0 || T == 0) return;
        int n = B * T * H * D, na = B * H * T * T;
        try (Scope s = new Scope()) {
            var bq = s.in(q, n, "attention q");
            var bk = s.in(k, n, "attention k");
            var bmask = s.in(attentionMask, B * T, "attention mask");
            var batt = s.floats(na, "attention att");
            ctx.launch(PtxModule.ATTENTION, "attention_probs", probsShape(B, T, H, D), batt, bq, bk, bmask, B, T, H, D, scale(D));
            ctx.download(batt, att, na);
        }
    }

    @Override
    public synchronized void attentionValues(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        if (B == 0 || T == 0) return;
        int n = B * T * H * D, na = B * H * T * T;
        try (Scope s = new Scope()) {
            var batt = s.in(att, na, "attention att");
            var bv = s.in(v, n, "attention v");
            var bo = s.floats(n, "attention out");
            ctx.launch(PtxModule.ATTENTION, "attention_p_x", LaunchShape.perQuery(B, T, H, LaunchShape.threadsFor(D, ATT_THREADS),
                    T * Float.BYTES), bo, batt, bv, B, T, H, D, 0);
            ctx.download(bo, out, n);
        }
    }

    @Override
    public synchronized void attentionValuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                                                     int B, int T, int H, int D) {
        if (B == 0 || T == 0) return;
        int n = B * T * H * D, na = B * H * T * T;
        try (Scope s = new Scope()) {
            var bdo = s.in(dOut, n, "attention dOut");
            var bv = s.in(v, n, "attention v");
            var batt = s.in(att, na, "attention att");
            var bdatt = s.in(dAtt, na, "attention dAtt");
            var bdv = s.in(dV, n, "attention dV");
            ctx.launch(PtxModule.ATTENTION, "attention_dots", LaunchShape.perQuery(B, T, H, ATT_THREADS, D * Float.BYTES),
                    bdatt, bdo, bv, B, T, H, D, 1);
            ctx.launch(PtxModule.ATTENTION, "attention_pt_x", rowShape(B, T, H, D), bdv, batt, bdo, B, T, H, D, 1);
            ctx.download(bdatt, dAtt, na);
            ctx.download(bdv, dV, n);
        }
    }

    @Override
    public synchronized void attentionProbsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q,
                                                    float[] k, int B, int T, int H, int D) {
        if (B == 0 || T == 0 || (dQ == null && dK == null)) return;
        int na = B * H * T * T;
        try (Scope s = new Scope()) {
            var bdatt = s.in(dAtt, na, "attention dAtt");
            var batt = s.in(att, na, "attention att");
            probsBackward(s, dQ, dK, bdatt, batt, q, k, B, T, H, D);
        }
    }

    /** dPre = scale·att⊙(dAtt − rowsum(att⊙dAtt)); dQ += dPre·K; dK += dPreᵀ·Q. Downloads dQ and dK. */
    private void probsBackward(Scope s, float[] dQ, float[] dK, Object bdatt, Object batt, float[] q, float[] k,
                               int B, int T, int H, int D) {
        int n = B * T * H * D, rows = B * H * T;
        var bdpre = s.floats((long) rows * T, "attention dPre");
        ctx.launch(PtxModule.ATTENTION, "attention_softmax_backward", LaunchShape.perRow(rows, ATT_THREADS, 32 * Float.BYTES),
                bdpre, bdatt, batt, rows, T, scale(D));
        if (dQ != null) {
            var bdq = s.in(dQ, n, "attention dQ");
            var bk = s.in(k, n, "attention k");
            ctx.launch(PtxModule.ATTENTION, "attention_p_x", LaunchShape.perQuery(B, T, H, LaunchShape.threadsFor(D, ATT_THREADS),
                    T * Float.BYTES), bdq, bdpre, bk, B, T, H, D, 1);
            ctx.download(bdq, dQ, n);
        }
        if (dK != null) {
            var bdk = s.in(dK, n, "attention dK");
            var bq = s.in(q, n, "attention q");
            ctx.launch(PtxModule.ATTENTION, "attention_pt_x", rowShape(B, T, H, D), bdk, bdpre, bq, B, T, H, D, 1);
            ctx.download(bdk, dK, n);
        }
    }

    // ---------------------------------------------------------------- beyond the Kernels interface

    /**
     * Inverted dropout with the CPU's counter-based mask: {@code out = x⊙mask/(1 − p)}, bit-identical to
     * {@link Dropout#apply}. out, x: (m.n()); out overwritten (may alias x).
     */
    public synchronized void dropout(float[] out, float[] x, Dropout.Mask m) {
        int n = m.n();
        if (n == 0) return;
        try (Scope s = new Scope()) {
            var bx = s.in(x, n, "dropout x");
            ctx.launch(PtxModule.DROPOUT, "dropout_apply", LaunchShape.elementwise(n, 256), bx, bx, m.key(), m.p(), m.scale(), n);
            ctx.download(bx, out, n);
        }
    }

    /**
     * {@code sum[i, :] = word[ids[i], :] + position[positions[i], :] + tokenType[types[i], :]} (bit-identical to the loop
     * in {@code Embeddings.forward}). sum: (n, C) overwritten; the tables (rows, C); ids, positions, types: (n).
     * An id outside its table is an {@link IllegalArgumentException} naming the token.
     */
    public synchronized void embeddingsForward(float[] sum, float[] word, float[] position, float[] tokenType, int[] ids,
                                               int[] positions, int[] types, int n, int C) {
        if (n == 0) return;
        checkRows("input id", ids, n, word.length / C);
        checkRows("position", positions, n, position.length / C);
        checkRows("token type id", types, n, tokenType.length / C);
        try (Scope s = new Scope()) {
            var bw = s.in(word, word.length, "embeddings word");
            var bp = s.in(position, position.length, "embeddings position");
            var bt = s.in(tokenType, tokenType.length, "embeddings tokenType");
            var bi = s.in(ids, n, "embeddings ids");
            var bpos = s.in(positions, n, "embeddings positions");
            var bty = s.in(types, n, "embeddings types");
            var bo = s.floats((long) n * C, "embeddings sum");
            ctx.launch(PtxModule.EMBEDDINGS, "embeddings_forward", LaunchShape.perRow(n, LaunchShape.threadsFor(C, ROW_THREADS), 0),
                    bo, bw, bp, bt, bi, bpos, bty, n, C);
            ctx.download(bo, sum, n * C);
        }
    }

    private static void checkRows(String what, int[] ids, int n, int rows) {
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= rows) throw new IllegalArgumentException(what + " " + ids[i] + " of token " + i + " is outside [0, " + rows + ")");
        }
    }

    /**
     * Scatter-add of embedding gradients: {@code dTable[plan.rows[u], :] += dSum[i, :]} for each token i of row u, in
     * the plan's order (bit-identical to the loop in {@code Embeddings.backward}). dTable: (rows, C) accumulated;
     * dSum: (n, C) not modified.
     */
    public synchronized void embeddingsBackward(float[] dTable, float[] dSum, EmbeddingScatterPlan plan, int C) {
        int u = plan.numRows();
        if (u == 0) return;
        int n = 0;
        for (int i : plan.members()) n = Math.max(n, i + 1);
        try (Scope s = new Scope()) {
            var bt = s.in(dTable, dTable.length, "embeddings dTable");
            var bd = s.in(dSum, n * C, "embeddings dSum");
            var br = s.in(plan.rows(), u, "embeddings rows");
            var bo = s.in(plan.offsets(), u + 1, "embeddings offsets");
            var bm = s.in(plan.members(), plan.members().length, "embeddings members");
            ctx.launch(PtxModule.EMBEDDINGS, "embeddings_backward", LaunchShape.perRow(u, LaunchShape.threadsFor(C, ROW_THREADS), 0),
                    bt, bd, br, bo, bm, u, C);
            ctx.download(bt, dTable, dTable.length);
        }
    }

    /**
     * One AdamW step of one parameter with the arithmetic of {@code org.varitune.training.AdamW.step} (expected
     * bit-identical): {@code p ← p·(1 − lr·wd)}, {@code m ← β1·m + (1 − β1)·g}, {@code v ← β2·v + (1 − β2)·g²},
     * {@code p ← p − (lr/(1 − β1ᵗ))·m/(√v/√(1 − β2ᵗ) + eps)}. w, m, v: (n) modified; g: (n) not modified.
     *
     * @param t the parameter's step number, starting at 1
     */
    public synchronized void adamwUpdate(float[] w, float[] g, float[] m, float[] v, int n, double lr, double wd,
                                         double beta1, double beta2, double eps, long t) {
        if (n == 0) return;
        if (t < 1) throw new IllegalArgumentException("AdamW step t = " + t + " must be >= 1");
        // the same host-side constants as AdamW.step
        double bc1 = 1.0 - Math.pow(beta1, t), bc2Sqrt = Math.sqrt(1.0 - Math.pow(beta2, t));
        double stepSize = lr / bc1;
        try (Scope s = new Scope()) {
            var bw = s.in(w, n, "adamw param");
            var bg = s.in(g, n, "adamw grad");
            var bm = s.in(m, n, "adamw exp_avg");
            var bv = s.in(v, n, "adamw exp_avg_sq");
            ctx.launch(PtxModule.ADAMW, "adamw_update", LaunchShape.elementwise(n, 256), bw, bg, bm, bv, n,
                    1.0 - lr * wd, beta1, 1.0 - beta1, beta2, 1.0 - beta2, stepSize, bc2Sqrt, eps);
            ctx.download(bw, w, n);
            ctx.download(bm, m, n);
            ctx.download(bv, v, n);
        }
    }

    /** {@code g[b, i] = pooled[b, i] − pilot[i]} in double. g: (B, d) overwritten; pooled (B, d), pilot (d) not modified. */
    public synchronized void shiftRows(double[] g, float[] pooled, double[] pilot, int B, int d) {
        int n = B * d;
        if (n == 0) return;
        try (Scope s = new Scope()) {
            var bp = s.in(pooled, n, "variability pooled");
            var bpi = s.in(pilot, d, "variability pilot");
            var bg = s.keep(ctx.scratch((long) n * Double.BYTES, "variability g"));
            ctx.launch(PtxModule.VARIABILITY, "shift_rows_f64", LaunchShape.elementwise(n, 256), bg, bp, bpi, B, d);
            ctx.download(bg, g, n);
        }
    }

    /**
     * The symmetric rank-B update of the variability statistics, {@code m[i, j] += Σ_b w[b]·g[b, i]·g[b, j]} for j ≥ i
     * (w = 1 when null), m a packed row-major upper triangle of a d × d matrix, as metrics' VariabilityAccumulator keeps
     * it. m: (d(d+1)/2) accumulated; g: (B, d), w: (B) not modified.
     */
    public synchronized void rankUpdatePacked(double[] m, double[] g, double[] w, int B, int d) {
        if (B == 0 || d == 0) return;
        int packed = (int) ((long) d * (d + 1) / 2);
        try (Scope s = new Scope()) {
            var bm = s.in(m, packed, "variability moment");
            var bg = s.in(g, B * d, "variability g");
            var bw = s.in(w, B, "variability weights");
            int tiles = LaunchShape.ceilDiv(d, 16);
            ctx.launch(PtxModule.VARIABILITY, "rank_update_packed_f64", new LaunchShape(tiles, tiles, 1, 16, 16, 1, 0),
                    bm, bg, bw, B, d);
            ctx.download(bm, m, packed);
        }
    }
}

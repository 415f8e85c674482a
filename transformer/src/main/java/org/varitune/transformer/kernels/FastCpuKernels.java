package org.varitune.transformer.kernels;

/**
 * The fast CPU backend: the Linear products on OpenBLAS ({@link BlasMatmul}) where it loads, else on a pure-Java
 * Vector API GEMM ({@link VectorGemm}); attention, LayerNorm, GELU and add on the Vector API; everything spread over
 * the one {@link Parallel} pool. Same formulas and argument rules as {@link Kernels} and {@link CpuKernels}; sums run
 * in float (CpuKernels sums in double), so results agree with it to the {@code F32_*} tolerances, not bit for bit.
 * Work is cut into chunks that depend only on the shapes and the thread count, and every kernel is bit-for-bit
 * repeatable for a given thread count (across calls, timings and JIT tiers): exp is {@link FastGelu#exp}'s IEEE-only
 * formula, never {@code lanewise(EXP)}; sums over lanes run in lane order, never {@code reduceLanes(ADD)}; partial
 * sums of different chunks are combined in chunk order; OpenBLAS runs single-threaded on fixed tiles. The split
 * attention kernels (used with attention-probability dropout) are overridden too ({@link VectorAttention}), and the
 * fused ones equal them bit for bit.
 *
 * <p>All Vector API code here uses the one species {@code FloatVector.SPECIES_PREFERRED} for floats: on JDK 17 a
 * second float species anywhere in the JVM pollutes the profiles of the shared {@code FloatVector} code and C2 then
 * leaves vector operations boxed (see {@link FastOps#accumulate}).
 *
 * <p>{@link #create()} picks OpenBLAS on pinned arrays ({@link NativeGemm}) where it loads, with attention's per-head
 * steps in AVX-512 C ({@link NativeAttention}) where the CPU has it, else OpenBLAS on copies of the operands, else the
 * Vector API ({@code -Dvaritune.blas=false} turns OpenBLAS off, {@code -Dvaritune.blas.pinned=false} the pinning,
 * {@code -Dvaritune.attention.avx512=false} the AVX-512 attention); {@link #pinnedBlas()}, {@link #copyingBlas()} and
 * {@link #vectorOnly()} force one. {@link #name()} says which: {@code fast(openblas+avx512)}, {@code fast(openblas)},
 * {@code fast(openblas, copied)} or {@code fast(vector)}.
 */
public final class FastCpuKernels implements Kernels {
    /** How the Linear products run. */
    enum Gemm {
        /** OpenBLAS straight on the Java arrays ({@link NativeGemm}). */
        OPENBLAS_PINNED("fast(openblas)"),
        /** OpenBLAS on off-heap copies of the operands ({@link BlasMatmul}'s workspaces). */
        OPENBLAS_COPIED("fast(openblas, copied)"),
        /** The pure-Java {@link VectorGemm}. */
        VECTOR("fast(vector)");

        final String backendName;

        Gemm(String backendName) { this.backendName = backendName; }
    }

    private final Gemm gemm;
    /** How attention's per-head steps run: in AVX-512 C, on pinned OpenBLAS, or on the Vector API. */
    private final VectorAttention.Products products;

    /** GELU in C ({@link NativeGelu}, the same bits as {@link FastGelu}): with pinned OpenBLAS, where available. */
    private final boolean geluInC;

    private FastCpuKernels(Gemm gemm, boolean avx512Attention) {
        this.gemm = gemm;
        this.geluInC = gemm == Gemm.OPENBLAS_PINNED && NativeGelu.available();
        this.products = avx512Attention ? VectorAttention.Products.AVX512
                : gemm == Gemm.OPENBLAS_PINNED ? VectorAttention.Products.OPENBLAS : VectorAttention.Products.VECTOR;
    }

    private FastCpuKernels(Gemm gemm) { this(gemm, false); }

    /**
     * The fastest available: pinned OpenBLAS with the AVX-512 attention ({@link NativeAttention}) where the CPU has it,
     * else pinned OpenBLAS, else copying OpenBLAS, else the Vector API (see the class comment).
     */
    public static Kernels create() {
        if (!Blas.available()) return new FastCpuKernels(Gemm.VECTOR);
        if (!NativeGemm.available()) return new FastCpuKernels(Gemm.OPENBLAS_COPIED);
        return new FastCpuKernels(Gemm.OPENBLAS_PINNED, NativeAttention.available());
    }

    /**
     * OpenBLAS on pinned arrays with attention on the Vector API and per-head OpenBLAS products (the path without
     * AVX-512, and the backend named {@code fast(openblas)} before the AVX-512 attention existed).
     *
     * @throws IllegalStateException when pinned GEMMs are unavailable
     */
    public static Kernels pinnedBlas() {
        if (!NativeGemm.available()) throw new IllegalStateException("pinned OpenBLAS unavailable: " + NativeGemm.unavailableReason());
        return new FastCpuKernels(Gemm.OPENBLAS_PINNED);
    }

    /**
     * OpenBLAS on copies of the operands, whether or not pinning is available (the path used without it).
     *
     * @throws IllegalStateException when OpenBLAS is unavailable
     */
    public static Kernels copyingBlas() {
        if (!Blas.available()) throw new IllegalStateException("OpenBLAS unavailable: " + Blas.unavailableReason());
        return new FastCpuKernels(Gemm.OPENBLAS_COPIED);
    }

    /** The pure-Java Vector API backend, whether or not OpenBLAS is available. */
    public static Kernels vectorOnly() { return new FastCpuKernels(Gemm.VECTOR); }

    /** {@code gemm}'s name, with {@code +avx512} when attention runs in AVX-512 C, e.g. {@code fast(openblas+avx512)}. */
    @Override public String name() {
        return products == VectorAttention.Products.AVX512 ? gemm.backendName.replace(")", "+avx512)") : gemm.backendName;
    }

    /** True when this instance runs its matmuls on OpenBLAS. */
    public boolean usesBlas() { return gemm != Gemm.VECTOR; }

    @Override
    public void matmulForward(float[] out, float[] x, float[] weight, float[] bias, int N, int IC, int OC) {
        // out: (N, OC)  x: (N, IC)  weight: (OC, IC)  bias: (OC)
        checkMatmul("matmulForward", N, IC, OC, out, "out", (long) N * OC, x, "x", (long) N * IC, weight, (long) OC * IC);
        if (bias != null && bias.length < OC) throw shape("matmulForward", "bias", bias.length, OC, N, IC, OC);
        if (gemm != Gemm.VECTOR) {
            BlasMatmul.forward(gemm == Gemm.OPENBLAS_PINNED, out, x, weight, bias, N, IC, OC);
            return;
        }
        // out[n, :] = bias + Σ_i x[n, i]·weightᵀ[i, :], with weightᵀ: (IC, OC) transposed once per call
        float[] wt = transposed(weight, IC, OC);
        Parallel.parallelForRange(N, rowsPerChunk(IC, OC), (lo, hi) ->
                VectorGemm.gemm(x, 0, IC, 1, wt, 0, OC, out, 0, OC, lo, hi, OC, IC, false, bias));
    }

    @Override
    public void matmulBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                               int N, int IC, int OC) {
        checkMatmulBackward("matmulBackward", dX, dWeight, dBias, dOut, x, weight, N, IC, OC);
        if (gemm != Gemm.VECTOR) {
            BlasMatmul.backward(gemm == Gemm.OPENBLAS_PINNED, dX, false, dWeight, dBias, dOut, x, weight, N, IC, OC);
            return;
        }
        // forward was: out[n, o] = bias[o] + Σ_i x[n, i]·weight[o, i]
        if (dX != null) {          // dX[n, :] += Σ_o dOut[n, o]·weight[o, :], parallel over rows n
            Parallel.parallelForRange(N, rowsPerChunk(OC, IC), (lo, hi) ->
                    VectorGemm.gemm(dOut, 0, OC, 1, weight, 0, IC, dX, 0, IC, lo, hi, IC, OC, true, null));
        }
        if (dWeight != null) {     // dWeight[o, :] += Σ_n dOut[n, o]·x[n, :], parallel over output channels o
            Parallel.parallelForRange(OC, rowsPerChunk(N, IC), (lo, hi) ->
                    VectorGemm.gemm(dOut, 0, 1, OC, x, 0, IC, dWeight, 0, IC, lo, hi, IC, N, true, null));
        }
        if (dBias != null) FastOps.addColumnSums(dBias, dOut, N, OC);   // dBias[o] += Σ_n dOut[n, o]
    }

    @Override
    public void matmulBackwardInto(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                                   int N, int IC, int OC) {
        if (gemm != Gemm.OPENBLAS_PINNED || dX == null) {
            Kernels.super.matmulBackwardInto(dX, dWeight, dBias, dOut, x, weight, N, IC, OC);
            return;
        }
        checkMatmulBackward("matmulBackwardInto", dX, dWeight, dBias, dOut, x, weight, N, IC, OC);
        BlasMatmul.backward(true, dX, true, dWeight, dBias, dOut, x, weight, N, IC, OC);
    }

    @Override
    public void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                                 int N, int C, float eps) {
        FastOps.layerNormForward(out, mean, rstd, x, weight, bias, N, C, eps);
    }

    @Override
    public void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                  float[] rstd, float[] weight, int N, int C) {
        FastOps.layerNormBackward(dX, dWeight, dBias, dOut, x, mean, rstd, weight, N, C);
    }

    @Override
    public void layerNormBackwardInto(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                      float[] rstd, float[] weight, int N, int C) {
        FastOps.layerNormBackward(dX, dWeight, dBias, dOut, x, mean, rstd, weight, N, C, true);
    }

    @Override
    public void geluForward(float[] out, float[] x, int n) { FastGelu.forward(out, x, n, geluInC); }

    @Override
    public void geluBackward(float[] dX, float[] x, float[] dOut, int n) {
        FastGelu.backward(dX, x, dOut, n, false, geluInC);
    }

    @Override
    public void geluBackwardInto(float[] dX, float[] x, float[] dOut, int n) {
        FastGelu.backward(dX, x, dOut, n, true, geluInC);
    }

    @Override
    public void attentionForward(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                                 int B, int T, int H, int D) {
        String op = "attentionForward";
        checkAttention(op, B, T, H, D, attentionMask, "att", att, null, null, "out,q,k,v", out, q, k, v);
        VectorAttention.forward(products, out, att, q, k, v, attentionMask, null, 0f, B, T, H, D);
    }

    @Override
    public void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k, float[] v,
                                  float[] att, int B, int T, int H, int D) {
        String op = "attentionBackward";
        checkAttention(op, B, T, H, D, null, "att", att, null, null, "dQ,dK,dV,dOut,q,k,v", dQ, dK, dV, dOut, q, k, v);
        VectorAttention.backward(products, dQ, dK, dV, dOut, q, k, v, att, null, 0f, B, T, H, D);
    }

    @Override
    public void attentionForwardDropout(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                                        long[] keepBits, float scale, int B, int T, int H, int D) {
        String op = "attentionForwardDropout";
        checkAttention(op, B, T, H, D, attentionMask, "att", att, null, null, "out,q,k,v", out, q, k, v);
        checkKeepBits(op, keepBits, B, T, H);
        VectorAttention.forward(products, out, att, q, k, v, attentionMask, keepBits, scale,
                B, T, H, D);
    }

    @Override
    public void attentionBackwardDropout(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k,
                                         float[] v, float[] att, long[] keepBits, float scale, int B, int T, int H,
                                         int D) {
        String op = "attentionBackwardDropout";
        checkAttention(op, B, T, H, D, null, "att", att, null, null, "dQ,dK,dV,dOut,q,k,v", dQ, dK, dV, dOut, q, k, v);
        checkKeepBits(op, keepBits, B, T, H);
        VectorAttention.backward(products, dQ, dK, dV, dOut, q, k, v, att, keepBits, scale,
                B, T, H, D);
    }

    /** keepBits: one bit per element of att (B, H, T, T), 64 to a word. */
    private static void checkKeepBits(String op, long[] keepBits, int B, int T, int H) {
        long need = ((long) B * H * T * T + 63) >>> 6;
        if (keepBits == null || keepBits.length < need) {
            throw new IllegalArgumentException(op + ": keepBits has " + (keepBits == null ? "no" : keepBits.length)
                    + " words, needs " + need + " (B=" + B + " H=" + H + " T=" + T + ")");
        }
    }

    @Override
    public void attentionProbs(float[] att, float[] q, float[] k, int[] attentionMask, int B, int T, int H, int D) {
        checkAttention("attentionProbs", B, T, H, D, attentionMask, "att", att, null, null, "q,k", q, k);
        VectorAttention.probs(products, att, q, k, attentionMask, B, T, H, D);
    }

    @Override
    public void attentionValues(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        checkAttention("attentionValues", B, T, H, D, null, "att", att, null, null, "out,v", out, v);
        VectorAttention.values(products, out, att, v, B, T, H, D);
    }

    @Override
    public void attentionValuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                                        int B, int T, int H, int D) {
        checkAttention("attentionValuesBackward", B, T, H, D, null, "att", att, "dAtt", dAtt, "dV,dOut,v", dV, dOut, v);
        VectorAttention.valuesBackward(products, dAtt, dV, dOut, att, v, B, T, H, D);
    }

    @Override
    public void attentionProbsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q, float[] k,
                                       int B, int T, int H, int D) {
        checkAttention("attentionProbsBackward", B, T, H, D, null, "att", att, "dAtt", dAtt, "dQ,dK,q,k", dQ, dK, q, k);
        VectorAttention.probsBackward(products, dQ, dK, dAtt, att, q, k, B, T, H, D);
    }

    @Override
    public void add(float[] out, float[] a, float[] b, int n) { FastOps.add(out, a, b, n); }

    /** Rows per chunk so each chunk does at least ~1M multiply-adds of a (rows × k) · (k × cols) product. */
    private static int rowsPerChunk(int k, int cols) {
        return (int) Math.max(1, (1L << 20) / Math.max(1L, (long) k * cols));
    }

    private static final ThreadLocal<float[]> WT = new ThreadLocal<>();

    /** weightᵀ: (IC, OC) in a per-thread buffer that grows and is reused. */
    private static float[] transposed(float[] weight, int IC, int OC) {
        float[] wt = WT.get();
        if (wt == null || wt.length < IC * OC) {
            wt = new float[IC * OC];
            WT.set(wt);
        }
        float[] dst = wt;
        Parallel.parallelForRange(OC, Math.max(1, (1 << 14) / Math.max(1, IC)), (lo, hi) ->
                VectorGemm.transpose(dst, lo, OC, weight, lo * IC, IC, IC, hi - lo));
        return wt;
    }

    /**
     * Checks the dimensions, that the mask (when given) holds B·T ints, the (B, H, T, T) arrays (when given) B·H·T·T
     * floats, and each (B, T, C) array (null allowed), named in order by the comma-separated {@code btcNames},
     * B·T·H·D floats.
     */
    private static void checkAttention(String op, int B, int T, int H, int D, int[] mask, String n0, float[] tt0,
                                       String n1, float[] tt1, String btcNames, float[]... btc) {
        String dims = " for B=" + B + " T=" + T + " H=" + H + " D=" + D;
        if (B < 0 || T < 0 || H < 0 || D < 0) throw new IllegalArgumentException(op + ": negative shape" + dims);
        long nBtc = (long) B * T * H * D, nBhtt = (long) B * H * T * T;
        if (nBtc > Integer.MAX_VALUE || nBhtt > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": more than 2^31 floats" + dims);
        }
        if (mask != null && mask.length < (long) B * T) {
            throw new IllegalArgumentException(op + ": attentionMask has " + mask.length + " ints, needs " + (long) B * T + dims);
        }
        checkLength(op, n0, tt0, nBhtt, dims);
        checkLength(op, n1, tt1, nBhtt, dims);
        String[] names = btcNames.split(",");
        for (int i = 0; i < btc.length; i++) checkLength(op, names[i], btc[i], nBtc, dims);
    }

    private static void checkLength(String op, String name, float[] a, long need, String dims) {
        if (a != null && a.length < need) {
            throw new IllegalArgumentException(op + ": " + name + " has " + a.length + " floats, needs " + need + dims);
        }
    }

    /** The shape checks of a Linear backward: dOut, x, weight, and each of dX, dWeight, dBias that is not null. */
    private static void checkMatmulBackward(String op, float[] dX, float[] dWeight, float[] dBias, float[] dOut,
                                            float[] x, float[] weight, int N, int IC, int OC) {
        checkMatmul(op, N, IC, OC, dOut, "dOut", (long) N * OC, x, "x", (long) N * IC, weight, (long) OC * IC);
        if (dX != null && dX.length < (long) N * IC) throw shape(op, "dX", dX.length, (long) N * IC, N, IC, OC);
        if (dWeight != null && dWeight.length < (long) OC * IC) {
            throw shape(op, "dWeight", dWeight.length, (long) OC * IC, N, IC, OC);
        }
        if (dBias != null && dBias.length < OC) throw shape(op, "dBias", dBias.length, OC, N, IC, OC);
    }

    private static void checkMatmul(String op, int N, int IC, int OC, float[] a, String aName, long aLen,
                                    float[] x, String xName, long xLen, float[] weight, long wLen) {
        if (N < 0 || IC < 0 || OC < 0) throw new IllegalArgumentException(op + ": negative shape N=" + N + " IC=" + IC + " OC=" + OC);
        if (a.length < aLen) throw shape(op, aName, a.length, aLen, N, IC, OC);
        if (x.length < xLen) throw shape(op, xName, x.length, xLen, N, IC, OC);
        if (weight.length < wLen) throw shape(op, "weight", weight.length, wLen, N, IC, OC);
    }

    private static IllegalArgumentException shape(String op, String name, int have, long need, int N, int IC, int OC) {
        return new IllegalArgumentException(op + ": " + name + " has " + have + " floats, needs " + need
                + " for N=" + N + " IC=" + IC + " OC=" + OC);
    }
}

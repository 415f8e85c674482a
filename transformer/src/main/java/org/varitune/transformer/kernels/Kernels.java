package org.varitune.transformer.kernels;

/**
 * The numeric kernels of the encoder, forward and backward, on row-major {@code float[]} buffers.
 *
 * <p>Conventions (llm.c): outputs first, then inputs, then dimensions. Forward outputs are <b>overwritten</b>;
 * backward outputs ({@code dX}, {@code dWeight}, ...) are <b>accumulated into</b> ({@code +=}), and a {@code null}
 * gradient buffer means "not needed" (frozen parameter, or no layer below wants it). Inputs are never modified.
 * Dimension letters: {@code B} batch, {@code T} sequence, {@code C} channels, {@code H} heads, {@code D} head size,
 * {@code N = B*T} rows, {@code IC}/{@code OC} in/out features of a Linear.
 *
 * <p>{@link CpuKernels} is the plain scalar implementation and the oracle that every other backend is tested
 * against. Select one with {@link #fromSystemProperty()}.
 */
public interface Kernels {

    /** Short backend name for logs and run records, e.g. {@code cpu}, {@code fast(openblas)}. */
    String name();

    /**
     * Linear forward: {@code out = x·Wᵀ + b}.
     *
     * @param out    (N, OC), overwritten
     * @param x      (N, IC), not modified
     * @param weight (OC, IC) = {@code nn.Linear} layout, not modified
     * @param bias   (OC) or null, not modified
     */
    void matmulForward(float[] out, float[] x, float[] weight, float[] bias, int N, int IC, int OC);

    /**
     * Linear backward, differentiating {@code out = x·Wᵀ + b}:
     * {@code dX += dOut·W}; {@code dWeight += dOutᵀ·x}; {@code dBias += Σ_n dOut[n,:]}. Each null output is skipped.
     *
     * @param dX      (N, IC) or null, accumulated
     * @param dWeight (OC, IC) or null, accumulated
     * @param dBias   (OC) or null, accumulated
     * @param dOut    (N, OC), not modified
     * @param x       (N, IC), not modified
     * @param weight  (OC, IC), not modified
     */
    void matmulBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                        int N, int IC, int OC);

    /**
     * As {@link #matmulBackward}, but {@code dX = dOut·W}: dX is overwritten, its old contents never read (so it needs
     * no zeroing first); dWeight and dBias are accumulated as there; a null dX is skipped. The default zeroes dX and
     * accumulates; a backend may write it directly (equal up to the sign of a zero).
     */
    default void matmulBackwardInto(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                                    int N, int IC, int OC) {
        if (dX != null) java.util.Arrays.fill(dX, 0, N * IC, 0f);
        matmulBackward(dX, dWeight, dBias, dOut, x, weight, N, IC, OC);
    }

    /**
     * LayerNorm forward over the last axis, two-pass (mean, then variance of the centred values):
     * {@code out = (x − mean)·rstd·weight + bias}, {@code rstd = 1/sqrt(var + eps)}, population variance.
     *
     * @param out  (N, C), overwritten
     * @param mean (N) or null, overwritten with the row means (saved for backward)
     * @param rstd (N) or null, overwritten with the reciprocal standard deviations (saved for backward)
     */
    void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                          int N, int C, float eps);

    /**
     * LayerNorm backward with {@code norm = (x − mean)·rstd} recomputed from the saved statistics:
     * {@code dnorm = weight⊙dOut; dX += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm⊙norm))};
     * {@code dWeight += Σ_n norm⊙dOut}; {@code dBias += Σ_n dOut}.
     */
    void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                           float[] rstd, float[] weight, int N, int C);

    /**
     * As {@link #layerNormBackward}, but dX (non-null) is overwritten with the formula's term, its old contents never
     * read; dWeight and dBias are accumulated as there. The default zeroes dX and accumulates.
     */
    default void layerNormBackwardInto(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x,
                                       float[] mean, float[] rstd, float[] weight, int N, int C) {
        java.util.Arrays.fill(dX, 0, N * C, 0f);
        layerNormBackward(dX, dWeight, dBias, dOut, x, mean, rstd, weight, N, C);
    }

    /** Exact GELU: {@code out = 0.5·x·(1 + erf(x/√2))}. out and x: (n); out may alias x. */
    void geluForward(float[] out, float[] x, int n);

    /** GELU backward: {@code dX += dOut·(Φ(x) + x·φ(x))}. dX, x, dOut: (n). */
    void geluBackward(float[] dX, float[] x, float[] dOut, int n);

    /** As {@link #geluBackward}, but {@code dX = dOut·(Φ(x) + x·φ(x))}, overwritten. The default zeroes and accumulates. */
    default void geluBackwardInto(float[] dX, float[] x, float[] dOut, int n) {
        java.util.Arrays.fill(dX, 0, n, 0f);
        geluBackward(dX, x, dOut, n);
    }

    /**
     * Bidirectional multi-head attention with a key-padding mask, on Q/K/V already projected:
     * for each (b, h): {@code att = softmax(Q·Kᵀ/√D + mask)}, {@code out = att·V}, where the mask excludes keys with
     * {@code attentionMask[b, t2] == 0} (their probability is exactly 0). A query row whose every key is masked
     * (an all-padding sequence) gets {@code att = 0} and {@code out = 0}.
     *
     * @param out           (B, T, C) with C = H·D, head h in columns [h·D, (h+1)·D), overwritten
     * @param att           (B, H, T, T) or null: the softmax probabilities, saved for backward; overwritten
     * @param q             (B, T, C), not modified; likewise k, v
     * @param attentionMask (B, T), 1 = attend, 0 = padding
     */
    void attentionForward(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                          int B, int T, int H, int D);

    /**
     * Attention backward, from the saved probabilities: {@code dV += attᵀ·dOut}, {@code dAtt = dOut·Vᵀ},
     * {@code dPre = att⊙(dAtt − rowsum(att⊙dAtt))}, {@code dQ += dPre·K/√D}, {@code dK += dPreᵀ·Q/√D}.
     * All of dQ, dK, dV: (B, T, C), accumulated.
     */
    void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k, float[] v,
                           float[] att, int B, int T, int H, int D);

    /**
     * The first half of {@link #attentionForward}, for when something (attention-probability dropout) sits between
     * the softmax and the product with V: {@code att = softmax(Q·Kᵀ/√D + mask)} per (b, h), masked keys get exactly 0
     * and a fully masked row gets 0. The default is a scalar loop; fast backends may override it.
     *
     * @param att (B, H, T, T), overwritten
     * @param q   (B, T, C), not modified; likewise k
     */
    default void attentionProbs(float[] att, float[] q, float[] k, int[] attentionMask, int B, int T, int H, int D) {
        SplitAttention.probs(att, q, k, attentionMask, B, T, H, D);
    }

    /**
     * The second half of {@link #attentionForward}: {@code out = att·V} per (b, h).
     *
     * @param out (B, T, C), overwritten
     * @param att (B, H, T, T), not modified (possibly with dropout applied)
     * @param v   (B, T, C), not modified
     */
    default void attentionValues(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        SplitAttention.values(out, att, v, B, T, H, D);
    }

    /**
     * Backward of {@link #attentionValues}, differentiating {@code out = att·V}: {@code dAtt += dOut·Vᵀ},
     * {@code dV += attᵀ·dOut}.
     *
     * @param dAtt (B, H, T, T), accumulated
     * @param dV   (B, T, C), accumulated
     */
    default void attentionValuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                                         int B, int T, int H, int D) {
        SplitAttention.valuesBackward(dAtt, dV, dOut, att, v, B, T, H, D);
    }

    /**
     * Backward of {@link #attentionProbs}, from the saved probabilities:
     * {@code dPre = att⊙(dAtt − rowsum(att⊙dAtt))}, {@code dQ += dPre·K/√D}, {@code dK += dPreᵀ·Q/√D}.
     *
     * @param dQ   (B, T, C), accumulated; likewise dK
     * @param dAtt (B, H, T, T), not modified
     * @param att  (B, H, T, T), the softmax output (before any dropout), not modified
     */
    default void attentionProbsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q, float[] k,
                                        int B, int T, int H, int D) {
        SplitAttention.probsBackward(dQ, dK, dAtt, att, q, k, B, T, H, D);
    }

    /**
     * {@link #attentionForward} with inverted dropout on the probabilities (HF's {@code attention_probs_dropout_prob}):
     * {@code att = softmax(Q·Kᵀ/√D + mask)} saved before dropout, {@code out = (att⊙m·scale)·V}, where element i of
     * att (in (B, H, T, T) order) is kept iff bit {@code i & 63} of {@code keepBits[i >>> 6]} is set, and a kept
     * element is multiplied by {@code scale} ({@link DropoutOps#apply}'s formula). The default runs
     * {@link #attentionProbs}, the dropout into a new array and {@link #attentionValues}; fast backends fuse them per
     * head, bit for bit the same.
     *
     * @param att      (B, H, T, T), overwritten with the probabilities before dropout
     * @param keepBits ceil(B·H·T·T / 64) words, not modified
     */
    default void attentionForwardDropout(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                                         long[] keepBits, float scale, int B, int T, int H, int D) {
        attentionProbs(att, q, k, attentionMask, B, T, H, D);
        float[] attDrop = new float[B * H * T * T];                      // attDrop: (B, H, T, T)
        DropoutOps.apply(attDrop, att, keepBits, scale, attDrop.length);
        attentionValues(out, attDrop, v, B, T, H, D);
    }

    /**
     * Backward of {@link #attentionForwardDropout}, from the saved probabilities (before dropout) and the same bits:
     * with {@code attDrop = att⊙m·scale}, {@code dV += attDropᵀ·dOut}, {@code dAtt = (dOut·Vᵀ)⊙m·scale}, then as
     * {@link #attentionProbsBackward}. dQ, dK, dV: (B, T, C), accumulated. The default runs the split kernels on
     * new arrays; fast backends fuse them per head, bit for bit the same.
     */
    default void attentionBackwardDropout(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k,
                                          float[] v, float[] att, long[] keepBits, float scale, int B, int T, int H,
                                          int D) {
        int n = B * H * T * T;
        float[] attDrop = new float[n], dAtt = new float[n];            // (B, H, T, T) each; dAtt from 0
        DropoutOps.apply(attDrop, att, keepBits, scale, n);
        // forward was: out = attDrop·V
        attentionValuesBackward(dAtt, dV, dOut, attDrop, v, B, T, H, D);
        // forward was: attDrop = att⊙m·scale
        DropoutOps.apply(dAtt, dAtt, keepBits, scale, n);
        // forward was: att = softmax(Q·Kᵀ/√D + mask)
        attentionProbsBackward(dQ, dK, dAtt, att, q, k, B, T, H, D);
    }

    /** {@code out = a + b} elementwise over n; out may alias a or b. */
    void add(float[] out, float[] a, float[] b, int n);

    /**
     * Selects the backend named by the {@code kernels} system property: {@code cpu} (plain scalar), {@code fast}
     * (the default: OpenBLAS where it loads, else the Vector API, multi-threaded), or {@code cuda} / {@code cuda:N}
     * (the GPU backend, FP32 matmuls; an {@link IllegalStateException} says why when CUDA is unavailable).
     */
    static Kernels fromSystemProperty() {
        String which = System.getProperty("kernels", "fast");
        return switch (which) {
            case "cpu" -> new CpuKernels();
            case "fast" -> FastCpuKernels.create();
            default -> {
                if (!which.startsWith("cuda")) {
                    throw new IllegalArgumentException("unknown -Dkernels=" + which + " (expected cpu, fast, cuda or cuda:N)");
                }
                yield org.varitune.transformer.kernels.cuda.Device.parse(which).kernels();
            }
        };
    }
}

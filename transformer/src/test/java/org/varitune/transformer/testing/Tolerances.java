package org.varitune.transformer.testing;

/**
 * Named tolerances, as normalised errors {@code max|a − e| / max|e|} unless a name says otherwise. Each constant
 * records the error observed when it was set; keep thresholds about 10× above the observation, never 100×.
 */
public final class Tolerances {
    private Tolerances() {}

    /** Central finite differences in double: |a − n| / max(|a| + |n|, 1e-8). Step {@link #FD_STEP}. */
    public static final double FD_RELATIVE = 1e-6;
    public static final double FD_STEP = 1e-5;

    /** Float elementwise kernels (GELU, add) against the double oracle. */
    public static final double F32_ELEMENTWISE = 1e-6;
    /** Float reductions (matmul, LayerNorm, softmax, attention) against the double oracle. */
    public static final double F32_REDUCTION = 1e-5;
    /** Matmul (forward, dX, dWeight, dBias) of a fast backend against CpuKernels or the double oracle. */
    public static final double F32_MATMUL = 1e-5;
    /** LayerNorm forward and backward of a fast backend against CpuKernels or the double oracle. */
    public static final double F32_LAYERNORM = 1e-5;
    /** Attention (att, out, dQ, dK, dV) of a fast backend against CpuKernels or the double oracle. */
    public static final double F32_ATTENTION = 1e-5;
    /** A whole EncoderLayer forward + backward in float against the double oracle. */
    public static final double F32_LAYER = 1e-4;
}

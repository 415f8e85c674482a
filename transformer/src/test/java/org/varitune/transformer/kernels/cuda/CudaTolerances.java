package org.varitune.transformer.kernels.cuda;

import org.varitune.transformer.testing.Tolerances;

/**
 * Named tolerances of the GPU parity tests (normalised error {@code max|a − e| / max|e|} against {@code CpuKernels}).
 * PROVISIONAL: set before any run on a device, from the CPU backends' observations and the arithmetic of each kernel;
 * the first GPU session records the observed errors here and tightens each to about 10× its observation.
 */
final class CudaTolerances {
    private CudaTolerances() {}

    /** FP32 GEMM (float FMA accumulation over K, CPU in double). As {@link Tolerances#F32_MATMUL}. Observed: not yet. */
    static final double FP32_MATMUL = Tolerances.F32_MATMUL;
    /**
     * TF32 tensor-core GEMM: inputs rounded to 10-bit mantissas (relative 2⁻¹¹ each), FP32 accumulation; random-sign
     * sums keep the normalised error near 1e-3. Observed: not yet.
     */
    static final double TF32_MATMUL = 5e-3;
    /** LayerNorm with float block reductions (CPU: double). Observed: not yet. */
    static final double FP32_LAYERNORM = 1e-5;
    /** Attention (probabilities, outputs and the three gradients) with float dots and block reductions. Observed: not yet. */
    static final double FP32_ATTENTION = 1e-5;
    /** GELU with CUDA's erfcf/expf (a few ulp) against the double CPU formula. Observed: not yet. */
    static final double FP32_ELEMENTWISE = Tolerances.F32_ELEMENTWISE;
    /** A whole encoder forward, or forward + backward gradients, FP32 GPU vs CPU. As {@link Tolerances#F32_LAYER}. */
    static final double FP32_ENCODER = Tolerances.F32_LAYER;
    /** The double-precision rank update (summation order differs from the CPU's groups of eight). */
    static final double F64_MOMENT = 1e-12;
}

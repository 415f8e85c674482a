package org.varitune.training;

import org.varitune.transformer.kernels.Parallel;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping, torch {@code clip_grad_norm_} (L2) as HF Trainer calls it with {@code max_grad_norm}. */
public final class GradClip {
    private GradClip() {}

    /** Elements per block of {@link #sumOfSquares}: the order of its sums depends on this alone, not on the threads. */
    static final int BLOCK = 1 << 14;

    /**
     * {@code norm = sqrt(Σ_p Σ_i g²)} over the trainable parameters that have a grad (in double, each parameter's sum
     * as {@link #sumOfSquares} orders it, the parameters in list order); if {@code norm > maxNorm}, every such grad is
     * scaled by {@code maxNorm/(norm + 1e-6)}. Modifies those grads. Returns the norm before clipping (what HF logs as
     * {@code grad_norm}). A non-finite norm is an error (the step must not go ahead).
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        double sq = 0.0;
        for (Parameter p : params) {
            if (!p.trainable() || !p.hasGrad()) continue;
            sq += sumOfSquares(p.grad());
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) throw new ArithmeticException("gradient norm is " + norm);
        if (norm > maxNorm) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            for (Parameter p : params) {
                if (!p.trainable() || !p.hasGrad()) continue;
                float[] g = p.grad();
                Parallel.parallelForRange(g.length, 1 << 15, (lo, hi) -> {   // elementwise: any split, same bits
                    for (int i = lo; i < hi; i++) g[i] *= coef;
                });
            }
        }
        return norm;
    }

    /**
     * {@code Σ_i g[i]²} in double, in a fixed order whatever the thread count: g is cut into blocks of
     * {@link #BLOCK}, each summed as {@link #blockSumOfSquares} says (in parallel), and the block sums are added in
     * block order. Plain scalar code: a second float vector species here (for float → double) would slow every Vector
     * API kernel of the JVM (see {@code KernelsParityTest}), and four accumulators already keep up with memory.
     */
    static double sumOfSquares(float[] g) {
        int blocks = (g.length + BLOCK - 1) / BLOCK;
        double[] partial = new double[blocks];
        Parallel.parallelForRange(blocks, 1, (lo, hi) -> {
            for (int b = lo; b < hi; b++) partial[b] = blockSumOfSquares(g, b * BLOCK, Math.min(g.length, (b + 1) * BLOCK));
        });
        double sq = 0.0;
        for (double s : partial) sq += s;
        return sq;
    }

    /** Σ g[i]² for i in [lo, hi): four accumulators, a[j] over i ≡ j (mod 4) in index order, added a0 + a1 + a2 + a3. */
    private static double blockSumOfSquares(float[] g, int lo, int hi) {
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
        int i = lo;
        for (; i + 4 <= hi; i += 4) {
            a0 += (double) g[i] * g[i];
            a1 += (double) g[i + 1] * g[i + 1];
            a2 += (double) g[i + 2] * g[i + 2];
            a3 += (double) g[i + 3] * g[i + 3];
        }
        if (i < hi) a0 += (double) g[i] * g[i];
        if (i + 1 < hi) a1 += (double) g[i + 1] * g[i + 1];
        if (i + 2 < hi) a2 += (double) g[i + 2] * g[i + 2];
        return a0 + a1 + a2 + a3;
    }
}

package org.varitune.training;

import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping, torch {@code clip_grad_norm_} (L2) as HF Trainer calls it with {@code max_grad_norm}. */
public final class GradClip {
    private GradClip() {}

    /**
     * {@code norm = sqrt(Σ_p Σ_i g²)} over the trainable parameters that have a grad; if {@code norm > maxNorm},
     * every such grad is scaled by {@code maxNorm/(norm + 1e-6)}. Modifies those grads. Returns the norm before
     * clipping (what HF logs as {@code grad_norm}). A non-finite norm is an error (the step must not go ahead).
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        double sq = 0.0;
        for (Parameter p : params) {
            if (!p.trainable() || !p.hasGrad()) continue;
            for (float g : p.grad()) sq += (double) g * g;
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) throw new ArithmeticException("gradient norm is " + norm);
        if (norm > maxNorm) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            for (Parameter p : params) {
                if (!p.trainable() || !p.hasGrad()) continue;
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) g[i] *= coef;
            }
        }
        return norm;
    }
}

package org.varitune.training;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import org.varitune.transformer.kernels.Parallel;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/** Global-norm gradient clipping, torch {@code clip_grad_norm_} (L2) as HF Trainer calls it with {@code max_grad_norm}. */
public final class GradClip {
    private GradClip() {}

    /** Elements per block of {@link #sumOfSquares}: the order of its sums depends on this alone, not on the threads. */
    static final int BLOCK = 1 << 14;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F =
            VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));
    private static final boolean VECTOR = F.length() == D.length();

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
     * {@link #BLOCK}; within a block, lane l of D.length() double accumulators sums the squares of elements
     * l, l + L, l + 2L, … in index order, the lanes are then added in lane order and the block's scalar tail in index
     * order; the blocks (summed in parallel) are added in block order. IEEE operations only (no fused multiply-add),
     * the same bits compiled or interpreted.
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

    private static double blockSumOfSquares(float[] g, int lo, int hi) {
        int i = lo;
        double s = 0.0;
        if (VECTOR) {
            int L = D.length();
            DoubleVector acc = DoubleVector.zero(D);
            for (; i + L <= hi; i += L) {
                DoubleVector x = (DoubleVector) FloatVector.fromArray(F, g, i).convertShape(VectorOperators.F2D, D, 0);
                acc = acc.add(x.mul(x));
            }
            for (int l = 0; l < L; l++) s += acc.lane(l);
        }
        for (; i < hi; i++) s += (double) g[i] * g[i];
        return s;
    }
}

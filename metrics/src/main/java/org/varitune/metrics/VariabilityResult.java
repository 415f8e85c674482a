package org.varitune.metrics;

import java.util.OptionalDouble;

/**
 * The ratio of one layer, with what produced it. nu is undefined (empty, with the reason) when every class has the
 * same mean at this layer (Sb = 0, see {@link RatioMath}); nothing else about the layer is then a ratio.
 *
 * @param layer                 hidden_states index (0 = embeddings)
 * @param nu                    (1/C) trace(Sw Sb⁺) over all examples; empty when undefined
 * @param undefinedReason       why nu is empty; null exactly when nu is present
 * @param variant               scatter definition used
 * @param relativeTolerance     eigenvalues of Sb kept when &gt; this · λ_max (and at most C − 1 of them)
 * @param rank                  eigenpairs of Sb kept (0 when undefined)
 * @param traceSw               trace(Sw)
 * @param traceSb               trace(Sb)
 * @param keptEigenvalues       kept eigenvalues of Sb, descending
 * @param droppedEigenvalues    nonzero eigenvalues of Sb dropped by tolerance or rank cap
 */
public record VariabilityResult(int layer, OptionalDouble nu, String undefinedReason, Variant variant,
                                double relativeTolerance, int rank, double traceSw, double traceSb,
                                double[] keptEigenvalues, int droppedEigenvalues) {
    public VariabilityResult {
        if (nu.isPresent() == (undefinedReason != null)) {
            throw new IllegalArgumentException("layer " + layer + ": nu must be present exactly when no undefined reason is given");
        }
    }

    /** A layer with a defined ratio. */
    public static VariabilityResult of(int layer, double nu, Variant variant, double relativeTolerance, int rank,
                                       double traceSw, double traceSb, double[] keptEigenvalues, int droppedEigenvalues) {
        return new VariabilityResult(layer, OptionalDouble.of(nu), null, variant, relativeTolerance, rank, traceSw, traceSb,
                keptEigenvalues, droppedEigenvalues);
    }

    public boolean defined() { return nu.isPresent(); }

    /** nu, or an IllegalStateException naming the layer and why nu is undefined there. */
    public double nuOrThrow() {
        if (nu.isEmpty()) throw new IllegalStateException("nu of layer " + layer + " is undefined: " + undefinedReason);
        return nu.getAsDouble();
    }
}

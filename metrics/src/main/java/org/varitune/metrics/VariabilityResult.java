package org.varitune.metrics;

/**
 * The ratio of one layer, with what produced it.
 *
 * @param layer                 hidden_states index (0 = embeddings)
 * @param nu                    (1/C) trace(Sw Sb⁺)
 * @param variant               scatter definition used
 * @param relativeTolerance     eigenvalues of Sb kept when &gt; this · λ_max (and at most C − 1 of them)
 * @param rank                  eigenpairs of Sb kept
 * @param traceSw               trace(Sw)
 * @param traceSb               trace(Sb)
 * @param keptEigenvalues       kept eigenvalues of Sb, descending
 * @param droppedEigenvalues    nonzero eigenvalues of Sb dropped by tolerance or rank cap
 */
public record VariabilityResult(int layer, double nu, Variant variant, double relativeTolerance, int rank,
                                double traceSw, double traceSb, double[] keptEigenvalues, int droppedEigenvalues) {}

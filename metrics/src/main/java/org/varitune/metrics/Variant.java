package org.varitune.metrics;

import org.varitune.transformer.io.Spelled;

/**
 * Which within/between scatter definition a ratio uses. Both compute {@code nu = (1/C) trace(Sw Sb⁺)} with the same
 * pseudo-inverse ({@link RatioMath}); they differ in how examples and classes are weighted. Spelled {@code paper}
 * and {@code papyan} ({@link Spelled}).
 */
public enum Variant implements Spelled {
    /**
     * Xie et al. 2022, eq. (3), the default. Classes weigh equally whatever their sizes:
     * {@code Sw = (1/C) Σ_y (1/n_y) Σ_{n∈y} (h_n − m_y)(h_n − m_y)ᵀ},
     * {@code Sb = (1/C) Σ_y (m_y − m)(m_y − m)ᵀ} with {@code m = (1/C) Σ_y m_y}. Duplicating every example of a class
     * leaves it unchanged.
     */
    PAPER_CLASS_BALANCED("paper"),
    /**
     * NC1 of Papyan, Han and Donoho 2020 ("Prevalence of neural collapse", Σ_W and Σ_B with Ave over examples and
     * classes), written out for unbalanced data the way their averages read literally:
     * {@code Sw = (1/N) Σ_n (h_n − m_{y_n})(h_n − m_{y_n})ᵀ} (every example weighs 1/N),
     * {@code Sb = (1/C) Σ_y (m_y − μ_G)(m_y − μ_G)ᵀ} with the global sample mean {@code μ_G = (1/N) Σ_n h_n}.
     * On balanced data it equals {@link #PAPER_CLASS_BALANCED}.
     */
    PAPYAN_SAMPLE_WEIGHTED("papyan");

    private final String spelling;

    Variant(String spelling) { this.spelling = spelling; }

    @Override public String spelling() { return spelling; }

    @Override public String toString() { return spelling; }
}

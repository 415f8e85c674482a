package org.varitune.training;

import org.varitune.transformer.io.Spelled;

import java.util.List;

/**
 * How the frozen layers under the tuned block run ({@code --prefix-policy}, YAML {@code train.prefix_policy}). Let
 * {@code lo} be the highest frozen layer below the tuned block, {@link LayerPlan#prefixEnd()} (first tuned layer − 1;
 * l for PROBE, 0 for FULL); the {@link LayerPlan} resolves each policy into its prefix split. {@code cached} and {@code recompute} compute the same
 * function (the cache is tested against the recomputation); {@code authors-dropout} is a different function.
 */
public enum PrefixCachePolicy implements Spelled {
    /**
     * {@code cached} (the default; spelled {@code auto} before): the frozen prefix runs in evaluation mode (no dropout)
     * and, when lo &gt;= 1, its output (hidden state lo) is computed once per example and reused every epoch (in
     * memory, or memory-mapped above the limit); each step runs layers lo+1..l only. With lo = 0 there is no prefix to
     * cache and it equals {@link #RECOMPUTE}.
     */
    CACHED("cached", "auto"),
    /**
     * {@code recompute} (spelled {@code off} before): the same math as {@link #CACHED} (frozen prefix in evaluation
     * mode) but recomputed every step, never stored: the reference the cache is tested against.
     */
    RECOMPUTE("recompute", "off"),
    /**
     * {@code authors-dropout}: the authors' semantics: dropout on in the frozen layers too (they run in training mode
     * as in a plain HF fine-tuning script with {@code requires_grad=False}), so nothing can be cached.
     */
    AUTHORS_DROPOUT("authors-dropout");

    private final String spelling;
    private final List<String> oldSpellings;

    PrefixCachePolicy(String spelling, String... oldSpellings) {
        this.spelling = spelling;
        this.oldSpellings = List.of(oldSpellings);
    }

    @Override public String spelling() { return spelling; }

    @Override public List<String> oldSpellings() { return oldSpellings; }

    @Override public String toString() { return spelling; }
}

package org.varitune.training.trainer;

import java.util.Locale;

/**
 * How the frozen layers under the tuned block run. Let {@code lo} be the highest frozen layer below the tuned block
 * (the embeddings and layers 1..lo are frozen; lo = l − k for PARTIAL / ADAPTERS / TOP_K, lo = l for PROBE, 0 for FULL).
 */
public enum PrefixCachePolicy {
    /**
     * The frozen prefix runs in evaluation mode (no dropout) and, when lo &gt;= 1, its output (hidden state lo) is
     * computed once per example and reused every epoch (in memory, or memory-mapped above the limit); each step runs
     * layers lo+1..l only. The default.
     */
    AUTO,
    /**
     * The same math as {@link #AUTO} (frozen prefix in evaluation mode) but recomputed every step, never stored: the
     * reference the cache is tested against.
     */
    OFF,
    /**
     * The authors' semantics: dropout on in the frozen layers too (they run in training mode as in a plain HF
     * fine-tuning script with {@code requires_grad=False}), so nothing can be cached.
     */
    AUTHORS_DROPOUT;

    /** The CLI spelling: {@code auto}, {@code off}, {@code authors-dropout}. */
    public String cliName() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    /** Parses {@link #cliName()} (or the enum name); an unknown value is an error listing the choices. */
    public static PrefixCachePolicy parse(String s) {
        for (PrefixCachePolicy p : values()) if (p.cliName().equals(s) || p.name().equals(s)) return p;
        throw new IllegalArgumentException("unknown cache policy '" + s + "' (expected auto, off or authors-dropout)");
    }
}

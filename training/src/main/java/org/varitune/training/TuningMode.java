package org.varitune.training;

import org.varitune.transformer.io.Spelled;

/**
 * What is trained, for a head on layer l (1..L) of an L-layer encoder and a count k (the layers are resolved by
 * {@link LayerPlan#of}):
 * <ul>
 *   <li>{@code full} ({@link #FULL}): embeddings, layers 1..l and the head (HF fine-tuning when l = L);</li>
 *   <li>{@code top-k} ({@link #TOP_K}): the head on layer L and layers L−k+1..L;</li>
 *   <li>{@code partial} ({@link #PARTIAL}): the head on layer l and layers M−k+1..M (M = l by default);</li>
 *   <li>{@code adapters} ({@link #ADAPTERS}): the head on layer l, and in layers M−k+1..M only the adapters and the
 *       LayerNorms;</li>
 *   <li>{@code probe} ({@link #PROBE}): the head on layer l only (a linear/MLP probe of frozen features);</li>
 *   <li>{@code lora} ({@link #LORA}): the head on layer l, and LoRA's low-rank updates on chosen Linears of layers
 *       M−k+1..M (or of every layer 1..l).</li>
 * </ul>
 * What each mode trains inside its layers is its {@link org.varitune.training.method.TuningMethod}.
 */
public enum TuningMode implements Spelled {
    FULL("full"), TOP_K("top-k"), PARTIAL("partial"), ADAPTERS("adapters"), PROBE("probe"), LORA("lora");

    private final String spelling;

    TuningMode(String spelling) { this.spelling = spelling; }

    /** Whether the mode tunes a block of k layers (TOP_K, PARTIAL, ADAPTERS, LORA); FULL and PROBE ignore k. */
    public boolean usesK() { return this == TOP_K || this == PARTIAL || this == ADAPTERS || this == LORA; }

    /** Whether the tuned block may end below the head layer (PARTIAL, ADAPTERS, LORA: {@code tune_last_layer} &lt; l). */
    public boolean tunesBelowHead() { return this == PARTIAL || this == ADAPTERS || this == LORA; }

    @Override public String spelling() { return spelling; }

    @Override public String toString() { return spelling; }
}

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
 *       M−k+1..M (or of every layer 1..l);</li>
 *   <li>{@code bitfit} ({@link #BITFIT}): the head on layer l, and only the chosen bias vectors of layers M−k+1..M
 *       (BitFit; all of them by default).</li>
 * </ul>
 * What each mode trains inside its layers is its {@link org.varitune.training.method.TuningMethod}, registered in
 * {@link org.varitune.training.method.TuningMethods}; which layers it tunes is its {@link Block}. A new method is a
 * constant here and its line there ({@code docs/adding-a-tuning-method.md}).
 */
public enum TuningMode implements Spelled {
    FULL("full", Block.EMBEDDINGS_TO_HEAD),
    TOP_K("top-k", Block.TOP),
    PARTIAL("partial", Block.ANY),
    ADAPTERS("adapters", Block.ANY),
    PROBE("probe", Block.NONE),
    LORA("lora", Block.ANY),
    BITFIT("bitfit", Block.ANY);

    /** Which layers a mode tunes ({@link LayerPlan#of} builds the plan from it). */
    public enum Block {
        /** The embeddings and layers 1..l (k ignored). */
        EMBEDDINGS_TO_HEAD,
        /** No layer, only the head (k ignored). */
        NONE,
        /** Layers L−k+1..L under a head on the top layer L. */
        TOP,
        /** Layers M−k+1..M, M = {@code tune_last_layer} in k..l (default l). */
        ANY
    }

    private final String spelling;
    private final Block block;

    TuningMode(String spelling, Block block) {
        this.spelling = spelling;
        this.block = block;
    }

    /** Which layers the mode tunes. */
    public Block block() { return block; }

    /** Whether the mode tunes a block of k layers ({@link Block#TOP}, {@link Block#ANY}); the others ignore k. */
    public boolean usesK() { return block == Block.TOP || block == Block.ANY; }

    /** Whether the tuned block may end below the head layer ({@link Block#ANY}: {@code tune_last_layer} &lt; l). */
    public boolean tunesBelowHead() { return block == Block.ANY; }

    /** The modes whose block may end below the head, as a list for messages: {@code partial, adapters, lora, bitfit}. */
    public static String tuningBelowHead() {
        java.util.StringJoiner j = new java.util.StringJoiner(", ");
        for (TuningMode m : values()) if (m.tunesBelowHead()) j.add(m.spelling);
        return j.toString();
    }

    @Override public String spelling() { return spelling; }

    @Override public String toString() { return spelling; }
}

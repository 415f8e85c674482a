package org.varitune.transformer.tokenize;

/** Placeholder until the tokenizer lands: a padded batch, arrays (B, T) row-major. */
public record Batch(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int[] specialTokensMask, int B, int T) {}

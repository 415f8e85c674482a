package org.varitune.training;

/**
 * What is trained, for a head on layer l (1..L) of an L-layer encoder and a count k (see {@link FreezePolicy}):
 * <ul>
 *   <li>{@link #FULL}: embeddings, layers 1..l and the head (HF fine-tuning when l = L);</li>
 *   <li>{@link #TOP_K}: the head on layer L and layers L−k+1..L;</li>
 *   <li>{@link #PARTIAL}: the head on layer l and layers l−k+1..l;</li>
 *   <li>{@link #ADAPTERS}: the head on layer l, and in layers l−k+1..l only the adapters and the LayerNorms;</li>
 *   <li>{@link #PROBE}: the head on layer l only (a linear/MLP probe of frozen features).</li>
 * </ul>
 */
public enum TuningMode { FULL, TOP_K, PARTIAL, ADAPTERS, PROBE }

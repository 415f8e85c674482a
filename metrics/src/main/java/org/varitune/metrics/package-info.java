/**
 * Hidden-state variability ratio of Xie et al. 2022 and what is built on it.
 *
 * <h2>Layer indexing</h2>
 * Layer index {@code l} is the index into Hugging Face's {@code hidden_states} tuple (with
 * {@code output_hidden_states=True}): {@code hidden_states[0]} is the embedding output (after the embedding
 * LayerNorm), {@code hidden_states[l]} for {@code l = 1..L} is the output of encoder layer {@code l}. The paper's
 * "layer l" is {@code hidden_states[l]}. Every per-layer array in this package has {@code L + 1} entries in that
 * order, so index 0 is the embeddings and is never a candidate head layer unless asked for
 * ({@link org.varitune.metrics.LayerSelection}).
 *
 * <h2>The ratio</h2>
 * For one layer, with pooled vectors {@code h_n} (one per training input, see {@link org.varitune.transformer.layers.Pooling}),
 * classes {@code y = 0..C-1} with {@code n_y} examples, class means {@code m_y} and the unweighted mean of means
 * {@code m = (1/C) Σ_y m_y}:
 * <pre>
 *   Sw = (1/C) Σ_y (1/n_y) Σ_{n in y} (h_n − m_y)(h_n − m_y)ᵀ      population covariance, classes weigh equally
 *   Sb = (1/C) Σ_y (m_y − m)(m_y − m)ᵀ
 *   nu = (1/C) trace(Sw Sb⁺)
 * </pre>
 * See {@link org.varitune.metrics.Variant} for the sample-weighted variant and {@link org.varitune.metrics.RatioMath}
 * for the pseudo-inverse and its tolerance.
 */
package org.varitune.metrics;

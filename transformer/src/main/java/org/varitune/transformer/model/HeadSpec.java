package org.varitune.transformer.model;

/**
 * One HF sequence-classification head, as data: first-token (or configured) pooling, an optional dropout, a dense
 * layer with an activation, a dropout, the output projection.
 * <pre>
 *   x      = dropoutBeforeDense ? dropout₁(p) : p         // p = pooling(h), (B, C)
 *   a      = activation(dense(x))                        // (B, C)
 *   logits = out(dropout₂(a))                            // (B, K)
 * </pre>
 * BERT: {@code pooler.dense} + tanh + {@code classifier}; RoBERTa: dropout + {@code classifier.dense} + tanh +
 * {@code classifier.out_proj}; DistilBERT: {@code pre_classifier} + ReLU + {@code classifier}.
 *
 * @param architecture       HF {@code architectures} entry, e.g. {@code BertForSequenceClassification}
 * @param dense              name of the dense Linear
 * @param denseUnderPrefix   whether a checkpoint stores the dense under the encoder prefix ({@code bert.pooler.dense})
 * @param activation         the dense layer's activation
 * @param dropoutBeforeDense whether a dropout precedes the dense layer too
 * @param out                name of the output Linear
 */
public record HeadSpec(String architecture, String dense, boolean denseUnderPrefix, Activation activation,
                       boolean dropoutBeforeDense, String out) {

    /** The dense layer's activation. */
    public enum Activation {
        TANH, RELU;

        /** The activation at z. */
        public float apply(float z) { return this == TANH ? (float) Math.tanh(z) : Math.max(z, 0f); }

        /** d(activation)/dz written in terms of the output y = activation(z): tanh 1 − y², ReLU [y &gt; 0]. */
        public float derivativeFromOutput(float y) { return this == TANH ? 1f - y * y : (y > 0f ? 1f : 0f); }
    }
}

package org.varitune.transformer.model;

/**
 * Tensor names of one post-LN layer (prefixes of {@code .weight}/{@code .bias}, no checkpoint prefix) and which of
 * HF's dropouts it applies:
 * <pre>
 *   h1 = attentionNorm(adapter₁(dropout?(attentionOutput(attention(query, key, value)(x)))) + x)
 *   y  = outputNorm(adapter₂(dropout(output(gelu(intermediate(h1))))) + h1)
 * </pre>
 *
 * @param attentionOutputDropout whether {@code hidden_dropout_prob} applies after {@code attentionOutput} (BERT's
 *                               {@code BertSelfOutput}: yes; DistilBERT's {@code out_lin}: no)
 * @param attentionAdapter       name of the adapter inserted after {@code attentionOutput} (ours, not HF's)
 * @param outputAdapter          name of the adapter inserted after {@code output}
 */
public record LayerWiring(String query, String key, String value, String attentionOutput, String attentionNorm,
                          String intermediate, String output, String outputNorm, boolean attentionOutputDropout,
                          String attentionAdapter, String outputAdapter) {

    /** BERT's names under {@code encoder.layer.<index>.}, shared by RoBERTa. */
    public static LayerWiring bert(int index) {
        String p = "encoder.layer." + index + ".";
        return new LayerWiring(p + "attention.self.query", p + "attention.self.key", p + "attention.self.value",
                p + "attention.output.dense", p + "attention.output.LayerNorm", p + "intermediate.dense",
                p + "output.dense", p + "output.LayerNorm", true, p + "attention.output.adapter", p + "output.adapter");
    }

    /** The name of the Linear that plays {@code role} in this layer ({@code encoder.layer.0.attention.self.query}). */
    public String linear(LinearRole role) {
        return switch (role) {
            case QUERY -> query;
            case KEY -> key;
            case VALUE -> value;
            case ATTENTION_OUTPUT -> attentionOutput;
            case INTERMEDIATE -> intermediate;
            case OUTPUT -> output;
        };
    }

    /** Whether {@code localName} is a LayerNorm weight or bias of this layer. */
    public boolean isNorm(String localName) {
        return localName.startsWith(attentionNorm + ".") || localName.startsWith(outputNorm + ".");
    }
}

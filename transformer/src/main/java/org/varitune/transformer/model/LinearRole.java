package org.varitune.transformer.model;

import org.varitune.transformer.io.Spelled;

/**
 * The six Linears of an encoder layer by what they do, so that a tuning method can name its targets once for every
 * family ({@code --lora-targets query,value}); {@link LayerWiring#linear} maps a role to the family's tensor name
 * (BERT {@code attention.self.query}, DistilBERT {@code attention.q_lin}).
 */
public enum LinearRole implements Spelled {
    QUERY("query"), KEY("key"), VALUE("value"), ATTENTION_OUTPUT("attention-output"), INTERMEDIATE("intermediate"),
    OUTPUT("output");

    private final String spelling;

    LinearRole(String spelling) { this.spelling = spelling; }

    @Override public String spelling() { return spelling; }

    @Override public String toString() { return spelling; }
}

package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.varitune.transformer.model.ConfigKeys.bool;
import static org.varitune.transformer.model.ConfigKeys.intRequired;
import static org.varitune.transformer.model.ConfigKeys.number;
import static org.varitune.transformer.model.ConfigKeys.text;

/**
 * HF {@code DistilBertModel} / {@code DistilBertForSequenceClassification} ({@code modeling_distilbert.py}): prefix
 * {@code distilbert.}; embeddings {@code LN(word[id] + position[t])} with no token types; layers
 * {@code transformer.layer.<i>.} with {@code attention.{q,k,v,out}_lin}, {@code sa_layer_norm}, {@code ffn.lin1/lin2}
 * and {@code output_layer_norm}, dropout on the attention probabilities and after {@code ffn.lin2} only (none after
 * {@code out_lin}); every LayerNorm eps 1e-12 (fixed in HF's code); no pooler; head
 * {@code classifier(dropout(ReLU(pre_classifier(h[:, 0]))))}. The MLM head of {@code DistilBertForMaskedLM}
 * ({@code vocab_transform}, {@code vocab_layer_norm}, {@code vocab_projector}) lies outside the encoder's namespace and
 * is ignored.
 */
public final class DistilBertFamily implements ModelFamily {
    private static final Pattern LAYER = Pattern.compile("^transformer\\.layer\\.(\\d+)\\.");
    /** HF {@code DistilBertConfig}'s LayerNorm eps, hard-coded in {@code modeling_distilbert.py}. */
    static final double LAYER_NORM_EPS = 1e-12;

    DistilBertFamily() {}

    @Override public String toString() { return modelType(); }
    @Override public String modelType() { return "distilbert"; }
    @Override public String prefix() { return "distilbert."; }
    @Override public String encoderArchitecture() { return "DistilBertModel"; }
    @Override public boolean tokenTypes() { return false; }

    /**
     * Keys (HF {@code DistilBertConfig}): {@code vocab_size}, {@code dim} (C), {@code n_layers} (L), {@code n_heads}
     * (H), {@code hidden_dim} (I), {@code max_position_embeddings} required; {@code activation} (gelu),
     * {@code pad_token_id} (0), {@code dropout} (0.1, as hidden_dropout_prob), {@code attention_dropout} (0.1),
     * {@code seq_classif_dropout} (0.2, the head's). {@code sinusoidal_pos_embds: true} (fixed sinusoidal positions)
     * is rejected.
     */
    @Override
    public EncoderConfig readConfig(JsonNode root) {
        if (bool(root, "sinusoidal_pos_embds", false)) {
            throw new IllegalArgumentException("key 'sinusoidal_pos_embds' is true: sinusoidal position embeddings are "
                    + "not supported (only learned ones, sinusoidal_pos_embds: false)");
        }
        return new EncoderConfig(modelType(), intRequired(root, "vocab_size"), intRequired(root, "dim"),
                intRequired(root, "n_layers"), intRequired(root, "n_heads"), intRequired(root, "hidden_dim"),
                text(root, "activation", "gelu"), LAYER_NORM_EPS, intRequired(root, "max_position_embeddings"), 0,
                (int) number(root, "pad_token_id", 0), number(root, "dropout", 0.1),
                number(root, "attention_dropout", 0.1), number(root, "seq_classif_dropout", 0.2));
    }

    @Override
    public ObjectNode writeConfig(EncoderConfig c) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model_type", c.modelType());
        o.putArray("architectures").add(encoderArchitecture());
        o.put("vocab_size", c.vocabSize());
        o.put("dim", c.hiddenSize());
        o.put("n_layers", c.numHiddenLayers());
        o.put("n_heads", c.numAttentionHeads());
        o.put("hidden_dim", c.intermediateSize());
        o.put("activation", c.hiddenAct());
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("sinusoidal_pos_embds", false);
        o.put("pad_token_id", c.padTokenId());
        o.put("dropout", c.hiddenDropoutProb());
        o.put("attention_dropout", c.attentionProbsDropoutProb());
        o.put("seq_classif_dropout", c.classifierDropout());
        return o;
    }

    @Override
    public int[] positionIds(int[] inputIds, int B, int T, EncoderConfig config) {
        int[] pos = new int[B * T];
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) pos[b * T + t] = t;
        return pos;
    }

    @Override public Optional<Integer> positionPaddingRow(EncoderConfig config) { return Optional.empty(); }

    @Override
    public LayerWiring layer(int index) {
        String p = "transformer.layer." + index + ".";
        return new LayerWiring(p + "attention.q_lin", p + "attention.k_lin", p + "attention.v_lin",
                p + "attention.out_lin", p + "sa_layer_norm", p + "ffn.lin1", p + "ffn.lin2", p + "output_layer_norm",
                false, p + "attention.adapter", p + "ffn.adapter");
    }

    @Override
    public Optional<Integer> layerIndex(String localName) {
        Matcher m = LAYER.matcher(localName);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    @Override public Set<String> encoderRoots() { return Set.of("embeddings", "transformer"); }
    @Override public Set<String> buffers() { return Set.of("embeddings.position_ids"); }
    @Override public Optional<String> pooler() { return Optional.empty(); }

    @Override
    public HeadSpec head() {
        return new HeadSpec("DistilBertForSequenceClassification", "pre_classifier", false, HeadSpec.Activation.RELU,
                false, "classifier");
    }
}

package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.varitune.transformer.model.ConfigKeys.intRequired;
import static org.varitune.transformer.model.ConfigKeys.number;
import static org.varitune.transformer.model.ConfigKeys.text;

/**
 * HF {@code BertModel} / {@code BertForSequenceClassification}: prefix {@code bert.}, token types, positions
 * {@code 0..T−1}, layers {@code encoder.layer.<i>.} ({@link LayerWiring#bert}), pooler {@code pooler.dense}, head
 * {@code tanh(pooler.dense(h[:, 0]))} then {@code classifier}.
 */
public final class BertFamily implements ModelFamily {
    static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    BertFamily() {}

    @Override public String toString() { return modelType(); }

    @Override public String modelType() { return "bert"; }
    @Override public String prefix() { return "bert."; }
    @Override public String encoderArchitecture() { return "BertModel"; }
    @Override public boolean tokenTypes() { return true; }

    /**
     * Keys (HF {@code BertConfig}): {@code vocab_size}, {@code hidden_size}, {@code num_hidden_layers},
     * {@code num_attention_heads}, {@code intermediate_size}, {@code max_position_embeddings} required;
     * {@code hidden_act} (gelu), {@code layer_norm_eps} (1e-12), {@code type_vocab_size} (2), {@code pad_token_id}
     * (0), {@code hidden_dropout_prob} (0.1), {@code attention_probs_dropout_prob} (0.1); only
     * {@code position_embedding_type} "absolute". The head's dropout is {@code hidden_dropout_prob}.
     */
    @Override public EncoderConfig readConfig(JsonNode root) { return readBertKeys(root, modelType()); }

    /** BERT's keys, shared by RoBERTa (whose {@code config.json} spells the same keys). */
    static EncoderConfig readBertKeys(JsonNode root, String modelType) {
        String posType = text(root, "position_embedding_type", "absolute");
        if (!posType.equals("absolute")) {
            throw new IllegalArgumentException("position_embedding_type '" + posType + "' is not supported (only absolute)");
        }
        double hiddenDropout = number(root, "hidden_dropout_prob", 0.1);
        return new EncoderConfig(modelType, intRequired(root, "vocab_size"), intRequired(root, "hidden_size"),
                intRequired(root, "num_hidden_layers"), intRequired(root, "num_attention_heads"),
                intRequired(root, "intermediate_size"), text(root, "hidden_act", "gelu"),
                number(root, "layer_norm_eps", 1e-12), intRequired(root, "max_position_embeddings"),
                (int) number(root, "type_vocab_size", 2), (int) number(root, "pad_token_id", 0), hiddenDropout,
                number(root, "attention_probs_dropout_prob", 0.1), hiddenDropout);
    }

    @Override public ObjectNode writeConfig(EncoderConfig c) { return writeBertKeys(c, encoderArchitecture()); }

    static ObjectNode writeBertKeys(EncoderConfig c, String architecture) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model_type", c.modelType());
        o.putArray("architectures").add(architecture);
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.hiddenSize());
        o.put("num_hidden_layers", c.numHiddenLayers());
        o.put("num_attention_heads", c.numAttentionHeads());
        o.put("intermediate_size", c.intermediateSize());
        o.put("hidden_act", c.hiddenAct());
        o.put("layer_norm_eps", c.layerNormEps());
        o.put("max_position_embeddings", c.maxPositionEmbeddings());
        o.put("type_vocab_size", c.typeVocabSize());
        o.put("pad_token_id", c.padTokenId());
        o.put("hidden_dropout_prob", c.hiddenDropoutProb());
        o.put("attention_probs_dropout_prob", c.attentionProbsDropoutProb());
        o.put("position_embedding_type", "absolute");
        return o;
    }

    @Override
    public int[] positionIds(int[] inputIds, int B, int T, EncoderConfig config) {
        int[] pos = new int[B * T];
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) pos[b * T + t] = t;
        return pos;
    }

    @Override public Optional<Integer> positionPaddingRow(EncoderConfig config) { return Optional.empty(); }
    @Override public LayerWiring layer(int index) { return LayerWiring.bert(index); }
    @Override public Optional<Integer> layerIndex(String localName) { return bertLayerIndex(localName); }

    static Optional<Integer> bertLayerIndex(String localName) {
        Matcher m = LAYER.matcher(localName);
        return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
    }

    @Override public Set<String> encoderRoots() { return Set.of("embeddings", "encoder", "pooler"); }
    @Override public Optional<String> pooler() { return Optional.of("pooler.dense"); }

    @Override
    public HeadSpec head() {
        return new HeadSpec("BertForSequenceClassification", "pooler.dense", true, HeadSpec.Activation.TANH, false,
                "classifier");
    }
}

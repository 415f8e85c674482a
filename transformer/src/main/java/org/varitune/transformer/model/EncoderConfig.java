package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * A Hugging Face {@code config.json} for a BERT or RoBERTa encoder, immutable. Fields mirror the HF keys in
 * camelCase; {@link #read(Path)} fails with the file and key named when a required key is missing or a value is
 * unsupported.
 *
 * @param modelType                 {@code model_type}: {@code bert} or {@code roberta} (required)
 * @param vocabSize                 {@code vocab_size} (required)
 * @param hiddenSize                {@code hidden_size} = C (required)
 * @param numHiddenLayers           {@code num_hidden_layers} = L (required)
 * @param numAttentionHeads         {@code num_attention_heads} = H; must divide hiddenSize (required)
 * @param intermediateSize          {@code intermediate_size} = I (required)
 * @param hiddenAct                 {@code hidden_act}: only {@code gelu} (exact erf GELU) is supported; default gelu
 * @param layerNormEps              {@code layer_norm_eps}; default 1e-12 (BERT's; RoBERTa configs say 1e-5)
 * @param maxPositionEmbeddings     {@code max_position_embeddings} (required)
 * @param typeVocabSize             {@code type_vocab_size}; default 2 (RoBERTa: 1)
 * @param padTokenId                {@code pad_token_id}; default 0 (RoBERTa: 1, also its position padding_idx)
 * @param hiddenDropoutProb         {@code hidden_dropout_prob}; default 0.1
 * @param attentionProbsDropoutProb {@code attention_probs_dropout_prob}; default 0.1
 */
public record EncoderConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double layerNormEps,
        int maxPositionEmbeddings,
        int typeVocabSize,
        int padTokenId,
        double hiddenDropoutProb,
        double attentionProbsDropoutProb) {

    private static final Set<String> MODEL_TYPES = Set.of("bert", "roberta");

    public EncoderConfig {
        if (!MODEL_TYPES.contains(modelType)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not supported (expected bert or roberta)");
        }
        if (!"gelu".equals(hiddenAct)) {
            throw new IllegalArgumentException("hidden_act '" + hiddenAct + "' is not supported: only 'gelu' (exact erf GELU)");
        }
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        requirePositive("type_vocab_size", typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numAttentionHeads);
        }
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " outside vocabulary of " + vocabSize);
        }
    }

    private static void requirePositive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }

    /** Head size D = C / H. */
    public int headSize() { return hiddenSize / numAttentionHeads; }

    public boolean isRoberta() { return modelType.equals("roberta"); }

    /** The same config with a different number of layers (an encoder truncated at its head layer). */
    public EncoderConfig withNumHiddenLayers(int layers) {
        return new EncoderConfig(modelType, vocabSize, hiddenSize, layers, numAttentionHeads, intermediateSize,
                hiddenAct, layerNormEps, maxPositionEmbeddings, typeVocabSize, padTokenId, hiddenDropoutProb,
                attentionProbsDropoutProb);
    }

    /** Reads {@code config.json} (a file, or a model directory holding one). */
    public static EncoderConfig read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        if (!Files.exists(file)) throw new IOException(file + ": no config.json");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses a config.json tree; see the record's documentation for required keys and defaults. */
    public static EncoderConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) throw new IllegalArgumentException("config is not a JSON object");
        String act = text(root, "hidden_act", "gelu");
        String posType = text(root, "position_embedding_type", "absolute");
        if (!posType.equals("absolute")) {
            throw new IllegalArgumentException("position_embedding_type '" + posType + "' is not supported (only absolute)");
        }
        return new EncoderConfig(
                textRequired(root, "model_type"),
                intRequired(root, "vocab_size"),
                intRequired(root, "hidden_size"),
                intRequired(root, "num_hidden_layers"),
                intRequired(root, "num_attention_heads"),
                intRequired(root, "intermediate_size"),
                act,
                number(root, "layer_norm_eps", 1e-12),
                intRequired(root, "max_position_embeddings"),
                (int) number(root, "type_vocab_size", 2),
                (int) number(root, "pad_token_id", 0),
                number(root, "hidden_dropout_prob", 0.1),
                number(root, "attention_probs_dropout_prob", 0.1));
    }

    /** The HF {@code config.json} tree for this config. */
    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model_type", modelType);
        o.putArray("architectures").add(isRoberta() ? "RobertaModel" : "BertModel");
        o.put("vocab_size", vocabSize);
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("hidden_act", hiddenAct);
        o.put("layer_norm_eps", layerNormEps);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("type_vocab_size", typeVocabSize);
        o.put("pad_token_id", padTokenId);
        o.put("hidden_dropout_prob", hiddenDropoutProb);
        o.put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        o.put("position_embedding_type", "absolute");
        return o;
    }

    private static String textRequired(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing required key '" + key + "'");
        if (!n.isTextual()) throw new IllegalArgumentException("key '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    private static String text(JsonNode root, String key, String dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isTextual()) throw new IllegalArgumentException("key '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    private static int intRequired(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing required key '" + key + "'");
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("key '" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static double number(JsonNode root, String key, double dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw new IllegalArgumentException("key '" + key + "' must be a number, got " + n);
        return n.asDouble();
    }
}

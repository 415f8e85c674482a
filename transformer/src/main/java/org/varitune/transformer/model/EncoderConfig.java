package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The common form of an encoder's HF {@code config.json}, immutable: every family ({@link ModelFamily}) reads its own
 * keys into these fields ({@link ModelFamily#readConfig}); the names are BERT's keys in camelCase. {@link #read(Path)}
 * fails with the file and key named when a required key is missing or a value is unsupported.
 *
 * @param modelType                 {@code model_type}, one of {@link ModelFamilies#all()} (required)
 * @param vocabSize                 {@code vocab_size} (required)
 * @param hiddenSize                {@code hidden_size} = C (required)
 * @param numHiddenLayers           {@code num_hidden_layers} = L (required)
 * @param numAttentionHeads         {@code num_attention_heads} = H; must divide hiddenSize (required)
 * @param intermediateSize          {@code intermediate_size} = I (required)
 * @param hiddenAct                 {@code hidden_act}: only {@code gelu} (exact erf GELU) is supported; default gelu
 * @param layerNormEps              {@code layer_norm_eps}; default 1e-12 (BERT's; RoBERTa configs say 1e-5)
 * @param maxPositionEmbeddings     {@code max_position_embeddings} (required)
 * @param typeVocabSize             {@code type_vocab_size}; default 2 (RoBERTa: 1); 0 exactly when the family has no
 *                                  token types
 * @param padTokenId                {@code pad_token_id}; default 0 (RoBERTa: 1, also its position padding_idx)
 * @param hiddenDropoutProb         {@code hidden_dropout_prob}; default 0.1
 * @param attentionProbsDropoutProb {@code attention_probs_dropout_prob}; default 0.1
 * @param classifierDropout         the dropout of the family's classification head: BERT/RoBERTa
 *                                  {@code hidden_dropout_prob}
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
        double attentionProbsDropoutProb,
        double classifierDropout) {

    public EncoderConfig {
        ModelFamily family = ModelFamilies.of(modelType);
        if (!"gelu".equals(hiddenAct)) {
            throw new IllegalArgumentException("hidden_act '" + hiddenAct + "' is not supported: only 'gelu' (exact erf GELU)");
        }
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        if (family.tokenTypes()) requirePositive("type_vocab_size", typeVocabSize);
        else if (typeVocabSize != 0) throw new IllegalArgumentException(modelType + " has no token types, type_vocab_size " + typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numAttentionHeads);
        }
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " outside vocabulary of " + vocabSize);
        }
    }

    /** A config whose head dropout is {@code hiddenDropoutProb} (BERT's and RoBERTa's rule). */
    public EncoderConfig(String modelType, int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                         int intermediateSize, String hiddenAct, double layerNormEps, int maxPositionEmbeddings,
                         int typeVocabSize, int padTokenId, double hiddenDropoutProb, double attentionProbsDropoutProb) {
        this(modelType, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                layerNormEps, maxPositionEmbeddings, typeVocabSize, padTokenId, hiddenDropoutProb,
                attentionProbsDropoutProb, hiddenDropoutProb);
    }

    private static void requirePositive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }

    /** Head size D = C / H. */
    public int headSize() { return hiddenSize / numAttentionHeads; }

    /** The architecture this config belongs to. */
    public ModelFamily family() { return ModelFamilies.of(modelType); }

    /** The same config with a different number of layers (an encoder truncated at its head layer). */
    public EncoderConfig withNumHiddenLayers(int layers) {
        return new EncoderConfig(modelType, vocabSize, hiddenSize, layers, numAttentionHeads, intermediateSize,
                hiddenAct, layerNormEps, maxPositionEmbeddings, typeVocabSize, padTokenId, hiddenDropoutProb,
                attentionProbsDropoutProb, classifierDropout);
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

    /** Parses a config.json tree: {@code model_type} picks the family, which reads its keys. */
    public static EncoderConfig fromJson(JsonNode root) {
        if (root == null || !root.isObject()) throw new IllegalArgumentException("config is not a JSON object");
        return ModelFamilies.of(ConfigKeys.textRequired(root, "model_type")).readConfig(root);
    }

    /** The HF {@code config.json} tree for this config, in its family's keys. */
    public ObjectNode toJson() { return family().writeConfig(this); }
}

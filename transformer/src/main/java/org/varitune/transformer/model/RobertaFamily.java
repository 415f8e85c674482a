package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Optional;
import java.util.Set;

/**
 * HF {@code RobertaModel} / {@code RobertaForSequenceClassification}: BERT's keys and layer names under the prefix
 * {@code roberta.}; positions number the non-pad tokens from {@code padding_idx + 1} and give pad tokens
 * {@code padding_idx} (HF {@code create_position_ids_from_input_ids}, padding_idx = {@code pad_token_id}), whose row
 * of the position table is HF's {@code padding_idx}; head {@code out_proj(dropout(tanh(dense(dropout(h[:, 0])))))}
 * under {@code classifier.}.
 */
public final class RobertaFamily implements ModelFamily {
    RobertaFamily() {}

    @Override public String toString() { return modelType(); }

    @Override public String modelType() { return "roberta"; }
    @Override public String prefix() { return "roberta."; }
    @Override public String encoderArchitecture() { return "RobertaModel"; }
    @Override public boolean tokenTypes() { return true; }

    /** BERT's keys ({@link BertFamily#readConfig}); RoBERTa configs set type_vocab_size 1, pad_token_id 1, eps 1e-5. */
    @Override public EncoderConfig readConfig(JsonNode root) { return BertFamily.readBertKeys(root, modelType()); }

    @Override public ObjectNode writeConfig(EncoderConfig c) { return BertFamily.writeBertKeys(c, encoderArchitecture()); }

    @Override
    public int[] positionIds(int[] inputIds, int B, int T, EncoderConfig config) {
        int[] pos = new int[B * T];
        int pad = config.padTokenId();
        for (int b = 0; b < B; b++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                boolean real = inputIds[b * T + t] != pad;
                if (real) count++;
                pos[b * T + t] = real ? count + pad : pad;
            }
        }
        return pos;
    }

    @Override public Optional<Integer> positionPaddingRow(EncoderConfig config) { return Optional.of(config.padTokenId()); }

    /** Positions start at padding_idx + 1, so {@code padding_idx + 1} rows of the table are never a real position's. */
    @Override
    public int maxSequenceLength(EncoderConfig config) { return config.maxPositionEmbeddings() - config.padTokenId() - 1; }

    @Override public LayerWiring layer(int index) { return LayerWiring.bert(index); }
    @Override public Optional<Integer> layerIndex(String localName) { return BertFamily.bertLayerIndex(localName); }
    @Override public Set<String> encoderRoots() { return Set.of("embeddings", "encoder", "pooler"); }
    @Override public Optional<String> pooler() { return Optional.of("pooler.dense"); }

    @Override
    public HeadSpec head() {
        return new HeadSpec("RobertaForSequenceClassification", "classifier.dense", false, HeadSpec.Activation.TANH,
                true, "classifier.out_proj");
    }
}

package org.varitune.transformer.model;

import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Tiny random BERT/RoBERTa configurations and checkpoints for tests. */
public final class TinyModels {
    private TinyModels() {}

    public static EncoderConfig bert() {
        return new EncoderConfig("bert", 50, 16, 3, 4, 24, "gelu", 1e-12, 20, 2, 0, 0.1, 0.1);
    }

    public static EncoderConfig roberta() {
        return new EncoderConfig("roberta", 50, 16, 3, 4, 24, "gelu", 1e-5, 22, 1, 1, 0.1, 0.1);
    }

    /** An encoder with weights ~ N(0, 0.3²), LayerNorm weights 1 + noise. */
    public static Encoder random(EncoderConfig c, Kernels k, boolean pooler, Random r) {
        Encoder e = new Encoder(c, k, pooler);
        for (Parameter p : e.parameters()) {
            float[] d = p.data();
            double base = p.name().endsWith("LayerNorm.weight") ? 1.0 : 0.0;
            for (int i = 0; i < d.length; i++) d[i] = (float) (base + 0.3 * r.nextGaussian());
        }
        return e;
    }

    /** Writes config.json and model.safetensors (names under {@code prefix}) into {@code dir}. */
    public static Path save(Encoder e, Path dir, String prefix, SafetensorsWriter extra) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), e.config().toJson().toPrettyString());
        SafetensorsWriter w = extra != null ? extra : new SafetensorsWriter();
        for (Parameter p : e.parameters()) w.addF32(prefix + p.name(), p.data(), p.shape());
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }

    /** HF's DistilBERT names for BERT layer i's tensors (modeling_distilbert.py), written out independently. */
    static Map<String, String> renames(int layers) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String e : new String[] {"word_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias"}) {
            m.put("embeddings." + e, "embeddings." + e);
        }
        for (int i = 0; i < layers; i++) {
            String b = "encoder.layer." + i + ".", d = "transformer.layer." + i + ".";
            String[][] pairs = {{"attention.self.query", "attention.q_lin"}, {"attention.self.key", "attention.k_lin"},
                    {"attention.self.value", "attention.v_lin"}, {"attention.output.dense", "attention.out_lin"},
                    {"attention.output.LayerNorm", "sa_layer_norm"}, {"intermediate.dense", "ffn.lin1"},
                    {"output.dense", "ffn.lin2"}, {"output.LayerNorm", "output_layer_norm"}};
            for (String[] p : pairs) {
                m.put(b + p[0] + ".weight", d + p[1] + ".weight");
                m.put(b + p[0] + ".bias", d + p[1] + ".bias");
            }
        }
        return m;
    }

    /** A DistilBERT {@code config.json} with {@code bert}'s sizes. */
    public static String distilBertConfig(EncoderConfig bert, boolean sinusoidal) {
        return "{\"model_type\": \"distilbert\", \"architectures\": [\"DistilBertForMaskedLM\"], \"vocab_size\": "
                + bert.vocabSize() + ", \"dim\": " + bert.hiddenSize() + ", \"n_layers\": " + bert.numHiddenLayers()
                + ", \"n_heads\": " + bert.numAttentionHeads() + ", \"hidden_dim\": " + bert.intermediateSize()
                + ", \"max_position_embeddings\": " + bert.maxPositionEmbeddings() + ", \"activation\": \"gelu\", "
                + "\"sinusoidal_pos_embds\": " + sinusoidal + ", \"pad_token_id\": 0, \"dropout\": 0.1, "
                + "\"attention_dropout\": 0.1, \"seq_classif_dropout\": 0.2}";
    }

    /**
     * Writes {@code bert} as a DistilBertForMaskedLM checkpoint under {@code prefix}: tensors renamed, token type 0
     * folded into the position table ({@code position'[p] = position[p] + tokenType[0]}), the pooler dropped, the
     * MLM head and the position_ids buffer added.
     */
    public static Path saveAsDistilBert(Encoder bert, String prefix, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), distilBertConfig(bert.config(), false));
        Map<String, Parameter> p = bert.parameterMap();
        int c = bert.config().hiddenSize(), v = bert.config().vocabSize();
        SafetensorsWriter w = new SafetensorsWriter();
        for (var e : renames(bert.numLayers()).entrySet()) {
            Parameter q = p.get(e.getKey());
            w.addF32(prefix + e.getValue(), q.data(), q.shape());
        }
        float[] pos = p.get("embeddings.position_embeddings.weight").data().clone();
        float[] type0 = p.get("embeddings.token_type_embeddings.weight").data();
        for (int r = 0; r < bert.config().maxPositionEmbeddings(); r++) for (int j = 0; j < c; j++) pos[r * c + j] += type0[j];
        w.addF32(prefix + "embeddings.position_embeddings.weight", pos, bert.config().maxPositionEmbeddings(), c);
        w.addI64(prefix + "embeddings.position_ids", new long[bert.config().maxPositionEmbeddings()], 1, bert.config().maxPositionEmbeddings());
        w.addF32("vocab_transform.weight", new float[c * c], c, c).addF32("vocab_transform.bias", new float[c], c)
                .addF32("vocab_layer_norm.weight", new float[c], c).addF32("vocab_layer_norm.bias", new float[c], c)
                .addF32("vocab_projector.weight", new float[v * c], v, c).addF32("vocab_projector.bias", new float[v], v);
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }
}

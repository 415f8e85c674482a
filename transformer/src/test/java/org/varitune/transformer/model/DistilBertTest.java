package org.varitune.transformer.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DistilBERT checkpoints as HF writes them: config keys, tensor names, prefixes, and equivalence with BERT. */
class DistilBertTest extends TestBase {
    /**
     * Hidden states of the renamed BERT: only the embedding sum's rounding order differs. Observed over every OpenBLAS
     * core type and the pure-Java GEMM: at most 5.3e-7 (hidden_states.2), 8.0e-8 at hidden_states.0.
     */
    static final double RENAMED_TOL = 5e-6;

    private final Kernels kernels = Kernels.fromSystemProperty();
    @TempDir Path tmp;

    /** HF's DistilBERT names for BERT layer i's tensors (modeling_distilbert.py), written out independently. */
    private static Map<String, String> renames(int layers) {
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

    private static String config(EncoderConfig bert, boolean sinusoidal) {
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
    private Path distilFromBert(Encoder bert, String prefix, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config(bert.config(), false));
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

    @Test
    void aDistilBertRenamedFromBertEncodesSingleSentencesToTheBertHiddenStates() throws IOException {
        Encoder bert = TinyModels.random(TinyModels.bert(), kernels, true, rand);
        int B = 3, T = 7;
        int[] ids = new int[B * T], mask = new int[B * T];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                boolean real = t < T - 2 * b;
                ids[b * T + t] = real ? 1 + rand.nextInt(bert.config().vocabSize() - 1) : 0;
                mask[b * T + t] = real ? 1 : 0;
            }
        }
        EncoderOutput expected = bert.forward(ids, null, mask, B, T, bert.numLayers());
        for (String prefix : new String[] {"", "distilbert."}) {
            Encoder distil = Encoder.load(distilFromBert(bert, prefix, tmp.resolve("d" + prefix.length())), kernels);
            assertEquals("distilbert", distil.config().modelType());
            assertFalse(distil.hasPooler());
            int[] types = new int[B * T];
            java.util.Arrays.fill(types, 1);                                  // DistilBERT ignores token types
            EncoderOutput actual = distil.forward(ids, types, mask, B, T, distil.numLayers());
            for (int l = 0; l <= bert.numLayers(); l++) {
                AllClose.assertAllClose("'" + prefix + "' hidden_states." + l, actual.hiddenStates().get(l),
                        expected.hiddenStates().get(l), RENAMED_TOL, B, T, bert.config().hiddenSize());
            }
        }
    }

    @Test
    void readsDistilBertKeysAndWritesThemBack() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("c"));
        Files.writeString(dir.resolve("config.json"), config(TinyModels.bert(), false));
        EncoderConfig c = EncoderConfig.read(dir);
        assertEquals(new EncoderConfig("distilbert", 50, 16, 3, 4, 24, "gelu", 1e-12, 20, 0, 0, 0.1, 0.1, 0.2), c);
        assertEquals(c, EncoderConfig.fromJson(c.toJson()));
        assertEquals(3, c.toJson().get("n_layers").asInt());
        assertFalse(c.toJson().has("num_hidden_layers"), "DistilBERT's keys, not BERT's");
    }

    @Test
    void rejectsSinusoidalPositionsNamingTheFileAndKey() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("s"));
        Files.writeString(dir.resolve("config.json"), config(TinyModels.bert(), true));
        var ex = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.read(dir));
        assertTrue(ex.getMessage().contains(dir.resolve("config.json").toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("sinusoidal_pos_embds"), ex.getMessage());
    }

    @Test
    void namesAMissingDistilBertTensor() throws IOException {
        Encoder bert = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        Path dir = distilFromBert(bert, "distilbert.", tmp.resolve("m"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (var src = org.varitune.transformer.io.Safetensors.open(dir)) {
            for (String n : src.names()) {
                if (n.equals("distilbert.transformer.layer.1.ffn.lin2.weight") || n.endsWith("position_ids")) continue;
                w.addF32(n, src.readFloat(n), src.info(n).shape());
            }
        }
        w.write(dir.resolve("model.safetensors"));
        var ex = assertThrows(IOException.class, () -> Encoder.load(dir, kernels));
        assertTrue(ex.getMessage().contains("missing: [distilbert.transformer.layer.1.ffn.lin2.weight]"), ex.getMessage());
    }
}

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
            Encoder distil = Encoder.load(TinyModels.saveAsDistilBert(bert, prefix, tmp.resolve("d" + prefix.length())), kernels);
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
        Files.writeString(dir.resolve("config.json"), TinyModels.distilBertConfig(TinyModels.bert(), false));
        EncoderConfig c = EncoderConfig.read(dir);
        assertEquals(new EncoderConfig("distilbert", 50, 16, 3, 4, 24, "gelu", 1e-12, 20, 0, 0, 0.1, 0.1, 0.2), c);
        assertEquals(c, EncoderConfig.fromJson(c.toJson()));
        assertEquals(3, c.toJson().get("n_layers").asInt());
        assertFalse(c.toJson().has("num_hidden_layers"), "DistilBERT's keys, not BERT's");
    }

    @Test
    void rejectsSinusoidalPositionsNamingTheFileAndKey() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("s"));
        Files.writeString(dir.resolve("config.json"), TinyModels.distilBertConfig(TinyModels.bert(), true));
        var ex = assertThrows(IllegalArgumentException.class, () -> EncoderConfig.read(dir));
        assertTrue(ex.getMessage().contains(dir.resolve("config.json").toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("sinusoidal_pos_embds"), ex.getMessage());
    }

    @Test
    void namesAMissingDistilBertTensor() throws IOException {
        Encoder bert = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        Path dir = TinyModels.saveAsDistilBert(bert, "distilbert.", tmp.resolve("m"));
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

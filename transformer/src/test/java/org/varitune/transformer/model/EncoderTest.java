package org.varitune.transformer.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EncoderTest extends TestBase {
    private final Kernels kernels = Kernels.fromSystemProperty();
    @TempDir Path tmp;

    private int[][] batch(EncoderConfig c, int B, int T) {
        int[] ids = new int[B * T], types = new int[B * T], mask = new int[B * T];
        for (int b = 0; b < B; b++) {
            int len = T - b;                                       // row b has b pad positions
            for (int t = 0; t < T; t++) {
                boolean real = t < len;
                ids[b * T + t] = real ? 3 + rand.nextInt(c.vocabSize() - 3) : c.padTokenId();
                mask[b * T + t] = real ? 1 : 0;
                types[b * T + t] = real && c.typeVocabSize() > 1 && t >= len / 2 ? 1 : 0;
            }
        }
        return new int[][] {ids, types, mask};
    }

    @Test
    void loadsWhatItSavedUnderEveryPrefix() throws IOException {
        for (String prefix : new String[] {"", "bert.", "roberta."}) {
            Encoder e = TinyModels.random(TinyModels.bert(), kernels, true, rand);
            SafetensorsWriter head = new SafetensorsWriter().addF32("cls.predictions.bias", new float[50], 50);
            Path dir = TinyModels.save(e, tmp.resolve("m" + prefix.length()), prefix, head);
            Encoder loaded = Encoder.load(dir, kernels);
            assertTrue(loaded.hasPooler());
            for (Parameter p : e.parameters()) {
                assertArrayEquals(p.data(), loaded.parameterMap().get(p.name()).data(), p.name() + " under '" + prefix + "'");
            }
        }
    }

    @Test
    void rejectsMissingWeightNamingIt() throws IOException {
        Encoder e = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        Path dir = tmp.resolve("m");
        TinyModels.save(e, dir, "", null);
        // rewrite without one tensor
        SafetensorsWriter w = new SafetensorsWriter();
        for (Parameter p : e.parameters()) {
            if (!p.name().equals("encoder.layer.1.intermediate.dense.bias")) w.addF32(p.name(), p.data(), p.shape());
        }
        w.write(dir.resolve("model.safetensors"));
        IOException ex = assertThrows(IOException.class, () -> Encoder.load(dir, kernels));
        assertTrue(ex.getMessage().contains("missing: [encoder.layer.1.intermediate.dense.bias]"), ex.getMessage());
        assertTrue(ex.getMessage().contains("model.safetensors"), ex.getMessage());
    }

    @Test
    void rejectsMisshapenAndUnusedWeightsListingThem() throws IOException {
        Encoder e = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("m"));
        SafetensorsWriter w = new SafetensorsWriter();
        for (Parameter p : e.parameters()) {
            if (p.name().equals("encoder.layer.0.output.dense.weight")) w.addF32(p.name(), new float[24 * 15], 15, 24);
            else w.addF32(p.name(), p.data(), p.shape());
        }
        w.addF32("encoder.layer.7.output.dense.bias", new float[16], 16);       // a layer the config lacks
        w.write(dir.resolve("model.safetensors"));
        java.nio.file.Files.writeString(dir.resolve("config.json"), e.config().toJson().toString());
        IOException ex = assertThrows(IOException.class, () -> Encoder.load(dir, kernels));
        assertTrue(ex.getMessage().contains("encoder.layer.0.output.dense.weight has shape [15, 24], expected [16, 24]"),
                ex.getMessage());
        assertTrue(ex.getMessage().contains("unused: [encoder.layer.7.output.dense.bias]"), ex.getMessage());
    }

    @Test
    void readsLegacyGammaBetaLayerNormNames() throws IOException {
        Encoder e = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("m"));
        SafetensorsWriter w = new SafetensorsWriter();
        for (Parameter p : e.parameters()) {
            String n = p.name().replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            w.addF32("bert." + n, p.data(), p.shape());
        }
        w.write(dir.resolve("model.safetensors"));
        java.nio.file.Files.writeString(dir.resolve("config.json"), e.config().toJson().toString());
        Encoder loaded = Encoder.load(dir, kernels);
        assertArrayEquals(e.parameterMap().get("embeddings.LayerNorm.weight").data(),
                loaded.parameterMap().get("embeddings.LayerNorm.weight").data());
    }

    @Test
    void truncatedLoadKeepsOnlyTheFirstLayersAndGivesTheSameHiddenStates() throws IOException {
        EncoderConfig c = TinyModels.bert();
        Encoder full = TinyModels.random(c, kernels, true, rand);
        Path dir = TinyModels.save(full, tmp.resolve("m"), "bert.", null);
        Encoder two = Encoder.load(dir, kernels, 2);
        assertEquals(2, two.numLayers());
        assertFalse(two.hasPooler());
        int[][] in = batch(c, 3, 7);
        EncoderOutput a = full.forward(in[0], in[1], in[2], 3, 7, 3);
        EncoderOutput b = two.forward(in[0], in[1], in[2], 3, 7, 2);
        EncoderOutput stopped = full.forward(in[0], in[1], in[2], 3, 7, 2);
        assertEquals(3, b.hiddenStates().size());
        assertNull(stopped.pooled());
        for (int l = 0; l <= 2; l++) {
            assertArrayEquals(a.hiddenStates().get(l), b.hiddenStates().get(l), "hidden_states." + l);
            assertArrayEquals(a.hiddenStates().get(l), stopped.hiddenStates().get(l), "hidden_states." + l);
        }
    }

    @Test
    void robertaPositionsCountNonPadTokensFromPaddingIdxPlusOne() {
        Encoder e = new Encoder(TinyModels.roberta(), new CpuKernels(), false);
        int[] ids = {0, 7, 8, 2, 1, 1};                            // pad = 1
        assertArrayEquals(new int[] {2, 3, 4, 5, 1, 1}, e.embeddings().positionIds(ids, 1, 6));
        Encoder bert = new Encoder(TinyModels.bert(), new CpuKernels(), false);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, bert.embeddings().positionIds(ids, 1, 6));
    }

    @Test
    void rejectsIdsOutsideTheVocabularyNamingThePosition() {
        Encoder e = new Encoder(TinyModels.bert(), kernels, false);
        int[] ids = {1, 2, 50}, mask = {1, 1, 1};
        var ex = assertThrows(IllegalArgumentException.class, () -> e.forward(ids, null, mask, 1, 3, 3));
        assertTrue(ex.getMessage().contains("input id 50 at (b=0, t=2)"), ex.getMessage());
    }

    @Test
    void paddedPositionsDoNotChangeTheRealTokensStates() {
        // A row padded with extra positions must give the same states at its real tokens as the unpadded row.
        EncoderConfig c = TinyModels.roberta();
        Encoder e = TinyModels.random(c, kernels, false, rand);
        int[] ids = {0, 5, 9, 12, 2}, mask = {1, 1, 1, 1, 1};
        int[] idsPad = {0, 5, 9, 12, 2, 1, 1}, maskPad = {1, 1, 1, 1, 1, 0, 0};
        EncoderOutput a = e.forward(ids, null, mask, 1, 5, 3);
        EncoderOutput b = e.forward(idsPad, null, maskPad, 1, 7, 3);
        float[] x = a.last(), y = b.last();
        for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 2e-6f, "hidden_states.3 flat index " + i);
    }
}

package org.varitune.training.export;

import org.varitune.training.method.AdapterTuning;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.training.ClassificationHead;
import org.varitune.training.FreezePolicy;
import org.varitune.training.Plans;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TinyClassifiers;
import org.varitune.training.TuningMode;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.ModelFamilies;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.tokenize.Batch;
import org.varitune.transformer.tokenize.Tokenizers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Export to an HF directory and back: bit-identical logits and parameters, HF layout, errors, atomic replace. */
class ModelExportTest extends TestBase {
    @TempDir Path tmp;
    private final Kernels k = new CpuKernels();

    /**
     * One export case: the mode, the head layer (of 3), k, the pooling, labels (1 = regression), the adapter sites
     * (null = none there) and the top of the tuned block (0 = the head layer).
     */
    record Case(String name, TuningMode mode, int headLayer, int tuneLayers, Pooling pooling, int numLabels,
                Adapter.Site attention, Adapter.Site output, int tuneLastLayer) {
        @Override public String toString() { return name; }
        boolean adapters() { return attention != null || output != null; }
    }

    static final Adapter.Site HOULSBY4 = Adapter.Site.houlsby(4);
    /** Where an export keeps its adapters (written out: the file name is part of the format). */
    static final String ADAPTERS_FILE = "adapters.safetensors";

    static Stream<Arguments> cases() {
        List<Case> cs = List.of(
                new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0),
                new Case("partial", TuningMode.PARTIAL, 2, 1, Pooling.MEAN_NON_SPECIAL, 3, null, null, 0),
                new Case("adapters", TuningMode.ADAPTERS, 3, 2, Pooling.FIRST_TOKEN, 2, HOULSBY4, HOULSBY4, 0),
                new Case("regression", TuningMode.FULL, 3, 0, Pooling.MEAN_NON_PAD, 1, null, null, 0),
                // the authors' placement: attention adapter before its dropout, both BERT-initialised, with a
                // bottleneck dropout, widths differing per site, in layer 2 only under a head on layer 3
                new Case("authors-adapters", TuningMode.ADAPTERS, 3, 1, Pooling.FIRST_TOKEN, 2,
                        new Adapter.Site(3, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.1),
                        new Adapter.Site(5, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0.1), 2),
                new Case("ffn-adapters", TuningMode.ADAPTERS, 3, 2, Pooling.MEAN_NON_PAD, 3, null, HOULSBY4, 0));
        List<Arguments> args = new ArrayList<>();
        for (boolean roberta : new boolean[] {false, true}) for (Case c : cs) args.add(Arguments.of(roberta, c));
        return args.stream();
    }

    @ParameterizedTest(name = "roberta={0} {1}")
    @MethodSource("cases")
    void reloadedModelPredictsBitForBitAndKeepsOnlyTheLayersUpToTheHead(boolean roberta, Case c) throws IOException {
        Path src = source(roberta);
        SequenceClassifier model = tuned(src, roberta, c);
        List<String> labels = c.numLabels == 1 ? List.of("score") : c.numLabels == 2 ? List.of("neg", "pos") : List.of();
        ExportInfo info = ExportInfo.of(model, src, "tiny", labels, c.mode, c.tuneLayers);
        Path out = tmp.resolve("exports").resolve("out");
        ModelExport.save(model, src, out, info);

        SequenceClassifier back = ModelExport.load(out, k);
        assertEquals(c.headLayer, back.headLayer());
        assertEquals(c.headLayer, back.encoder().numLayers(), "reloaded encoder holds only the kept layers");
        assertEquals(info, ModelExport.info(out));
        assertSameParameters(model.parameterMap(), back.parameterMap());
        Batch batch = batch(roberta);
        float[] expected = model.logits(batch), actual = back.logits(batch);       // (B, K)
        assertEquals(TinyClassifiers.B * c.numLabels, expected.length);
        assertArrayEquals(expected, actual, "logits after save + load");

        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(c.headLayer, config.get("num_hidden_layers").asInt());
        String hfClass = roberta ? "RobertaForSequenceClassification" : "BertForSequenceClassification";
        boolean stock = c.pooling == Pooling.FIRST_TOKEN && !c.adapters();                   // what HF's class computes
        assertEquals(stock ? hfClass : "Varitune" + hfClass, config.get("architectures").get(0).asText());
        assertEquals(roberta ? "roberta" : "bert", config.get("model_type").asText());
        assertEquals(c.numLabels, config.get("num_labels").asInt());
        assertEquals(c.numLabels == 1 ? "regression" : "single_label_classification", config.get("problem_type").asText());
        assertEquals(c.numLabels, config.get("id2label").size());
        assertEquals(c.numLabels == 1 ? "score" : c.numLabels == 2 ? "pos" : "LABEL_2",
                config.get("id2label").get(Integer.toString(c.numLabels - 1)).asText());
        JsonNode v = config.get("varitune");
        assertEquals(c.mode.spelling(), v.get("mode").asText());
        assertEquals(3, v.get("source_num_hidden_layers").asInt());
        assertEquals(c.pooling.spelling(), v.get("pooling").asText());

        String prefix = roberta ? "roberta." : "bert.";
        try (WeightSource w = Safetensors.open(out)) {
            assertEquals("pt", w.metadata().get("format"));
            for (String name : w.names()) {
                assertFalse(name.contains(".adapter."), name + " in model.safetensors");
                for (int dropped = c.headLayer; dropped < 3; dropped++) {
                    assertFalse(name.startsWith(prefix + "encoder.layer." + dropped + "."), name + " is above the head");
                }
                assertTrue(name.startsWith(prefix) || name.startsWith("classifier."), name);
            }
            assertTrue(w.contains(prefix + "encoder.layer." + (c.headLayer - 1) + ".output.LayerNorm.weight"));
            List<String> head = roberta
                    ? List.of("classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias")
                    : List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias");
            for (String h : head) assertTrue(w.contains(h), h + " missing");
            assertEquals(roberta, w.names().stream().noneMatch(n -> n.startsWith(prefix + "pooler.")));
        }
        assertEquals(c.adapters(), Files.exists(out.resolve(ADAPTERS_FILE)));
        if (c.adapters()) {
            int top = c.tuneLastLayer == 0 ? c.headLayer : c.tuneLastLayer;
            List<Integer> layers = new ArrayList<>();
            for (int l = top - c.tuneLayers + 1; l <= top; l++) layers.add(l);
            assertEquals(layers, adapterLayers(info), "the tuned block's layers hold the adapters");
            int sites = (c.attention != null ? 1 : 0) + (c.output != null ? 1 : 0);
            try (WeightSource a = Safetensors.open(out.resolve(ADAPTERS_FILE))) {
                assertEquals(layers.size() * sites * 4, a.names().size(), "layers × sites × four tensors");
                String last = "encoder.layer." + (top - 1) + ".";
                assertEquals(c.attention != null, a.contains(last + "attention.output.adapter.down.weight"));
                assertEquals(c.output != null, a.contains(last + "output.adapter.up.bias"));
                assertEquals(c.attention == null ? "none" : c.attention.spec(), a.metadata().get("attention"));
                assertEquals(c.output == null ? "none" : c.output.spec(), a.metadata().get("output"));
                assertEquals("RELU", a.metadata().get("activation"));
            }
            assertEquals(c.attention, back.encoder().layers().get(top - 1).attentionAdapter() == null ? null
                    : back.encoder().layers().get(top - 1).attentionAdapter().site(), "reloaded attention site");
        }

        Encoder plain = Encoder.load(out, k);                                      // a standard HF directory
        assertEquals(c.headLayer, plain.numLayers());
        Map<String, Parameter> plainParams = plain.parameterMap();
        for (Parameter p : model.parameters()) {
            if (p.name().startsWith("classifier.") || p.name().contains(".adapter.")) continue;
            assertArrayEquals(p.data(), plainParams.get(p.name()).data(), p.name());
        }
        for (String f : roberta ? List.of("vocab.json", "merges.txt") : List.of("vocab.txt", "tokenizer_config.json")) {
            assertArrayEquals(Files.readAllBytes(src.resolve(f)), Files.readAllBytes(out.resolve(f)), f);
        }
        var tok = Tokenizers.load(out);
        assertArrayEquals(Tokenizers.load(src).encode(roberta ? "abab" : "hello world").ids(),
                tok.encode(roberta ? "abab" : "hello world").ids());
    }

    @Test
    void replacingAnExportLeavesNoTemporaryDirectoryAndHoldsTheNewWeights() throws IOException {
        Path src = source(false);
        Case c = new Case("partial", TuningMode.PARTIAL, 2, 1, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier first = tuned(src, false, c);
        Path parent = tmp.resolve("exports");
        Path out = parent.resolve("sst2");
        ModelExport.save(first, src, out, ExportInfo.of(first, src, "sst2", List.of(), c.mode, 1));
        SequenceClassifier second = tuned(src, false, c);
        ModelExport.save(second, src, out, ExportInfo.of(second, src, "sst2", List.of(), c.mode, 1));

        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(out), s.toList(), "only the export remains in its parent");
        }
        Batch batch = batch(false);
        float[] reloaded = ModelExport.load(out, k).logits(batch);
        assertArrayEquals(second.logits(batch), reloaded);
        assertNotEquals(first.logits(batch)[0], reloaded[0], "the second export replaced the first");
    }

    @Test
    void refusesToReplaceADirectoryThatIsNotAnExport() throws IOException {
        Path src = source(false);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, false, c);
        Path parent = tmp.resolve("exports");
        Path out = parent.resolve("mine");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "keep me");
        var ex = assertThrows(IOException.class,
                () -> ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 0)));
        assertTrue(ex.getMessage().contains(out.toString()), ex.getMessage());
        assertEquals("keep me", Files.readString(out.resolve("notes.txt")));
        try (Stream<Path> s = Files.list(parent)) {
            assertEquals(List.of(out), s.toList(), "no temporary directory left behind");
        }
    }

    @Test
    void infoThatDoesNotDescribeTheModelIsRefusedNamingTheField() throws IOException {
        Path src = source(true);
        Case c = new Case("partial", TuningMode.PARTIAL, 2, 1, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, true, c);
        ExportInfo good = ExportInfo.of(model, src, "t", List.of(), c.mode, 1);
        ExportInfo bad = new ExportInfo("t", List.of(), c.mode, 2, 1, Pooling.MEAN_NON_PAD, good.headKind(), 3,
                good.classifierDropout(), java.util.Collections.emptySortedMap(), good.sourceModel(), 3);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> ModelExport.save(model, src, tmp.resolve("out"), bad));
        assertTrue(ex.getMessage().contains("pooling: info says mean-with-special, the model has first-token"), ex.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    @Test
    void aFormatOneExportWithOneBottleneckForBothSitesStillLoads() throws IOException {
        Path out = exportWithAdapters();
        SequenceClassifier current = ModelExport.load(out, k);
        var currentModules = ModelExport.info(out).modules();
        // rewrite it as format 1 wrote it: adapters.bottleneck, metadata bottleneck, no per-site specs
        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode config =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(out.resolve("config.json").toFile());
        var v = (com.fasterxml.jackson.databind.node.ObjectNode) config.get("varitune");
        v.put("format_version", 1);   // which wrote enum values by their Java names
        v.put("mode", org.varitune.transformer.io.Spelled.parse(TuningMode.class, v.get("mode").asText(), "").name());
        v.put("pooling", org.varitune.transformer.io.Spelled.parse(Pooling.class, v.get("pooling").asText(), "").name());
        var a = (com.fasterxml.jackson.databind.node.ObjectNode) v.get("adapters");
        a.put("activation", org.varitune.transformer.io.Spelled.parse(org.varitune.transformer.layers.Adapter.Activation.class,
                a.get("activation").asText(), "").name());
        a.remove("attention");
        a.remove("output");
        a.put("bottleneck", 4);
        Files.writeString(out.resolve("config.json"), json.writeValueAsString(config));
        Path file = out.resolve(ADAPTERS_FILE);
        SafetensorsWriter w = new SafetensorsWriter().metadata("bottleneck", "4").metadata("activation", "RELU");
        try (WeightSource src = Safetensors.open(file)) {
            for (String n : src.names()) w.addF32(n, src.readFloat(n), src.info(n).shape());
        }
        w.write(file);
        SequenceClassifier legacy = ModelExport.load(out, k);
        ExportInfo info = ModelExport.info(out);
        assertEquals(HOULSBY4.spec(), info.modules().get("adapters").get("attention").asText(),
                "format 1 = near-identity sites after the dropouts");
        assertEquals(HOULSBY4.spec(), info.modules().get("adapters").get("output").asText());
        assertArrayEquals(current.logits(batch(false)), legacy.logits(batch(false)), "same logits as format 2");
        assertEquals(List.of(2, 3), adapterLayers(info));
        assertEquals(currentModules, info.modules(), "read in the current form: equal to the current export's");
    }

    /** The authors' sites: attention adapter before its dropout, both BERT-initialised, widths 3 and 5. */
    static final Adapter.Site AUTHORS_ATTENTION = new Adapter.Site(3, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.1);
    static final Adapter.Site AUTHORS_OUTPUT = new Adapter.Site(5, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0.1);

    @Test
    void anAdaptersExportWritesTheDescriptionAndFileHeaderOfTheAdapterSpecificCode() throws IOException {
        // what the export wrote before the adapters' code moved into AdapterTuning.EXPORT (commit f2cbe4d), by hand
        Path src = source(false);
        Case c = new Case("authors", TuningMode.ADAPTERS, 3, 1, Pooling.FIRST_TOKEN, 2, AUTHORS_ATTENTION, AUTHORS_OUTPUT, 2);
        SequenceClassifier model = tuned(src, false, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 1));

        JsonNode v = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("varitune");
        List<String> keys = new ArrayList<>();
        v.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("format_version", "task", "mode", "head_layer", "tune_layers", "pooling", "head_kind",
                "source_model", "source_num_hidden_layers", "adapters"), keys);
        ModelExport.recordTrainedMaxLength(out, 64);
        Set<String> own = new java.util.HashSet<>(keys);
        own.add("max_length");
        own.remove("adapters");
        assertEquals(own, ExportInfo.OWN_KEYS, "the keys no module kind may take are exactly the export's own");
        v = new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("varitune");
        assertEquals("{\"file\":\"adapters.safetensors\","
                + "\"attention\":\"size=3,init=bert,position=before-dropout,dropout=0.1\","
                + "\"output\":\"size=5,init=bert,position=after-dropout,dropout=0.1\","
                + "\"activation\":\"relu\",\"layers\":[2],"
                + "\"note\":\"Houlsby adapters after attention.output.dense ('attention') and output.dense ('output') of "
                + "these layers, where not null. HF transformers ignores this file and runs the model without them, "
                + "which predicts differently\"}", v.get("adapters").toString());

        // the header: metadata, then the tensors sorted by name, offsets in that order (F32: 4 bytes a value, C = 16)
        byte[] bytes = Files.readAllBytes(out.resolve(ADAPTERS_FILE));
        int n = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
        String a = "encoder.layer.1.attention.output.adapter.", o = "encoder.layer.1.output.adapter.";
        String expected = "{\"__metadata__\":{\"activation\":\"RELU\","
                + "\"attention\":\"size=3,init=bert,position=before-dropout,dropout=0.1\",\"format\":\"pt\","
                + "\"layers\":\"[2]\",\"output\":\"size=5,init=bert,position=after-dropout,dropout=0.1\"},"
                + tensor(a + "down.bias", "[3]", 0, 12) + "," + tensor(a + "down.weight", "[3,16]", 12, 204) + ","
                + tensor(a + "up.bias", "[16]", 204, 268) + "," + tensor(a + "up.weight", "[16,3]", 268, 460) + ","
                + tensor(o + "down.bias", "[5]", 460, 480) + "," + tensor(o + "down.weight", "[5,16]", 480, 800) + ","
                + tensor(o + "up.bias", "[16]", 800, 864) + "," + tensor(o + "up.weight", "[16,5]", 864, 1184) + "}";
        assertEquals(expected, header.toString());
        assertEquals(8 + n + 1184, bytes.length, "header + 296 floats");

        Case plain = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier noAdapters = tuned(src, false, plain);
        Path out2 = tmp.resolve("out2");
        ModelExport.save(noAdapters, src, out2, ExportInfo.of(noAdapters, src, "t", List.of(), plain.mode, 0));
        JsonNode v2 = new ObjectMapper().readTree(out2.resolve("config.json").toFile()).get("varitune");
        assertTrue(v2.has("adapters") && v2.get("adapters").isNull(), "\"adapters\": null, as before: " + v2);
        assertFalse(Files.exists(out2.resolve(ADAPTERS_FILE)));
    }

    private static String tensor(String name, String shape, int from, int to) {
        return "\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + from + "," + to + "]}";
    }

    @Test
    void aFormatTwoExportWithJavaEnumNamesStillLoadsToTheSameLogits() throws IOException {
        Path src = source(true);
        Case c = new Case("authors", TuningMode.ADAPTERS, 3, 2, Pooling.MEAN_NON_PAD, 2, AUTHORS_ATTENTION, AUTHORS_OUTPUT, 0);
        SequenceClassifier model = tuned(src, true, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 2));
        ExportInfo current = ModelExport.info(out);
        // as format 2 wrote it: enum values by their Java names, HF's class in architectures whatever the model
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(out.resolve("config.json").toFile());
        config.putArray("architectures").add("RobertaForSequenceClassification");
        ObjectNode v = (ObjectNode) config.get("varitune");
        v.put("format_version", 2).put("mode", "ADAPTERS").put("pooling", "MEAN_NON_PAD");
        ((ObjectNode) v.get("adapters")).put("activation", "RELU");
        Files.writeString(out.resolve("config.json"), config.toPrettyString());

        ExportInfo legacy = ModelExport.info(out);
        assertEquals(current, legacy, "read in the current form: equal to the current export's info");
        assertEquals("relu", legacy.modules().get("adapters").get("activation").asText());
        Batch batch = batch(true);
        assertArrayEquals(model.logits(batch), ModelExport.load(out, k).logits(batch), "same logits as the model");
    }

    @Test
    void anAdaptersDescriptionThatDoesNotFitTheExportIsAnErrorNamingTheKey() throws IOException {
        Path out = exportWithAdapters();
        Path file = out.resolve("config.json");
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(file.toFile());
        ObjectNode a = (ObjectNode) config.get("varitune").get("adapters");
        a.putArray("layers").add(2).add(4);
        Files.writeString(file, config.toPrettyString());
        var ex = assertThrows(IllegalArgumentException.class, () -> ModelExport.info(out));
        assertTrue(ex.getMessage().contains(file.toString())
                && ex.getMessage().contains("varitune.adapters.layers [2, 4] must ascend within [1, 3]"), ex.getMessage());

        a.putArray("layers").add(2).add(3);
        a.put("activation", "tanh");
        Files.writeString(file, config.toPrettyString());
        var act = assertThrows(IllegalArgumentException.class, () -> ModelExport.info(out));
        assertTrue(act.getMessage().contains("varitune.adapters.activation") && act.getMessage().contains("tanh"),
                act.getMessage());
    }

    @Test
    void adaptersThatDifferAcrossLayersCannotBeDescribedByOneDescription() throws IOException {
        Path src = source(false);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, false, c);
        model.encoder().layers().get(1).addAdapters(HOULSBY4, null, Adapter.Activation.RELU, rand);
        model.encoder().layers().get(2).addAdapters(HOULSBY4, null, Adapter.Activation.GELU, rand);
        var ex = assertThrows(IllegalArgumentException.class,
                () -> ExportInfo.of(model, src, "t", List.of(), null, 0));
        assertTrue(ex.getMessage().contains("adapters differ across layers: encoder.layer.2"), ex.getMessage());
    }

    @Test
    void aModulesFileWithoutItsDescriptionIsAnErrorNamingIt() throws IOException {
        List<String> keys = new ArrayList<>();
        org.varitune.training.method.TuningMethods.exportedModules().forEach(m -> keys.add(m.key()));
        assertEquals(List.of("adapters"), keys, "the registered kinds");
        Path src = source(false);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, false, c);
        for (var kind : org.varitune.training.method.TuningMethods.exportedModules()) {
            Path out = tmp.resolve("out-" + kind.key());
            ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 0));
            Path file = out.resolve(kind.file());
            Files.write(file, new byte[] {0});
            var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
            assertTrue(ex.getMessage().contains(file + ": present, but")
                    && ex.getMessage().contains("varitune." + kind.key() + " is null"), ex.getMessage());
        }
    }

    @Test
    void aDescriptionWithoutItsFileIsAnErrorNamingIt() throws IOException {
        Path out = exportWithAdapters();
        Path file = out.resolve(ADAPTERS_FILE);
        Files.delete(file);
        var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(ex.getMessage().contains(file + ": missing, but config.json lists adapters in layers [2, 3]"),
                ex.getMessage());
    }

    @Test
    void aFormatThreeExportNamingHfsClassForMeanPoolingStillLoadsWithMeanPooling() throws IOException {
        Path src = source(false);
        Case c = new Case("partial", TuningMode.PARTIAL, 2, 1, Pooling.MEAN_NON_SPECIAL, 3, null, null, 0);
        SequenceClassifier model = tuned(src, false, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 1));
        // as format 3 wrote it: HF's class in architectures whatever the pooling
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("VarituneBertForSequenceClassification", config.get("architectures").get(0).asText());
        config.putArray("architectures").add("BertForSequenceClassification");
        ((ObjectNode) config.get("varitune")).put("format_version", 3);
        Files.writeString(out.resolve("config.json"), config.toPrettyString());

        assertEquals(Pooling.MEAN_NON_SPECIAL, ModelExport.info(out).pooling(), "the varitune object decides");
        assertArrayEquals(model.logits(batch(false)), ModelExport.load(out, k).logits(batch(false)));
    }

    @Test
    void aFormatFourExportWhoseArchitecturesDisagreesWithItsPoolingIsRefused() throws IOException {
        Path src = source(true);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.MEAN_NON_PAD, 3, null, null, 0);
        SequenceClassifier model = tuned(src, true, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 0));
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(out.resolve("config.json").toFile());
        config.putArray("architectures").add("RobertaForSequenceClassification");
        Files.writeString(out.resolve("config.json"), config.toPrettyString());

        var ex = assertThrows(IllegalArgumentException.class, () -> ModelExport.info(out));
        assertTrue(ex.getMessage().contains(out.resolve("config.json").toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("[\"RobertaForSequenceClassification\"]")
                && ex.getMessage().contains("VarituneRobertaForSequenceClassification")
                && ex.getMessage().contains("pooling mean-with-special"), ex.getMessage());
    }

    @Test
    void varitunesArchitectureWithoutTheVarituneObjectIsRefused() throws IOException {
        Path dir = tmp.resolve("hf");
        TinyModels.save(TinyModels.random(TinyModels.bert(), k, true, rand), dir, "bert.",
                new SafetensorsWriter().addF32("classifier.weight", new float[2 * 16], 2, 16).addF32("classifier.bias", new float[2], 2));
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        config.putArray("architectures").add("VarituneBertForSequenceClassification");
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        var ex = assertThrows(IllegalArgumentException.class, () -> ModelExport.info(dir));
        assertTrue(ex.getMessage().contains("VarituneBertForSequenceClassification")
                && ex.getMessage().contains("no 'varitune' object"), ex.getMessage());
    }

    @Test
    void aCorruptAdaptersFileIsAnErrorNamingIt() throws IOException {
        Path out = exportWithAdapters();
        Path file = out.resolve(ADAPTERS_FILE);
        Files.write(file, "not a safetensors file".getBytes(StandardCharsets.UTF_8));
        var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
    }

    @Test
    void aMissingOrUnexpectedAdapterTensorIsAnErrorNamingIt() throws IOException {
        Path out = exportWithAdapters();
        Path file = out.resolve(ADAPTERS_FILE);
        SafetensorsWriter w = new SafetensorsWriter().metadata("attention", HOULSBY4.spec()).metadata("output", HOULSBY4.spec())
                .metadata("activation", "RELU");
        try (WeightSource a = Safetensors.open(file)) {
            for (String n : a.names()) {
                if (n.equals("encoder.layer.2.output.adapter.up.weight")) continue;
                w.addF32(n, a.readFloat(n), a.info(n).shape());
            }
        }
        w.addF32("encoder.layer.0.output.adapter.up.weight", new float[16 * 4], 16, 4);
        w.write(file);
        var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("missing: [encoder.layer.2.output.adapter.up.weight]"), ex.getMessage());
        assertTrue(ex.getMessage().contains("unused: [encoder.layer.0.output.adapter.up.weight]"), ex.getMessage());

        Files.delete(file);
        var gone = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(gone.getMessage().contains(file.toString()) && gone.getMessage().contains("missing"), gone.getMessage());
    }

    @Test
    void aMissingHeadTensorIsAnErrorNamingTheFileAndTensor() throws IOException {
        Path src = source(false);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, false, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 0));
        Path file = out.resolve(Safetensors.SINGLE_FILE);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (WeightSource s = Safetensors.open(file)) {
            for (String n : s.names()) if (!n.equals("classifier.weight")) w.addF32(n, s.readFloat(n), s.info(n).shape());
        }
        w.write(file);
        var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(ex.getMessage().contains(file.toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("missing classifier.weight"), ex.getMessage());
    }

    @Test
    void aNameBasedPolicyExportsWithoutAMode() throws IOException {
        Path src = source(true);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, true, c);
        Path out = tmp.resolve("out");
        ExportInfo info = ExportInfo.of(model, src, "t", List.of("a", "b", "c"), null, 0);
        ModelExport.save(model, src, out, info);
        ExportInfo back = ModelExport.info(out);
        assertEquals(info, back);
        assertNull(back.mode());
        assertEquals("tiny-roberta", back.sourceModel());
    }

    @Test
    void loadsAPlainHfSequenceClassificationDirectory() throws IOException {
        Path dir = tmp.resolve("hf");
        EncoderConfig c = TinyModels.bert();
        SafetensorsWriter head = new SafetensorsWriter()
                .addF32("classifier.weight", uniform(2 * 16, -1, 1), 2, 16).addF32("classifier.bias", uniform(2, -1, 1), 2);
        TinyModels.save(TinyModels.random(c, k, true, rand), dir, "bert.", head);
        ObjectNode config = (ObjectNode) new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        config.putArray("architectures").add("BertForSequenceClassification");
        config.putObject("id2label").put("0", "no").put("1", "yes");
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());

        ExportInfo info = ModelExport.info(dir);
        assertEquals(List.of("no", "yes"), info.labels());
        assertEquals(ModelFamilies.of("bert"), info.headKind());
        assertEquals(3, info.headLayer());
        SequenceClassifier loaded = ModelExport.load(dir, k);
        Encoder enc = Encoder.load(dir, k);
        var expectedHead = new ClassificationHead(k, ModelFamilies.of("bert"), 16, 2, 0.1, Pooling.FIRST_TOKEN);
        try (WeightSource w = Safetensors.open(dir)) {
            expectedHead.loadFrom(w);
        }
        Batch batch = batch(false);
        assertArrayEquals(new SequenceClassifier(enc, expectedHead, 3).logits(batch), loaded.logits(batch));
    }

    @Test
    void aStrayTensorBesideTheHeadIsAnErrorNamingIt() throws IOException {
        Path src = source(true);
        Case c = new Case("full", TuningMode.FULL, 3, 0, Pooling.FIRST_TOKEN, 3, null, null, 0);
        SequenceClassifier model = tuned(src, true, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 0));
        Path file = out.resolve(Safetensors.SINGLE_FILE);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (WeightSource s = Safetensors.open(file)) {
            for (String n : s.names()) w.addF32(n, s.readFloat(n), s.info(n).shape());
        }
        w.addF32("classifier.extra.weight", new float[4], 2, 2);
        w.write(file);
        var ex = assertThrows(IOException.class, () -> ModelExport.load(out, k));
        assertTrue(ex.getMessage().contains(file.toString()) && ex.getMessage().contains("classifier.extra.weight"),
                ex.getMessage());
    }

    // ---- helpers ----

    /** An ADAPTERS export of a tiny BERT (adapters in layers 2 and 3, bottleneck 4, ReLU). */
    private Path exportWithAdapters() throws IOException {
        Path src = source(false);
        Case c = new Case("adapters", TuningMode.ADAPTERS, 3, 2, Pooling.FIRST_TOKEN, 2, HOULSBY4, HOULSBY4, 0);
        SequenceClassifier model = tuned(src, false, c);
        Path out = tmp.resolve("out");
        ModelExport.save(model, src, out, ExportInfo.of(model, src, "t", List.of(), c.mode, 2));
        ModelExport.load(out, k);                                                 // loads before the damage
        return out;
    }

    /** The layers of {@code info}'s adapters description ({@code varitune.adapters.layers}); empty when none. */
    private static List<Integer> adapterLayers(ExportInfo info) {
        List<Integer> layers = new ArrayList<>();
        JsonNode a = info.modules().get("adapters");
        if (a != null) a.get("layers").forEach(l -> layers.add(l.asInt()));
        return layers;
    }

    /** A random 3-layer source directory (BERT with a pooler) with tokenizer files. */
    private Path source(boolean roberta) throws IOException {
        Path dir = tmp.resolve(roberta ? "tiny-roberta" : "tiny-bert");
        if (Files.exists(dir)) return dir;
        EncoderConfig c = roberta ? TinyModels.roberta() : TinyModels.bert();
        TinyModels.save(TinyModels.random(c, k, !roberta, rand), dir, roberta ? "roberta." : "bert.", null);
        if (roberta) {
            Files.writeString(dir.resolve("vocab.json"),
                    "{\"<s>\": 0, \"<pad>\": 1, \"</s>\": 2, \"<unk>\": 3, \"<mask>\": 4, \"a\": 5, \"b\": 6, \"ab\": 7}");
            Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        } else {
            Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n");
            Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": true}");
        }
        return dir;
    }

    /**
     * The model a trainer would hold after tuning: the source encoder (all 3 layers, so that the export must drop
     * those above the head), adapters when asked, a fresh head, then every parameter moved by N(0, 0.05²).
     */
    private SequenceClassifier tuned(Path src, boolean roberta, Case c) throws IOException {
        Encoder enc = Encoder.load(src, k);
        if (c.adapters()) {
            new AdapterTuning(c.attention, c.output, Adapter.Activation.RELU).insert(enc, Plans.of(3, c.mode, c.headLayer,
                    c.tuneLayers, c.tuneLastLayer == 0 ? c.headLayer : c.tuneLastLayer), rand);
        }
        int hidden = enc.config().hiddenSize();
        Pooling pooling = c.pooling;
        ClassificationHead head = roberta
                ? new ClassificationHead(k, ModelFamilies.of("roberta"), hidden, c.numLabels, 0.1, pooling)
                : new ClassificationHead(k, ModelFamilies.of("bert"), hidden, c.numLabels, 0.1, pooling);
        head.initialize(rand, 0.02);
        head.copyFromEncoder(enc);
        SequenceClassifier m = new SequenceClassifier(enc, head, c.headLayer);
        for (Parameter p : enc.parameters()) {                                     // train-like perturbation
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] += (float) (0.05 * rand.nextGaussian());
        }
        for (Parameter p : head.parameters()) {
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] += (float) (0.05 * rand.nextGaussian());
        }
        return m;
    }

    private static Batch batch(boolean roberta) {
        TinyClassifiers.Batch b = TinyClassifiers.batch(roberta);
        return new Batch(b.ids(), b.types(), b.mask(), b.special(), TinyClassifiers.B, TinyClassifiers.T);
    }

    private static void assertSameParameters(Map<String, Parameter> expected, Map<String, Parameter> actual) {
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()), "parameter names in order");
        for (Map.Entry<String, Parameter> e : expected.entrySet()) {
            Parameter a = actual.get(e.getKey());
            assertArrayEquals(e.getValue().shape(), a.shape(), e.getKey());
            assertArrayEquals(e.getValue().data(), a.data(), e.getKey());
        }
    }
}

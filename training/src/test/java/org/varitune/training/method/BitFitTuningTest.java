package org.varitune.training.method;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.training.ClassificationHead;
import org.varitune.training.FreezePolicy;
import org.varitune.training.LayerPlan;
import org.varitune.training.Plans;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TinyClassifiers;
import org.varitune.training.TuningMode;
import org.varitune.training.export.ExportInfo;
import org.varitune.training.export.ModelExport;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Pooling;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.Fixtures;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BitFit's trainable set by hand-written HF names for the three families, its option, and its plain export. */
class BitFitTuningTest extends TestBase {
    /**
     * Logits of the reloaded export against the model it was written from: the same float tensors, so the same
     * arithmetic; observed 0 (pure-Java GEMM and OpenBLAS). Kept as LoraTuningTest.MERGED's bound.
     */
    static final double EXPORT = 7e-6;

    private final Kernels kernels = Kernels.fromSystemProperty();
    @TempDir Path tmp;

    /** A fixture's 2-layer model with a first-token head on layer 2 (BERT's pooler, RoBERTa's classifier.dense). */
    private SequenceClassifier fixtureModel(String fixture) throws Exception {
        Encoder enc = Encoder.load(Fixtures.dir(fixture), kernels);
        return new SequenceClassifier(enc, ClassificationHead.of(enc, 3, Pooling.FIRST_TOKEN), 2);
    }

    private static Set<String> trainableNames(SequenceClassifier m) {
        Set<String> s = new TreeSet<>();
        for (Parameter p : m.parameters()) if (p.trainable()) s.add(p.name());
        return s;
    }

    /** The HF names of the head's parameters, written out per family. */
    private static List<String> head(String fixture) {
        return switch (fixture) {
            case Fixtures.TINY_BERT -> List.of("pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias");
            case Fixtures.TINY_ROBERTA -> List.of("classifier.dense.weight", "classifier.dense.bias",
                    "classifier.out_proj.weight", "classifier.out_proj.bias");
            default -> List.of("pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias");
        };
    }

    /** Every bias of layer {@code index} (0-based, as HF names it), written out per family. */
    private static List<String> allBiases(String fixture, int index) {
        if (fixture.equals(Fixtures.TINY_DISTILBERT)) {
            String p = "transformer.layer." + index + ".";
            return List.of(p + "attention.q_lin.bias", p + "attention.k_lin.bias", p + "attention.v_lin.bias",
                    p + "attention.out_lin.bias", p + "sa_layer_norm.bias", p + "ffn.lin1.bias", p + "ffn.lin2.bias",
                    p + "output_layer_norm.bias");
        }
        String p = "encoder.layer." + index + ".";
        return List.of(p + "attention.self.query.bias", p + "attention.self.key.bias", p + "attention.self.value.bias",
                p + "attention.output.dense.bias", p + "attention.output.LayerNorm.bias", p + "intermediate.dense.bias",
                p + "output.dense.bias", p + "output.LayerNorm.bias");
    }

    /** The paper's small variant: query and middle-of-MLP biases of layer {@code index}. */
    private static List<String> queryAndIntermediate(String fixture, int index) {
        if (fixture.equals(Fixtures.TINY_DISTILBERT)) {
            String p = "transformer.layer." + index + ".";
            return List.of(p + "attention.q_lin.bias", p + "ffn.lin1.bias");
        }
        String p = "encoder.layer." + index + ".";
        return List.of(p + "attention.self.query.bias", p + "intermediate.dense.bias");
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.TINY_BERT, Fixtures.TINY_ROBERTA, Fixtures.TINY_DISTILBERT})
    void theTunedLayersBiasesAndTheHeadTrainAndNoWeightDoes(String fixture) throws Exception {
        // all biases, k = 1: layer 2 only
        SequenceClassifier m = fixtureModel(fixture);
        LayerPlan top = Plans.of(2, TuningMode.BITFIT, 2, 1);
        FreezePolicy.of(top, BitFitTuning.of(Map.of())).apply(m);
        Set<String> expected = new TreeSet<>(head(fixture));
        expected.addAll(allBiases(fixture, 1));
        assertEquals(expected, trainableNames(m), fixture + " all, k = 1");
        // all biases, k = 2: both layers, never the embeddings (bitfit's block starts at layer 1)
        m = fixtureModel(fixture);
        FreezePolicy.of(Plans.of(2, TuningMode.BITFIT, 2, 2), BitFitTuning.of(Map.of())).apply(m);
        expected.addAll(allBiases(fixture, 0));
        assertEquals(expected, trainableNames(m), fixture + " all, k = 2");
        // query,intermediate: only those
        m = fixtureModel(fixture);
        FreezePolicy.of(top, BitFitTuning.of(Map.of("bitfit-biases", "query,intermediate"))).apply(m);
        expected = new TreeSet<>(head(fixture));
        expected.addAll(queryAndIntermediate(fixture, 1));
        assertEquals(expected, trainableNames(m), fixture + " query,intermediate");
        // layer-norm alone: the two LayerNorm biases, not their gains
        m = fixtureModel(fixture);
        FreezePolicy.of(top, BitFitTuning.of(Map.of("bitfit-biases", "layer-norm"))).apply(m);
        expected = new TreeSet<>(head(fixture));
        expected.add(allBiases(fixture, 1).get(4));
        expected.add(allBiases(fixture, 1).get(7));
        assertEquals(expected, trainableNames(m), fixture + " layer-norm");
        for (String n : trainableNames(m)) assertFalse(n.endsWith("LayerNorm.weight") || n.endsWith("layer_norm.weight"), n);
    }

    @Test
    void aPlanThatTunesTheEmbeddingsAddsTheirLayerNormBiasOnly() throws Exception {
        SequenceClassifier m = fixtureModel(Fixtures.TINY_BERT);
        BitFitTuning all = BitFitTuning.of(Map.of());
        Set<String> t = new TreeSet<>();
        for (Parameter p : all.trainable(m.encoder(), Plans.full(2))) t.add(p.name());
        Set<String> expected = new TreeSet<>(allBiases(Fixtures.TINY_BERT, 0));
        expected.addAll(allBiases(Fixtures.TINY_BERT, 1));
        expected.add("embeddings.LayerNorm.bias");
        assertEquals(expected, t, "layer 0 (embeddings): their LayerNorm's bias, no table, no gain");
        t.clear();
        for (Parameter p : BitFitTuning.of(Map.of("bitfit-biases", "query")).trainable(m.encoder(), Plans.full(2))) t.add(p.name());
        assertEquals(Set.of("encoder.layer.0.attention.self.query.bias", "encoder.layer.1.attention.self.query.bias"), t,
                "no layer-norm chosen: not the embeddings' either");
    }

    @Test
    void theOptionParsesAllOrAListOfBiasesAndIsRecordedAsASpec() {
        assertEquals(EnumSet.allOf(BitFitTuning.Bias.class), BitFitTuning.of(Map.of()).biases());
        assertEquals("biases=all", BitFitTuning.of(Map.of("bitfit-biases", "all")).spec());
        assertEquals("biases=all", BitFitTuning.of(Map.of("bitfit-biases",
                "layer-norm,output,intermediate,attention-output,value,key,query")).spec(), "every bias is all");
        assertEquals("biases=query+intermediate", BitFitTuning.of(Map.of("bitfit-biases", "intermediate, query")).spec(),
                "declaration order, whatever the order given");
        assertEquals("bitfit (biases=query+intermediate)", BitFitTuning.of(Map.of("bitfit-biases", "query,intermediate")).describe());
        assertEquals("biases=all", TrainConfig.builder().mode(TuningMode.BITFIT).build().toMap().get("bitfit"), "defaults recorded");
        assertEquals("biases=query+intermediate", TrainConfig.builder().mode(TuningMode.BITFIT)
                .methodOption("bitfit-biases", "query,intermediate").build().toMap().get("bitfit"));
        assertFalse(TrainConfig.builder().mode(TuningMode.LORA).build().toMap().containsKey("bitfit"));
        assertEquals(1e-3, TrainConfig.builder().mode(TuningMode.BITFIT).build().lr(), "the authors' code's default");
    }

    @Test
    void aBadValueAndTheOptionOfAnotherModeAreErrorsNamingTheOption() {
        Map<String, String> bad = Map.of("weights", "is not one of query, key, value, attention-output, intermediate, "
                        + "output, layer-norm", "query,query", "names a bias twice", "query,,value", "an empty item",
                "all,query", "'all' is not one of", "", "an empty item", "Query", "'Query' is spelled 'query'");
        for (var kv : bad.entrySet()) {
            var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().mode(TuningMode.BITFIT)
                    .methodOption("bitfit-biases", kv.getKey()).build());
            assertTrue(e.getMessage().contains("--bitfit-biases (bitfit_biases) '" + kv.getKey() + "'")
                    && e.getMessage().contains(kv.getValue()), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().mode(TuningMode.LORA)
                .methodOption("bitfit-biases", "query").build());
        assertTrue(e.getMessage().contains("--bitfit-biases (bitfit_biases) is an option of bitfit, not of lora"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BitFitTuning(Set.of()));
    }

    @Test
    void theExportIsAPlainHfCheckpointWithTheTunedBiasesChangedAndReloadsToTheSameLogits() throws Exception {
        SequenceClassifier m = TinyClassifiers.model(false, kernels, 3, Pooling.FIRST_TOKEN, false, new Random(3));
        LayerPlan plan = Plans.of(3, TuningMode.BITFIT, 3, 2);
        BitFitTuning method = BitFitTuning.of(Map.of());
        method.insert(m.encoder(), plan, new Random(4));                   // nothing to insert
        FreezePolicy.of(plan, method).apply(m);
        Map<String, float[]> before = new java.util.HashMap<>();
        for (Parameter p : m.parameters()) before.put(p.name(), p.data().clone());
        for (Parameter p : m.parameters()) {                               // as if trained
            if (!p.trainable()) continue;
            float[] d = p.data();
            for (int i = 0; i < d.length; i++) d[i] += (float) (0.3 * rand.nextGaussian());
        }
        Path source = TinyModels.save(TinyModels.random(TinyModels.bert(), kernels, true, new Random(9)), tmp.resolve("src"), "bert.", null);
        Path out = tmp.resolve("export");
        ModelExport.save(m, source, out, ExportInfo.of(m, "tiny", plan, "t", List.of("a", "b", "c")));
        var config = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("BertForSequenceClassification", config.get("architectures").get(0).asText(), "HF's class: first-token pooling");
        assertEquals("bitfit", config.get("varitune").get("mode").asText());
        assertTrue(config.get("varitune").get("adapters").isNull());
        assertEquals(List.of("config.json", "model.safetensors"), listing(out), "no file beside the checkpoint (the source has no tokenizer)");
        SequenceClassifier back = ModelExport.load(out, kernels);
        List<String> changed = new ArrayList<>();
        for (Parameter p : back.parameters()) {
            float[] was = before.get(p.name());
            assertTrue(was != null, p.name() + " is a parameter of the tuned model");
            if (!java.util.Arrays.equals(was, p.data())) changed.add(p.name());
        }
        List<String> expected = new ArrayList<>();
        for (Parameter p : m.parameters()) if (p.trainable()) expected.add(p.name());
        assertEquals(new TreeSet<>(expected), new TreeSet<>(changed), "exactly the trained biases and the head changed");
        var batch = TinyClassifiers.batch(false);
        var tb = new org.varitune.transformer.tokenize.Batch(batch.ids(), batch.types(), batch.mask(), batch.special(),
                TinyClassifiers.B, TinyClassifiers.T);
        AllClose.assertAllClose("bitfit export logits", back.logits(tb), toDouble(m.logits(tb)), EXPORT,
                TinyClassifiers.B, 3);
    }

    private static List<String> listing(Path dir) throws java.io.IOException {
        try (var s = java.nio.file.Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}

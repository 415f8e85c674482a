package org.varitune.training;

import org.varitune.training.method.AdapterTuning;
import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.varitune.training.export.ExportInfo;
import org.varitune.training.export.ModelExport;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.Fixtures;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DistilBERT in every tuning mode (which of its HF-named tensors train) and through the export. */
class DistilBertTrainingTest extends TestBase {
    private final Kernels kernels = Kernels.fromSystemProperty();
    @TempDir Path tmp;

    private SequenceClassifier model(FreezePolicy policy) throws IOException {
        Encoder enc = Encoder.load(Fixtures.dir(Fixtures.TINY_DISTILBERT), kernels);
        if (policy.plan().mode() == TuningMode.ADAPTERS) {
            new AdapterTuning(Adapter.Site.houlsby(4), Adapter.Site.houlsby(4), Adapter.Activation.RELU)
                    .insert(enc, policy.plan(), new Random(7));
        }
        if (policy.plan().mode() == TuningMode.LORA) {
            TuningMethods.defaults(TuningMode.LORA).insert(enc, policy.plan(), new Random(7));
        }
        SequenceClassifier m = new SequenceClassifier(enc,
                ClassificationHead.of(enc, 3, Pooling.FIRST_TOKEN), enc.numLayers());
        m.head().initialize(new Random(8), 0.02);
        policy.apply(m);
        return m;
    }

    private static Set<String> names(SequenceClassifier m, Predicate<Parameter> which) {
        Set<String> s = new TreeSet<>();
        for (Parameter p : m.parameters()) if (which.test(p)) s.add(p.name());
        return s;
    }

    @ParameterizedTest
    @EnumSource(TuningMode.class)
    void everyModeTrainsTheDistilBertTensorsItShould(TuningMode mode) throws IOException {
        SequenceClassifier m = model(FreezePolicy.of(Plans.of(2, mode, 2, mode.usesK() ? 1 : 0)));
        Set<String> expected = new TreeSet<>(List.of("pre_classifier.weight", "pre_classifier.bias", "classifier.weight",
                "classifier.bias"));
        for (Parameter p : m.parameters()) {
            String n = p.name();
            boolean top = n.startsWith("transformer.layer.1.");
            boolean train = switch (mode) {
                case FULL -> true;
                case PROBE -> false;
                case TOP_K, PARTIAL -> top;
                case ADAPTERS -> top && (n.contains(".adapter.") || n.contains("layer_norm."));
                case LORA -> top && n.contains(".lora_");
                case BITFIT -> top && n.endsWith(".bias");                 // q/k/v/out_lin, ffn.lin1/2, both norms
            };
            if (train) expected.add(n);
        }
        if (mode == TuningMode.LORA) {       // PEFT's default targets, mapped to DistilBERT's names
            assertEquals(Set.of("transformer.layer.1.attention.q_lin.lora_A.weight", "transformer.layer.1.attention.q_lin.lora_B.weight",
                    "transformer.layer.1.attention.v_lin.lora_A.weight", "transformer.layer.1.attention.v_lin.lora_B.weight"),
                    new TreeSet<>(expected.stream().filter(n -> n.contains("lora")).toList()));
        }
        if (mode == TuningMode.ADAPTERS) {
            assertTrue(expected.contains("transformer.layer.1.ffn.adapter.down.weight"), expected.toString());
            assertTrue(expected.contains("transformer.layer.1.sa_layer_norm.weight"), expected.toString());
        }
        assertEquals(expected, names(m, Parameter::trainable), mode.toString());
        // one step: every trainable tensor gets a gradient, every frozen one none
        try (WeightSource f = Fixtures.open(Fixtures.TINY_DISTILBERT, "forward")) {
            int[] shape = f.info("input_ids").shape();
            var trace = m.forwardTrain(Fixtures.ints(f, "input_ids"), null, Fixtures.ints(f, "attention_mask"), null,
                    shape[0], shape[1], DropoutContext.OFF);
            var ce = CrossEntropyLoss.forward(trace.logits(), Fixtures.ints(f, "labels"), shape[0], 3);
            m.zeroGrad();
            m.backward(trace, CrossEntropyLoss.backward(1.0, ce));
        }
        for (Parameter p : m.parameters()) {
            double sum = 0;
            for (float g : p.grad()) sum += Math.abs(g);
            boolean zeroAllowed = p.name().endsWith("k_lin.bias") || p.name().contains(".up.")
                    || p.name().contains(".down.")                               // exact 0; near-identity adapters
                    || p.name().contains(".lora_A.");                            // B = 0 at init, so dA = 0
            if (!p.trainable()) assertEquals(0.0, sum, p.name() + " is frozen");
            else if (!zeroAllowed) assertTrue(sum > 0, p.name() + " trains but got no gradient");
        }
    }

    @Test
    void exportsInDistilBertLayoutAndReloadsTheSameLogits() throws IOException {
        SequenceClassifier m = model(FreezePolicy.of(Plans.of(2, TuningMode.PARTIAL, 2, 1)));
        Path out = tmp.resolve("export");
        ModelExport.save(m, Fixtures.dir(Fixtures.TINY_DISTILBERT), out,
                ExportInfo.of(m, Fixtures.dir(Fixtures.TINY_DISTILBERT), "t", List.of(), TuningMode.PARTIAL, 1));
        EncoderConfig c = EncoderConfig.read(out);
        assertEquals("distilbert", c.modelType());
        assertEquals(0.2, c.classifierDropout(), 0.0);
        try (WeightSource w = Safetensors.open(out)) {
            assertTrue(w.contains("distilbert.transformer.layer.1.attention.q_lin.weight"), w.names().toString());
            assertTrue(w.contains("pre_classifier.weight") && w.contains("classifier.bias"), w.names().toString());
        }
        SequenceClassifier back = ModelExport.load(out, kernels);
        assertEquals("DistilBertForSequenceClassification", back.head().family().head().architecture());
        try (WeightSource f = Fixtures.open(Fixtures.TINY_DISTILBERT, "forward")) {
            int[] shape = f.info("input_ids").shape();
            int[] ids = Fixtures.ints(f, "input_ids"), mask = Fixtures.ints(f, "attention_mask");
            float[] a = m.forwardTrain(ids, null, mask, null, shape[0], shape[1], DropoutContext.OFF).logits();
            float[] b = back.forwardTrain(ids, null, mask, null, shape[0], shape[1], DropoutContext.OFF).logits();
            assertArrayEquals(a, b, "logits after export and reload");
        }
    }
}

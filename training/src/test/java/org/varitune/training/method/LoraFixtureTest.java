package org.varitune.training.method;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.training.AdamW;
import org.varitune.training.ClassificationHead;
import org.varitune.training.CrossEntropyLoss;
import org.varitune.training.FreezePolicy;
import org.varitune.training.LayerPlan;
import org.varitune.training.Plans;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.layers.Pooling;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.Fixtures;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * LoRA against the PyTorch fixtures of {@code tools/reference/make_fixtures.py} (PEFT's {@code lora.Linear} in plain
 * PyTorch; {@code fixtures/<model>/lora/}): r 4, alpha 8, query and value of both layers, the head on the top layer
 * with first-token pooling, A and B and the head read from PEFT's {@code adapter_model.safetensors} (B random, not
 * PEFT's 0, so that every gradient is exercised). Logits and loss, the gradient of every trainable tensor by name,
 * three AdamW steps, and the merged weights after them.
 */
class LoraFixtureTest extends TestBase {
    /**
     * Logits and loss; worst observed over OpenBLAS unset/Haswell/SkylakeX and the pure-Java GEMM (whole suite,
     * {@code tools/tolerances/observe.sh}): 9.2e-7 (tiny-bert, OPENBLAS_CORETYPE=Haswell).
     */
    static final double LOGITS_TOL = 1e-5;
    /**
     * Per-tensor normalised gradient error; worst observed over the same four configurations 1.04e-5 (tiny-roberta
     * layer 1 query lora_A, pure-Java GEMM), the size of the fixture's own float32 error (README: 9.7e-6 vs float64).
     */
    static final double GRAD_TOL = 1e-4;
    /** Losses, final parameters and merged weights after 3 AdamW steps; worst observed 4.0e-6 (roberta lora_A, pure-Java GEMM). */
    static final double ADAMW_TOL = 4e-5;

    private final Kernels kernels = Kernels.fromSystemProperty();

    private record Setup(SequenceClassifier model, String prefix, int[] ids, int[] types, int[] mask, int[] labels,
                         int B, int T, List<Parameter> trainable) {}

    private Setup load(String fixture) throws IOException {
        Encoder enc = Encoder.load(Fixtures.dir(fixture), kernels);
        String prefix = enc.config().family().prefix();
        ClassificationHead head = ClassificationHead.of(enc, 3, Pooling.FIRST_TOKEN);
        LayerPlan plan = Plans.of(2, TuningMode.LORA, 2, 2);
        LoraTuning method = new LoraTuning(new LoraTuning.Config(4, 8, 0, List.of(LinearRole.QUERY, LinearRole.VALUE),
                LoraTuning.Layers.TUNED));
        method.insert(enc, plan, new Random(0));
        SequenceClassifier model = new SequenceClassifier(enc, head, 2);
        FreezePolicy.of(plan, method).apply(model);
        List<Parameter> trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        try (WeightSource a = Fixtures.open(fixture, "lora/adapter_model")) {
            Set<String> read = new TreeSet<>();
            for (Parameter p : trainable) {
                String key = "base_model.model." + hfName(model, prefix, p);
                p.copyFrom(a.readFloat(key), a.info(key).shape());
                read.add(key);
            }
            assertEquals(new TreeSet<>(a.names()), read, fixture + ": the adapter holds exactly the trainable tensors");
        }
        try (WeightSource f = Fixtures.open(fixture, "lora/forward")) {
            int[] shape = f.info("input_ids").shape();
            return new Setup(model, prefix, Fixtures.ints(f, "input_ids"), Fixtures.intsOrNull(f, "token_type_ids"),
                    Fixtures.ints(f, "attention_mask"), Fixtures.ints(f, "labels"), shape[0], shape[1], trainable);
        }
    }

    private static String hfName(SequenceClassifier m, String prefix, Parameter p) {
        return m.head().parameters().contains(p) ? m.head().checkpointName(p) : prefix + p.name();
    }

    private static double lossStep(Setup s, float[][] logits) {
        SequenceClassifier m = s.model();
        m.zeroGrad();
        var trace = m.forwardTrain(s.ids(), s.types(), s.mask(), null, s.B(), s.T(), DropoutContext.OFF);
        var ce = CrossEntropyLoss.forward(trace.logits(), s.labels(), s.B(), 3);
        m.backward(trace, CrossEntropyLoss.backward(1.0, ce));
        if (logits != null) logits[0] = trace.logits();
        return ce.loss();
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.TINY_BERT, Fixtures.TINY_ROBERTA, Fixtures.TINY_DISTILBERT})
    void logitsLossAndTheGradientOfEveryTrainableTensorMatchPyTorch(String fixture) throws IOException {
        Setup s = load(fixture);
        float[][] logits = new float[1][];
        double loss = lossStep(s, logits);
        try (WeightSource f = Fixtures.open(fixture, "lora/forward")) {
            AllClose.assertAllClose(fixture + " lora logits", logits[0], f.readFloat("logits"), LOGITS_TOL, s.B(), 3);
            AllClose.assertAllClose(fixture + " lora loss", new double[] {loss}, new double[] {f.readFloat("loss")[0]}, LOGITS_TOL);
        }
        try (WeightSource g = Fixtures.open(fixture, "lora/grads")) {
            Set<String> seen = new TreeSet<>();
            for (Parameter p : s.trainable()) {
                String key = hfName(s.model(), s.prefix(), p);
                AllClose.assertAllClose(fixture + " lora grad " + key, p.grad(), g.readFloat(key), GRAD_TOL, p.shape());
                seen.add(key);
            }
            assertEquals(new TreeSet<>(g.names()), seen, fixture + ": every fixture gradient is compared");
            assertEquals(12, seen.size(), fixture + ": 8 LoRA matrices + 4 head tensors");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {Fixtures.TINY_BERT, Fixtures.TINY_ROBERTA, Fixtures.TINY_DISTILBERT})
    void threeAdamWStepsAndTheMergedWeightsMatchPyTorch(String fixture) throws IOException {
        Setup s = load(fixture);
        AdamW opt = new AdamW(s.model().parameters(), 0.9, 0.999, 1e-8, 0.01);
        double[] losses = new double[4];
        for (int step = 0; step < 3; step++) {
            losses[step] = lossStep(s, null);
            opt.step(1e-3);
        }
        losses[3] = lossStep(s, null);
        try (WeightSource a = Fixtures.open(fixture, "lora/adamw"); WeightSource merged = Fixtures.open(fixture, "lora/merged")) {
            double[] expected = new double[4];
            for (int i = 0; i < 4; i++) expected[i] = a.readFloat("loss." + i)[0];
            AllClose.assertAllClose(fixture + " lora losses", losses, expected, ADAMW_TOL);
            for (Parameter p : s.trainable()) {
                String key = "final." + hfName(s.model(), s.prefix(), p);
                AllClose.assertAllClose(fixture + " " + key, p.data(), a.readFloat(key), ADAMW_TOL, p.shape());
            }
            int mergedCompared = 0;
            for (var layer : s.model().encoder().layers()) {
                for (LinearRole role : List.of(LinearRole.QUERY, LinearRole.VALUE)) {
                    Linear lin = layer.linear(role);
                    String key = s.prefix() + lin.weight().name();
                    AllClose.assertAllClose(fixture + " merged " + key, lin.delta().merged(lin.weight().data()),
                            merged.readFloat(key), ADAMW_TOL, lin.weight().shape());
                    mergedCompared++;
                }
            }
            assertEquals(4, mergedCompared);
        }
    }
}

package org.varitune.training.method;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.FreezePolicy;
import org.varitune.training.LayerPlan;
import org.varitune.training.Plans;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TinyClassifiers;
import org.varitune.training.TuningMode;
import org.varitune.training.export.ExportInfo;
import org.varitune.training.export.ModelExport;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.layers.Pooling;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LoRA's branch against hand-computed double values, PEFT's init, what trains, and the merged export. */
class LoraTuningTest extends TestBase {
    /**
     * The branch's float forward and grads, and the merged weight's output, against the double formulas
     * (max|a-e|/max|e|). Worst observed over OpenBLAS unset/Haswell/SkylakeX and the pure-Java GEMM: 2.2e-7 (dX with
     * dropout 0.3, pure-Java GEMM).
     */
    static final double BRANCH = 2e-6;
    /** Logits of the merged export against the LoRA model (W + s·B·A rounded once); worst observed 6.7e-7 (pure-Java GEMM). */
    static final double MERGED = 7e-6;

    private final Kernels kernels = Kernels.fromSystemProperty();
    @TempDir Path tmp;

    private static final int N = 7, IN = 6, OUT = 5, R = 3;

    /** A Linear (IN -> OUT) with random W, b and a LoRA branch of rank R with random A and B (not PEFT's B = 0). */
    private Linear linearWithLora(double dropout) {
        Linear lin = new Linear(kernels, "encoder.layer.0.attention.self.query", IN, OUT);
        fill(lin.weight(), 0.5);
        fill(lin.bias(), 0.5);
        var c = new LoraTuning.Config(R, 6, dropout, List.of(LinearRole.QUERY), LoraTuning.Layers.TUNED);
        var m = new LoraTuning.Module(kernels, "encoder.layer.0.attention.self.query", IN, OUT, c, Dropout.site(0, 16));
        fill(m.loraA(), 0.5);
        fill(m.loraB(), 0.5);
        lin.setDelta(m);
        return lin;
    }

    private void fill(Parameter p, double std) {
        float[] d = p.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) (std * rand.nextGaussian());
    }

    @Test
    void theBranchAddsScaledBATimesTheDroppedInputAndItsGradientsAreTheHandComputedOnes() {
        for (double p : new double[] {0, 0.3}) {
            Linear lin = linearWithLora(p);
            var m = (LoraTuning.Module) lin.delta();
            float[] x = randn(N * IN), dY = randn(N * OUT);
            DropoutContext drop = DropoutContext.training(11, 2);
            var f = lin.forward(x, N, true, drop);
            // the mask LoRA drew (its site), as multipliers: xd = x ⊙ mult
            Dropout.Mask mask = new Dropout(p, Dropout.site(0, 16)).mask(drop, N * IN);
            double[] mult = new double[N * IN];
            for (int i = 0; i < mult.length; i++) mult[i] = mask == null ? 1 : mask.multipliers()[i];
            double s = 6.0 / R;
            float[] W = lin.weight().data(), b = lin.bias().data(), A = m.loraA().data(), B = m.loraB().data();
            double[] u = new double[N * R], y = new double[N * OUT];
            for (int n = 0; n < N; n++) {
                for (int r = 0; r < R; r++) for (int i = 0; i < IN; i++) u[n * R + r] += x[n * IN + i] * mult[n * IN + i] * A[r * IN + i];
                for (int o = 0; o < OUT; o++) {
                    double acc = b[o];
                    for (int i = 0; i < IN; i++) acc += x[n * IN + i] * W[o * IN + i];
                    for (int r = 0; r < R; r++) acc += s * u[n * R + r] * B[o * R + r];
                    y[n * OUT + o] = acc;
                }
            }
            AllClose.assertAllClose("lora y (p=" + p + ")", f.out(), y, BRANCH, N, OUT);
            // dB = s·dYᵀ·u; dU = s·dY·B; dA = dUᵀ·xd; dX = dY·W + (dU·A) ⊙ mult
            double[] dB = new double[OUT * R], dU = new double[N * R], dA = new double[R * IN], dX = new double[N * IN];
            for (int n = 0; n < N; n++) {
                for (int o = 0; o < OUT; o++) {
                    for (int r = 0; r < R; r++) {
                        dB[o * R + r] += s * dY[n * OUT + o] * u[n * R + r];
                        dU[n * R + r] += s * dY[n * OUT + o] * B[o * R + r];
                    }
                    for (int i = 0; i < IN; i++) dX[n * IN + i] += dY[n * OUT + o] * W[o * IN + i];
                }
                for (int r = 0; r < R; r++) {
                    for (int i = 0; i < IN; i++) {
                        dA[r * IN + i] += dU[n * R + r] * x[n * IN + i] * mult[n * IN + i];
                        dX[n * IN + i] += dU[n * R + r] * A[r * IN + i] * mult[n * IN + i];
                    }
                }
            }
            lin.weight().setTrainable(false);
            lin.bias().setTrainable(false);
            float[] dx = lin.backward(dY, f.saved(), true);
            AllClose.assertAllClose("lora dX (p=" + p + ")", dx, dX, BRANCH, N, IN);
            AllClose.assertAllClose("lora_A grad (p=" + p + ")", m.loraA().grad(), dA, BRANCH, R, IN);
            AllClose.assertAllClose("lora_B grad (p=" + p + ")", m.loraB().grad(), dB, BRANCH, OUT, R);
            assertTrue(!lin.weight().hasGrad(), "the frozen base weight gets no gradient");
        }
    }

    @Test
    void mergedWeightComputesTheSameOutputWithDropoutOff() {
        Linear lin = linearWithLora(0.2);
        float[] x = randn(N * IN);
        float[] withBranch = lin.forward(x, N, false, DropoutContext.OFF).out();
        Linear plain = new Linear(kernels, "plain", IN, OUT);
        plain.weight().copyFrom(lin.delta().merged(lin.weight().data()), lin.weight().shape());
        plain.bias().copyFrom(lin.bias().data(), lin.bias().shape());
        AllClose.assertAllClose("merged", plain.forward(x, N, false).out(), toDouble(withBranch), BRANCH, N, OUT);
    }

    @Test
    void initIsPeftsKaimingUniformForAAndZeroForB() {
        var enc = TinyModels.random(TinyModels.bert(), kernels, false, new Random(1));
        LayerPlan plan = Plans.of(3, TuningMode.LORA, 3, 2);
        new LoraTuning(LoraTuning.Config.DEFAULTS).insert(enc, plan, new Random(2));
        var m = (LoraTuning.Module) enc.layers().get(2).linear(LinearRole.VALUE).delta();
        double bound = 1 / Math.sqrt(16), max = 0;
        for (float a : m.loraA().data()) max = Math.max(max, Math.abs(a));
        assertTrue(max <= bound && max > 0.8 * bound, "A ~ U(-1/sqrt(in), 1/sqrt(in)): max |a| " + max + ", bound " + bound);
        for (float b : m.loraB().data()) assertEquals(0f, b, "B = 0");
        assertEquals(List.of(8, 16), List.of(m.loraA().dim(0), m.loraA().dim(1)));
        assertEquals(null, enc.layers().get(0).linear(LinearRole.VALUE).delta(), "layer 1 is not tuned (k = 2 of 3)");
        assertEquals(null, enc.layers().get(2).linear(LinearRole.KEY).delta(), "key is not a default target");
    }

    @Test
    void onlyLoraOfTheTunedLayersAndTheHeadTrainAndAllLayersIsTheWholeStack() {
        for (LoraTuning.Layers layers : LoraTuning.Layers.values()) {
            SequenceClassifier m = TinyClassifiers.model(false, kernels, 3, Pooling.FIRST_TOKEN, false, new Random(3));
            var c = new LoraTuning.Config(2, 4, 0, List.of(LinearRole.QUERY, LinearRole.INTERMEDIATE), layers);
            var tc = org.varitune.training.trainer.TrainConfig.builder().mode(TuningMode.LORA).tuneLayers(1).methodOptions(c.options()).build();
            LayerPlan plan = tc.layerPlan(3);
            LoraTuning method = new LoraTuning(c);
            method.insert(m.encoder(), plan, new Random(4));
            FreezePolicy.of(plan, method).apply(m);
            Set<String> trains = new TreeSet<>();
            for (Parameter p : m.parameters()) if (p.trainable()) trains.add(p.name());
            Set<String> expected = new TreeSet<>(List.of("pooler.dense.weight", "pooler.dense.bias", "classifier.weight", "classifier.bias"));
            for (int l = layers == LoraTuning.Layers.ALL ? 0 : 2; l < 3; l++) {
                for (String t : List.of("attention.self.query", "intermediate.dense")) {
                    expected.add("encoder.layer." + l + "." + t + ".lora_A.weight");
                    expected.add("encoder.layer." + l + "." + t + ".lora_B.weight");
                }
            }
            assertEquals(expected, trains, layers.toString());
            assertEquals(layers == LoraTuning.Layers.ALL ? 0 : 2, plan.prefixEnd(), "no cached prefix through LoRA layers");
        }
    }

    @Test
    void theMergedExportReloadsAsAPlainModelWithTheSameLogits() throws Exception {
        SequenceClassifier m = TinyClassifiers.model(false, kernels, 3, Pooling.FIRST_TOKEN, false, new Random(3));
        LayerPlan plan = Plans.of(3, TuningMode.LORA, 3, 2);
        LoraTuning method = new LoraTuning(new LoraTuning.Config(4, 8, 0.1, List.of(LinearRole.QUERY, LinearRole.VALUE,
                LinearRole.OUTPUT), LoraTuning.Layers.TUNED));
        method.insert(m.encoder(), plan, new Random(4));
        FreezePolicy.of(plan, method).apply(m);
        for (Parameter p : m.parameters()) if (p.name().contains("lora_B")) fill(p, 0.3);   // as if trained
        Path source = TinyModels.save(TinyModels.random(TinyModels.bert(), kernels, true, new Random(9)), tmp.resolve("src"), "bert.", null);
        Path out = tmp.resolve("export");
        ModelExport.save(m, source, out, ExportInfo.of(m, "tiny", plan, "t", List.of("a", "b", "c")));
        SequenceClassifier back = ModelExport.load(out, kernels);
        assertTrue(back.parameters().stream().noneMatch(p -> p.name().contains("lora")), "a plain checkpoint");
        var batch = TinyClassifiers.batch(false);
        var tb = new org.varitune.transformer.tokenize.Batch(batch.ids(), batch.types(), batch.mask(), batch.special(),
                TinyClassifiers.B, TinyClassifiers.T);
        AllClose.assertAllClose("merged export logits", back.logits(tb), toDouble(m.logits(tb)), MERGED,
                TinyClassifiers.B, 3);
        // PEFT's unmerged adapter beside the merged checkpoint
        method.exportExtras(m, source, out);
        var cfg = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("peft/adapter_config.json").toFile());
        assertEquals("LORA", cfg.get("peft_type").asText());
        assertEquals(4, cfg.get("r").asInt());
        assertEquals(8.0, cfg.get("lora_alpha").asDouble());
        List<String> targets = new java.util.ArrayList<>();
        cfg.get("target_modules").forEach(t -> targets.add(t.asText()));
        List<String> expectedTargets = new java.util.ArrayList<>();
        for (int l = 1; l <= 2; l++) {
            for (String t : List.of("attention.self.query", "attention.self.value", "output.dense")) expectedTargets.add("bert.encoder.layer." + l + "." + t);
        }
        assertEquals(expectedTargets, targets);
        assertEquals("[\"pooler.dense\",\"classifier\"]", cfg.get("modules_to_save").toString());
        try (var w = org.varitune.transformer.io.Safetensors.open(out.resolve("peft/adapter_model.safetensors"))) {
            Set<String> keys = new TreeSet<>(w.names());
            assertEquals(6 * 2 + 4, keys.size(), keys.toString());
            Parameter b = m.encoder().parameterMap().get("encoder.layer.2.output.dense.lora_B.weight");
            assertEquals(java.util.Arrays.toString(b.data()), java.util.Arrays.toString(
                    w.readFloat("base_model.model.bert.encoder.layer.2.output.dense.lora_B.weight")));
            assertTrue(keys.contains("base_model.model.bert.pooler.dense.weight") && keys.contains("base_model.model.classifier.bias"), keys.toString());
        }
        var e = assertThrows(IllegalStateException.class, () -> method.trainable(TinyClassifiers.model(false, kernels, 3,
                Pooling.FIRST_TOKEN, false, new Random(3)).encoder(), plan));
        assertTrue(e.getMessage().contains("encoder.layer.1.attention.self.query.weight") && e.getMessage().contains("no LoRA"),
                e.getMessage());
    }
}

package org.varitune.training;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.kernels.NativeAdamW;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** AdamW (groups, the update formula, skipping, state round trip), schedules, and global-norm clipping. */
class OptimizerTest extends TestBase {

    /**
     * HF Trainer's groups: decay for every parameter except biases and the parameters of LayerNorm modules, decided
     * by module type. Checked on real models of every family (DistilBERT names its LayerNorms {@code sa_layer_norm},
     * {@code output_layer_norm}), with adapters and the head: the exempt set is exactly the LayerNorm modules' weights
     * and biases, listed here by the modules that own them, plus every Linear's bias.
     */
    @Test
    void weightDecayExemptsExactlyBiasesAndLayerNormParametersInEveryFamily() {
        for (String type : List.of("bert", "roberta", "distilbert")) {
            var c = new org.varitune.transformer.model.EncoderConfig(type, 40, 8, 2, 2, 12, "gelu", 1e-12, 20,
                    type.equals("distilbert") ? 0 : 2, 1, 0.1, 0.1);
            var enc = new org.varitune.transformer.model.Encoder(c, new org.varitune.transformer.kernels.CpuKernels(), false);
            for (var layer : enc.layers()) layer.addAdapters(2, org.varitune.transformer.layers.Adapter.Activation.RELU);
            var head = ClassificationHead.of(enc, 3, org.varitune.transformer.layers.Pooling.FIRST_TOKEN);
            List<Parameter> all = new java.util.ArrayList<>(enc.parameters());
            all.addAll(head.parameters());
            java.util.Set<String> exempt = new java.util.TreeSet<>();
            for (Parameter p : all) if (!p.weightDecay()) exempt.add(p.name());
            // HF's rule written out: the LayerNorm modules of this family (by hand), then every name containing "bias"
            List<String> norms = new java.util.ArrayList<>(List.of("embeddings.LayerNorm"));
            for (int l = 0; l < 2; l++) {
                norms.addAll(type.equals("distilbert")
                        ? List.of("transformer.layer." + l + ".sa_layer_norm", "transformer.layer." + l + ".output_layer_norm")
                        : List.of("encoder.layer." + l + ".attention.output.LayerNorm", "encoder.layer." + l + ".output.LayerNorm"));
            }
            java.util.Set<String> expected = new java.util.TreeSet<>();
            for (String n : norms) { expected.add(n + ".weight"); expected.add(n + ".bias"); }
            for (Parameter p : all) if (p.name().contains("bias")) expected.add(p.name());
            assertEquals(expected, exempt, type);
            assertTrue(all.stream().filter(Parameter::weightDecay).allMatch(p -> p.shape().length == 2), type + ": only matrices and embeddings decay");
        }
    }

    /** A parameter named as in a model; biases are exempt from decay as {@code Linear} makes them. */
    private Parameter param(String name, int n) {
        return new Parameter(name, !name.endsWith(".bias"), randn(n), n);
    }

    @Test
    void updateFollowsTheTorchFormulaWithDecoupledDecayAndBiasCorrection() {
        Parameter w = param("dense.weight", 5), b = param("dense.bias", 5);
        double[] ew = toDouble(w.data()), eb = toDouble(b.data());
        double[][] mv = new double[4][5];
        AdamW opt = new AdamW(List.of(w, b), 0.9, 0.999, 1e-8, 0.01);
        double[] lrs = {1e-3, 5e-4, 2e-3};
        for (int t = 1; t <= 3; t++) {
            float[] gw = randn(5), gb = randn(5);
            System.arraycopy(gw, 0, w.grad(), 0, 5);
            System.arraycopy(gb, 0, b.grad(), 0, 5);
            double lr = lrs[t - 1];
            for (int k = 0; k < 2; k++) {
                double[] p = k == 0 ? ew : eb, m = mv[2 * k], v = mv[2 * k + 1];
                float[] g = k == 0 ? gw : gb;
                double wd = k == 0 ? 0.01 : 0.0;
                for (int i = 0; i < 5; i++) {
                    p[i] *= 1 - lr * wd;
                    m[i] = 0.9 * m[i] + 0.1 * g[i];
                    v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                    p[i] -= lr / (1 - Math.pow(0.9, t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8);
                }
            }
            opt.step(lr);
        }
        org.varitune.transformer.testing.AllClose.assertAllClose("weight (decayed)", w.data(), ew, 1e-6);
        org.varitune.transformer.testing.AllClose.assertAllClose("bias (not decayed)", b.data(), eb, 1e-6);
        assertEquals(3, opt.state().get("dense.weight").step());
    }

    /**
     * The vectorised update equals the scalar formula (in double, state rounded to float after each step, as documented)
     * bit for bit, over a length that leaves a scalar tail after the vectors; so does the native AVX-512 update.
     */
    @ParameterizedTest(name = "native={0}")
    @ValueSource(booleans = {false, true})
    void vectorisedUpdateEqualsTheScalarDoubleFormulaBitForBit(boolean nativeUpdate) {
        Assumptions.assumeTrue(!nativeUpdate || NativeAdamW.available(), () -> "native AdamW: " + NativeAdamW.unavailableReason());
        int n = 300_007;                     // several parallel chunks, compiled loops, a scalar tail
        Parameter w = param("dense.weight", n);
        float[] ew = w.data().clone(), em = new float[n], ev = new float[n];
        AdamW opt = new AdamW(List.of(w), 0.9, 0.999, 1e-8, 0.01, nativeUpdate);
        double[] lrs = {1e-3, 5e-4, 2e-3};
        for (int t = 1; t <= 3; t++) {
            float[] g = randn(n);
            System.arraycopy(g, 0, w.grad(), 0, n);
            double lr = lrs[t - 1], bc1 = 1.0 - Math.pow(0.9, t), bc2Sqrt = Math.sqrt(1.0 - Math.pow(0.999, t));
            for (int i = 0; i < n; i++) {
                double wi = ew[i] * (1.0 - lr * 0.01);
                double mi = 0.9 * em[i] + (1.0 - 0.9) * g[i];
                double vi = 0.999 * ev[i] + (1.0 - 0.999) * (double) g[i] * g[i];
                em[i] = (float) mi;
                ev[i] = (float) vi;
                ew[i] = (float) (wi - lr / bc1 * mi / (Math.sqrt(vi) / bc2Sqrt + 1e-8));
            }
            opt.step(lr);
            for (int i = 0; i < n; i++) {
                if (Float.floatToRawIntBits(w.data()[i]) != Float.floatToRawIntBits(ew[i])) {
                    throw new AssertionError("step " + t + ": weight[" + i + "] = " + w.data()[i] + ", the formula gives " + ew[i]);
                }
            }
            assertArrayEquals(em, opt.state().get("dense.weight").expAvg(), "step " + t + ": exp_avg");
            assertArrayEquals(ev, opt.state().get("dense.weight").expAvgSq(), "step " + t + ": exp_avg_sq");
        }
    }

    @Test
    void skipsFrozenParametersAndParametersWithoutGradients() {
        Parameter frozen = param("a.weight", 3), noGrad = param("b.weight", 3), live = param("c.weight", 3);
        frozen.grad()[0] = 1f;
        frozen.setTrainable(false);
        live.grad()[1] = 1f;
        float[] f0 = frozen.data().clone(), n0 = noGrad.data().clone(), l0 = live.data().clone();
        AdamW opt = AdamW.withDefaults(List.of(frozen, noGrad, live), 0.1);
        opt.step(1e-2);
        assertArrayEquals(f0, frozen.data(), "frozen: no update, no decay");
        assertArrayEquals(n0, noGrad.data(), "no grad buffer: skipped as torch skips grad None");
        assertFalse(java.util.Arrays.equals(l0, live.data()));
        assertEquals(List.of("c.weight"), List.copyOf(opt.state().keySet()));
    }

    @Test
    void restoredStateContinuesExactlyLikeTheOriginal() {
        Parameter a = param("x.weight", 6), a2 = new Parameter("x.weight", a.data().clone(), 6);
        AdamW opt = AdamW.withDefaults(List.of(a), 0.01);
        float[][] grads = {randn(6), randn(6), randn(6)};
        for (int s = 0; s < 2; s++) {
            System.arraycopy(grads[s], 0, a.grad(), 0, 6);
            opt.step(1e-3);
        }
        System.arraycopy(a.data(), 0, a2.data(), 0, 6);
        AdamW resumed = AdamW.withDefaults(List.of(a2), 0.01);
        resumed.loadState(opt.steps(), opt.state());
        System.arraycopy(grads[2], 0, a.grad(), 0, 6);
        System.arraycopy(grads[2], 0, a2.grad(), 0, 6);
        opt.step(1e-3);
        resumed.step(1e-3);
        assertArrayEquals(a.data(), a2.data(), "bitwise equal after resuming");
        assertEquals(3, resumed.steps());
        var bad = Map.of("x.weight", new AdamW.ParamState(new float[5], new float[5], 1));
        var ex = assertThrows(IllegalArgumentException.class, () -> resumed.loadState(1, bad));
        assertTrue(ex.getMessage().contains("x.weight"), ex.getMessage());
    }

    @Test
    void linearWarmupThenDecayFollowsHf() {
        LrSchedule s = LrSchedule.linearWarmupDecay(1.0, 2, 10);
        double[] expected = {0, 0.5, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0};
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], s.lr(i), 1e-15, "step " + i);
        assertEquals(6, LrSchedule.warmupSteps(0.06, 100));
        assertEquals(2, LrSchedule.warmupSteps(0.1, 15), "ceil(1.5)");
        assertEquals(1.0, LrSchedule.linearWarmupDecay(1.0, 0, 4).lr(0), "no warmup starts at the peak");
        assertEquals(3e-5, LrSchedule.constant(3e-5).lr(99));
        assertEquals(0.5, LrSchedule.constantWithWarmup(1.0, 4).lr(2));
        assertEquals(1.0, LrSchedule.constantWithWarmup(1.0, 4).lr(7));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupSteps(1.5, 10));
    }

    @Test
    void clippingScalesAllTrainableGradsOnlyAboveTheMaximum() {
        Parameter a = param("a.weight", 2), b = param("b.weight", 1), frozen = param("c.weight", 1);
        a.grad()[0] = 3f;
        b.grad()[0] = 4f;
        frozen.grad()[0] = 100f;
        frozen.setTrainable(false);
        assertEquals(5.0, GradClip.clipGlobalNorm(List.of(a, b, frozen), 10.0), 1e-12);
        assertEquals(3f, a.grad()[0], "below the maximum: unchanged");
        assertEquals(5.0, GradClip.clipGlobalNorm(List.of(a, b, frozen), 1.0), 1e-12);
        assertEquals(3.0 / (5 + 1e-6), a.grad()[0], 1e-7);
        assertEquals(4.0 / (5 + 1e-6), b.grad()[0], 1e-7);
        assertEquals(100f, frozen.grad()[0], "frozen grads are neither counted nor scaled");
        b.grad()[0] = Float.NaN;
        assertThrows(ArithmeticException.class, () -> GradClip.clipGlobalNorm(List.of(a, b), 1.0));
    }

    @Test
    void gradientSumOfSquaresFollowsItsDocumentedOrderBitForBit() {
        int n = 3 * GradClip.BLOCK + 1234;
        float[] g = randn(n);
        double want = 0.0, naive = 0.0;
        for (int lo = 0; lo < n; lo += GradClip.BLOCK) {
            int hi = Math.min(n, lo + GradClip.BLOCK);
            double[] acc = new double[4];
            for (int i = lo; i < hi; i++) acc[(i - lo) % 4] += (double) g[i] * g[i];
            want += acc[0] + acc[1] + acc[2] + acc[3];
        }
        for (float x : g) naive += (double) x * x;
        double got = GradClip.sumOfSquares(g);
        assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), "sum of squares " + got + " vs " + want);
        assertEquals(naive, got, 1e-12 * naive, "against the sum in index order");
    }

    /**
     * A float species other than the preferred one anywhere in the JVM (say a half-width one, to widen floats to
     * doubles) leaves JDK 17's Vector API kernels boxed: measured, GELU ran 3× slower in a training step once AdamW
     * declared one. So the optimizer's and the clipping's species are the preferred ones (see KernelsParityTest).
     */
    @Test
    void optimizerAndClippingDeclareOnlyThePreferredSpecies() throws IllegalAccessException {
        for (Class<?> c : List.of(AdamW.class, GradClip.class)) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (!jdk.incubator.vector.VectorSpecies.class.isAssignableFrom(f.getType())) continue;
                f.setAccessible(true);
                Object sp = f.get(null);
                assertTrue(sp == jdk.incubator.vector.FloatVector.SPECIES_PREFERRED
                        || sp == jdk.incubator.vector.DoubleVector.SPECIES_PREFERRED, c.getSimpleName() + "." + f.getName() + " = " + sp);
            }
        }
    }
}

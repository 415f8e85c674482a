package org.varitune.transformer.kernels.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.transformer.testing.AllClose.assertAllClose;

/**
 * Fourth link of the chain: every {@link CudaKernels} operation against {@link CpuKernels} on seeded random inputs, with
 * the named {@link CudaTolerances} (FP32 and TF32), the exact ops bit for bit, and the whole encoder (forward; forward +
 * backward gradients) on the GPU against the CPU. Skips, saying why, when no CUDA device is present.
 */
@Tag("gpu")
class CudaKernelsParityTest extends TestBase {
    private static CudaKernels fp32, tf32;
    private final Kernels cpu = new CpuKernels();

    /** Per test, so that each one is reported as skipped with the reason (a class-level abort hides them). */
    @BeforeEach
    void openDeviceOnce() {
        if (Boolean.getBoolean("varitune.cuda.require")) {            // tools/cuda/gpu_check.sh: a skip there is a failure
            assertTrue(Device.cudaAvailable(), () -> "-Dvaritune.cuda.require=true but no CUDA device: " + Device.unavailableReason());
        }
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Device.unavailableReason());
        if (fp32 == null) fp32 = CudaKernels.open(Device.cuda(0), CudaKernels.MatmulPrecision.FP32);
        if (tf32 == null) tf32 = CudaKernels.open(Device.cuda(0), CudaKernels.MatmulPrecision.TF32);
    }

    @AfterEach
    void noBufferOutlivesItsCall() {
        if (fp32 != null) assertEquals(List.of(), fp32.context().pool().inUseTags(), "fp32 buffers still acquired");
        if (tf32 != null) assertEquals(List.of(), tf32.context().pool().inUseTags(), "tf32 buffers still acquired");
    }

    @AfterAll
    static void closeDeviceReportingLeaks() {
        if (tf32 != null) tf32.close();
        if (fp32 != null) fp32.close();
    }

    /** b = 0 full, b = 1 about half padded, b = B−1 (B ≥ 3) all padding. */
    static int[] paddingMask(int B, int T) {
        int[] m = new int[B * T];
        for (int b = 0; b < B; b++) {
            int len = B >= 3 && b == B - 1 ? 0 : b == 0 ? T : Math.max(1, T / 2 + b);
            for (int t = 0; t < Math.min(len, T); t++) m[b * T + t] = 1;
        }
        return m;
    }

    private void checkMatmul(CudaKernels k, double tol, int N, int IC, int OC) {
        String at = k.name() + " N=" + N + " IC=" + IC + " OC=" + OC + " ";
        float[] x = randn(N * IC), w = randn(OC * IC), b = randn(OC), dOut = randn(N * OC);
        float[] e = new float[N * OC], a = new float[N * OC];
        cpu.matmulForward(e, x, w, b, N, IC, OC);
        k.matmulForward(a, x, w, b, N, IC, OC);
        assertAllClose(at + "out", a, e, tol, N, OC);
        cpu.matmulForward(e, x, w, null, N, IC, OC);
        k.matmulForward(a, x, w, null, N, IC, OC);
        assertAllClose(at + "out, no bias", a, e, tol, N, OC);
        float[] g0x = randn(N * IC), g0w = randn(OC * IC), g0b = randn(OC);
        float[] eX = g0x.clone(), eW = g0w.clone(), eB = g0b.clone(), aX = g0x.clone(), aW = g0w.clone(), aB = g0b.clone();
        cpu.matmulBackward(eX, eW, eB, dOut, x, w, N, IC, OC);
        k.matmulBackward(aX, aW, aB, dOut, x, w, N, IC, OC);
        assertAllClose(at + "dX", aX, eX, tol, N, IC);
        assertAllClose(at + "dWeight", aW, eW, tol, OC, IC);
        assertAllClose(at + "dBias", aB, eB, CudaTolerances.FP32_MATMUL, OC);   // column sums are FP32 in both modes
        float[] onlyW = g0w.clone();
        k.matmulBackward(null, onlyW, null, dOut, x, w, N, IC, OC);
        assertAllClose(at + "dWeight alone", onlyW, aW, 1e-6);
    }

    @Test
    void fp32MatmulMatchesCpuAtEncoderAndRaggedShapes() {
        checkMatmul(fp32, CudaTolerances.FP32_MATMUL, 96, 384, 1536);
        checkMatmul(fp32, CudaTolerances.FP32_MATMUL, 130, 768, 768);
        checkMatmul(fp32, CudaTolerances.FP32_MATMUL, 37, 45, 19);
        checkMatmul(fp32, CudaTolerances.FP32_MATMUL, 1, 3, 1);
    }

    @Test
    void tf32MatmulMatchesCpuWithinTheTf32Tolerance() {
        checkMatmul(tf32, CudaTolerances.TF32_MATMUL, 96, 384, 1536);
        checkMatmul(tf32, CudaTolerances.TF32_MATMUL, 37, 45, 19);
    }

    @Test
    void layerNormMatchesCpu() {
        for (int[] s : new int[][] {{200, 768}, {7, 33}, {1, 1}}) {
            int N = s[0], C = s[1];
            float eps = 1e-12f;
            float[] x = randn(N * C), w = randn(C), b = randn(C), dOut = randn(N * C);
            float[] e = new float[N * C], em = new float[N], es = new float[N], a = new float[N * C], am = new float[N], as = new float[N];
            cpu.layerNormForward(e, em, es, x, w, b, N, C, eps);
            fp32.layerNormForward(a, am, as, x, w, b, N, C, eps);
            String at = "layerNorm N=" + N + " C=" + C + " ";
            assertAllClose(at + "out", a, e, CudaTolerances.FP32_LAYERNORM, N, C);
            assertAllClose(at + "mean", am, em, CudaTolerances.FP32_LAYERNORM, N);
            assertAllClose(at + "rstd", as, es, CudaTolerances.FP32_LAYERNORM, N);
            fp32.layerNormForward(a, null, null, x, w, b, N, C, eps);
            assertAllClose(at + "out without stats", a, e, CudaTolerances.FP32_LAYERNORM, N, C);
            float[] eX = randn(N * C), eW = randn(C), eB = randn(C), aX = eX.clone(), aW = eW.clone(), aB = eB.clone();
            cpu.layerNormBackward(eX, eW, eB, dOut, x, em, es, w, N, C);
            fp32.layerNormBackward(aX, aW, aB, dOut, x, em, es, w, N, C);
            assertAllClose(at + "dX", aX, eX, CudaTolerances.FP32_LAYERNORM, N, C);
            assertAllClose(at + "dWeight", aW, eW, CudaTolerances.FP32_LAYERNORM, C);
            assertAllClose(at + "dBias", aB, eB, CudaTolerances.FP32_LAYERNORM, C);
        }
    }

    @Test
    void geluMatchesCpuAndAddIsExact() {
        int n = 100_003;
        float[] x = uniform(n, -12, 12), y = randn(n), dOut = randn(n), e = new float[n], a = new float[n];
        cpu.geluForward(e, x, n);
        fp32.geluForward(a, x, n);
        assertAllClose("gelu out", a, e, CudaTolerances.FP32_ELEMENTWISE, n);
        float[] aliased = x.clone();
        fp32.geluForward(aliased, aliased, n);
        assertArrayEquals(a, aliased, "gelu with out == x");
        float[] eX = randn(n), aX = eX.clone();
        cpu.geluBackward(eX, x, dOut, n);
        fp32.geluBackward(aX, x, dOut, n);
        assertAllClose("gelu dX", aX, eX, CudaTolerances.FP32_ELEMENTWISE, n);
        cpu.add(e, x, y, n);
        fp32.add(a, x, y, n);
        assertArrayEquals(e, a, "add");
    }

    @Test
    void attentionMatchesCpuWithPaddedAndFullyPaddedSequences() {
        for (int[] s : new int[][] {{3, 128, 4, 32}, {2, 17, 3, 5}, {1, 1, 1, 1}}) {
            int B = s[0], T = s[1], H = s[2], D = s[3], n = B * T * H * D, na = B * H * T * T;
            String at = "attention B=" + B + " T=" + T + " H=" + H + " D=" + D + " ";
            int[] mask = paddingMask(B, T);
            float[] q = randn(n), k = randn(n), v = randn(n), dOut = randn(n);
            float[] e = new float[n], ea = new float[na], a = new float[n], aa = new float[na];
            cpu.attentionForward(e, ea, q, k, v, mask, B, T, H, D);
            fp32.attentionForward(a, aa, q, k, v, mask, B, T, H, D);
            assertAllClose(at + "out", a, e, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            assertAllClose(at + "att", aa, ea, CudaTolerances.FP32_ATTENTION, B, H, T, T);
            float[] dq0 = randn(n), dk0 = randn(n), dv0 = randn(n);
            float[] eq = dq0.clone(), ek = dk0.clone(), ev = dv0.clone(), aq = dq0.clone(), ak = dk0.clone(), av = dv0.clone();
            cpu.attentionBackward(eq, ek, ev, dOut, q, k, v, ea, B, T, H, D);
            fp32.attentionBackward(aq, ak, av, dOut, q, k, v, ea, B, T, H, D);
            assertAllClose(at + "dQ", aq, eq, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            assertAllClose(at + "dK", ak, ek, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            assertAllClose(at + "dV", av, ev, CudaTolerances.FP32_ATTENTION, B, T, H * D);

            // the split form used with attention-probability dropout
            float[] sa = new float[na], so = new float[n];
            fp32.attentionProbs(sa, q, k, mask, B, T, H, D);
            assertAllClose(at + "split att", sa, ea, CudaTolerances.FP32_ATTENTION, B, H, T, T);
            fp32.attentionValues(so, ea, v, B, T, H, D);
            assertAllClose(at + "split out", so, e, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            float[] dAtt0 = randn(na), eDa = dAtt0.clone(), aDa = dAtt0.clone(), eV2 = dv0.clone(), aV2 = dv0.clone();
            cpu.attentionValuesBackward(eDa, eV2, dOut, ea, v, B, T, H, D);
            fp32.attentionValuesBackward(aDa, aV2, dOut, ea, v, B, T, H, D);
            assertAllClose(at + "split dAtt", aDa, eDa, CudaTolerances.FP32_ATTENTION, B, H, T, T);
            assertAllClose(at + "split dV", aV2, eV2, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            float[] eQ2 = dq0.clone(), aQ2 = dq0.clone(), aK2 = dk0.clone(), eK2 = dk0.clone();
            cpu.attentionProbsBackward(eQ2, eK2, eDa, ea, q, k, B, T, H, D);
            fp32.attentionProbsBackward(aQ2, aK2, eDa, ea, q, k, B, T, H, D);
            assertAllClose(at + "split dQ", aQ2, eQ2, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            assertAllClose(at + "split dK", aK2, eK2, CudaTolerances.FP32_ATTENTION, B, T, H * D);
            float[] onlyK = dk0.clone();
            fp32.attentionProbsBackward(null, onlyK, eDa, ea, q, k, B, T, H, D);
            assertAllClose(at + "split dK without dQ", onlyK, aK2, 1e-6, B, T, H * D);
        }
    }

    @Test
    void dropoutDrawsTheCpuMaskBitForBit() {
        int n = 70_001;
        float[] x = randn(n);
        for (double p : new double[] {0.1, 0.5}) {
            Dropout.Mask m = new Dropout(p, Dropout.site(3, Dropout.OUTPUT)).mask(DropoutContext.training(1234, 17), n);
            float[] e = new float[n], a = new float[n];
            Dropout.apply(e, x, m);
            fp32.dropout(a, x, m);
            assertArrayEquals(e, a, "dropout p=" + p);
        }
    }

    @Test
    void embeddingsGatherAndScatterAreBitIdenticalWithRepeatedIds() {
        int V = 50, P = 20, Y = 2, C = 48, n = 64, pad = 0;
        float[] word = randn(V * C), pos = randn(P * C), type = randn(Y * C), dSum = randn(n * C);
        int[] ids = new int[n], positions = new int[n], types = new int[n];
        for (int i = 0; i < n; i++) { ids[i] = rand.nextInt(6); positions[i] = i % P; types[i] = i % Y; }   // many repeats, some pad
        float[] e = new float[n * C], a = new float[n * C];
        for (int i = 0; i < n; i++)                      // Embeddings.forward's loop
            for (int j = 0; j < C; j++) e[i * C + j] = word[ids[i] * C + j] + pos[positions[i] * C + j] + type[types[i] * C + j];
        fp32.embeddingsForward(a, word, pos, type, ids, positions, types, n, C);
        assertArrayEquals(e, a, "embeddings sum");
        float[] eW = randn(V * C), aW = eW.clone();
        for (int i = 0; i < n; i++)                      // Embeddings.backward's loop, pad row skipped
            if (ids[i] != pad) for (int j = 0; j < C; j++) eW[ids[i] * C + j] += dSum[i * C + j];
        fp32.embeddingsBackward(aW, dSum, EmbeddingScatterPlan.build(ids, n, V, pad, "word"), C);
        assertArrayEquals(eW, aW, "word_embeddings grad");
    }

    @Test
    void adamwUpdateEqualsTheCpuArithmeticBitForBit() {
        int n = 10_007;
        float[] w = randn(n), g = randn(n), m = randn(n), v = uniform(n, 0, 1);
        float[] ew = w.clone(), em = m.clone(), ev = v.clone();
        double lr = 2e-5, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        long t = 3;
        // AdamW.step, verbatim
        double bc1 = 1.0 - Math.pow(b1, t), bc2Sqrt = Math.sqrt(1.0 - Math.pow(b2, t)), stepSize = lr / bc1;
        for (int i = 0; i < n; i++) {
            double wi = ew[i] * (1.0 - lr * wd);
            double mi = b1 * em[i] + (1.0 - b1) * g[i];
            double vi = b2 * ev[i] + (1.0 - b2) * (double) g[i] * g[i];
            em[i] = (float) mi;
            ev[i] = (float) vi;
            ew[i] = (float) (wi - stepSize * mi / (Math.sqrt(vi) / bc2Sqrt + eps));
        }
        fp32.adamwUpdate(w, g, m, v, n, lr, wd, b1, b2, eps, t);
        assertArrayEquals(ev, v, "exp_avg_sq");
        assertArrayEquals(em, m, "exp_avg");
        assertArrayEquals(ew, w, "param");
    }

    @Test
    void rankUpdateMatchesThePackedUpperTriangleLoop() {
        int B = 37, d = 70, packed = d * (d + 1) / 2;
        float[] pooled = randn(B * d);
        double[] pilot = toDouble(randn(d)), w = toDouble(uniform(B, 0, 1));
        double[] g = new double[B * d], eg = new double[B * d];
        for (int b = 0; b < B; b++) for (int i = 0; i < d; i++) eg[b * d + i] = pooled[b * d + i] - pilot[i];
        fp32.shiftRows(g, pooled, pilot, B, d);
        assertArrayEquals(eg, g, "shifted rows");
        for (double[] weights : new double[][] {w, null}) {
            double[] e = toDouble(randn(packed)), a = e.clone();
            for (int i = 0, off = 0; i < d; off += d - i, i++)
                for (int j = i; j < d; j++)
                    for (int b = 0; b < B; b++) e[off + j - i] += eg[b * d + i] * (weights == null ? 1 : weights[b]) * eg[b * d + j];
            fp32.rankUpdatePacked(a, g, weights, B, d);
            assertAllClose("rank update" + (weights == null ? " unweighted" : ""), a, e, CudaTolerances.F64_MOMENT);
        }
    }

    private static EncoderConfig mediumBert() {
        return new EncoderConfig("bert", 120, 64, 2, 4, 256, "gelu", 1e-12, 40, 2, 0, 0.1, 0.1);
    }

    private static int[] ids(Random r, int n, int vocab) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = 1 + r.nextInt(vocab - 1);
        return a;
    }

    @Test
    void encoderForwardOnTheGpuMatchesTheCpuAtEveryHiddenState() {
        EncoderConfig c = mediumBert();
        Encoder onCpu = TinyModels.random(c, cpu, true, new Random(7)), onGpu = TinyModels.random(c, fp32, true, new Random(7));
        int B = 3, T = 24;
        int[] inputIds = ids(rand, B * T, c.vocabSize()), types = new int[B * T], mask = paddingMask(B, T);
        EncoderOutput e = onCpu.forward(inputIds, types, mask, B, T, c.numHiddenLayers());
        EncoderOutput a = onGpu.forward(inputIds, types, mask, B, T, c.numHiddenLayers());
        for (int l = 0; l < e.hiddenStates().size(); l++) {
            assertAllClose("hidden state " + l, a.hiddenStates().get(l), e.hiddenStates().get(l), CudaTolerances.FP32_ENCODER, B, T, c.hiddenSize());
        }
        assertAllClose("pooled", a.pooled(), e.pooled(), CudaTolerances.FP32_ENCODER, B, c.hiddenSize());
    }

    @Test
    void encoderTrainingStepGradientsOnTheGpuMatchTheCpu() {
        EncoderConfig c = mediumBert();
        Encoder onCpu = TinyModels.random(c, cpu, false, new Random(11)), onGpu = TinyModels.random(c, fp32, false, new Random(11));
        int B = 2, T = 16, L = c.numHiddenLayers();
        int[] inputIds = ids(rand, B * T, c.vocabSize()), types = new int[B * T], mask = paddingMask(B, T);
        float[] dLast = randn(B * T * c.hiddenSize());
        var te = onCpu.forwardTrain(inputIds, types, mask, B, T, L);
        var ta = onGpu.forwardTrain(inputIds, types, mask, B, T, L);
        onCpu.backward(te, dLast, null);
        onGpu.backward(ta, dLast, null);
        List<Parameter> pe = onCpu.parameters(), pa = onGpu.parameters();
        for (int i = 0; i < pe.size(); i++) {
            assertAllClose(pe.get(i).name() + " grad", pa.get(i).grad(), pe.get(i).grad(), CudaTolerances.FP32_ENCODER, pe.get(i).shape());
        }
    }
}

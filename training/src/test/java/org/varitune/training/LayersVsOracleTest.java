package org.varitune.training;

import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.layers.LayerNorm;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.layers.SelfAttention;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.DoubleLayers;
import org.varitune.training.reference.DoubleClassifier;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;


/**
 * Our float layers (forward and backward, plain CPU kernels and the configured backend) against the double oracles
 * of {@code org.varitune.training.reference}, on seeded inputs in [-2, 2], with padding masks and dropout masks.
 * Normalised errors {@code max|a − e|/max|e|}; the observed maxima are recorded at each tolerance.
 */
class LayersVsOracleTest extends TestBase {
    /**
     * Linear, LayerNorm, attention, embeddings, adapter, pooling, heads and losses (below Tolerances.F32_REDUCTION).
     * Observed at most 1.1e-6 (attention query.bias grad with dropout, OPENBLAS_CORETYPE=Haswell; 2.2e-7 with the
     * core type unset); linear 4.0e-8, LayerNorm 6.9e-8, embeddings 9.6e-8, adapter 9.0e-8, heads 1.5e-7, losses
     * 3.3e-8.
     */
    static final double REDUCTION = 1e-5;
    /**
     * A whole EncoderLayer (with adapters and dropout) forward + backward (below Tolerances.F32_LAYER = 1e-4).
     * Observed at most 9.4e-7 (dX, adapters and dropout on) over every OpenBLAS core type and the pure-Java GEMM.
     */
    static final double LAYER = 1e-5;

    static Stream<Arguments> kernels() {
        return Stream.of(Arguments.of(new CpuKernels()), Arguments.of(Kernels.fromSystemProperty()));
    }

    private static double[] d(float[] a) { return toDouble(a); }

    private void close(String label, float[] actual, double[] expected, double tol) {
        AllClose.assertAllClose(label, actual, expected, tol);
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void linearAndLayerNormMatchTheOracle(Kernels k) {
        int n = 5, in = 7, out = 3;
        Linear lin = new Linear(k, "dense", in, out);
        fill(lin.weight());
        fill(lin.bias());
        float[] x = randn(n * in), dy = randn(n * out);
        var f = lin.forward(x, n, true);
        float[] dx = lin.backward(dy, f.saved(), true);
        double[] eY = new double[n * out];
        DoubleLayers.matmulForward(eY, d(x), d(lin.weight().data()), d(lin.bias().data()), n, in, out);
        close("linear y", f.out(), eY, REDUCTION);
        double[] eX = new double[n * in], eW = new double[out * in], eB = new double[out];
        DoubleLayers.matmulBackward(eX, eW, eB, d(dy), d(x), d(lin.weight().data()), n, in, out);
        close("linear dX", dx, eX, REDUCTION);
        close("linear dW", lin.weight().grad(), eW, REDUCTION);
        close("linear dB", lin.bias().grad(), eB, REDUCTION);

        int c = 9;
        LayerNorm ln = new LayerNorm(k, "LayerNorm", c, 1e-5);
        fill(ln.weight());
        fill(ln.bias());
        float[] xl = randn(n * c), dyl = randn(n * c);
        var g = ln.forward(xl, n, true);
        float[] dxl = ln.backward(dyl, g.saved(), true);
        double[] fY = new double[n * c], mean = new double[n], rstd = new double[n];
        DoubleLayers.layerNormForward(fY, mean, rstd, d(xl), d(ln.weight().data()), d(ln.bias().data()), n, c, 1e-5);
        close("layerNorm y", g.out(), fY, REDUCTION);
        double[] fX = new double[n * c], fW = new double[c], fB = new double[c];
        DoubleLayers.layerNormBackward(fX, fW, fB, d(dyl), d(xl), mean, rstd, d(ln.weight().data()), n, c);
        close("layerNorm dX", dxl, fX, REDUCTION);
        close("layerNorm dW", ln.weight().grad(), fW, REDUCTION);
        close("layerNorm dB", ln.bias().grad(), fB, REDUCTION);
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void selfAttentionWithProbabilityDropoutMatchesTheOracle(Kernels k) {
        int B = TinyClassifiers.B, T = TinyClassifiers.T, H = 4, C = 16, D = 4;
        for (boolean withDrop : new boolean[] {false, true}) {
            Dropout dropout = new Dropout(0.3, Dropout.site(0, Dropout.ATTENTION_PROBS));
            SelfAttention att = new SelfAttention(k, "encoder.layer.0.attention.self", C, H, dropout);
            for (Parameter p : att.parameters()) fill(p);
            DropoutContext ctx = withDrop ? DropoutContext.training(11, 5) : DropoutContext.OFF;
            float[] x = randn(B * T * C), dy = randn(B * T * C);
            Fwd<SelfAttention.Saved> f = att.forward(x, TinyClassifiers.MASK, B, T, true, ctx);
            float[] dx = att.backward(dy, f.saved(), true);
            // oracle: Q, K, V projections, attention with the same mask, then back
            Map<String, double[]> p = DoubleEncoder.params(att.parameters());
            String pr = "encoder.layer.0.attention.self.";
            int n = B * T;
            double[] q = new double[n * C], kk = new double[n * C], v = new double[n * C];
            DoubleLayers.matmulForward(q, d(x), p.get(pr + "query.weight"), p.get(pr + "query.bias"), n, C, C);
            DoubleLayers.matmulForward(kk, d(x), p.get(pr + "key.weight"), p.get(pr + "key.bias"), n, C, C);
            DoubleLayers.matmulForward(v, d(x), p.get(pr + "value.weight"), p.get(pr + "value.bias"), n, C, C);
            double[] probs = new double[B * H * T * T], ctxE = new double[n * C];
            double[] m = withDrop ? d(dropout.mask(ctx, probs.length).multipliers()) : null;
            DoubleLayers.attentionForward(ctxE, probs, q, kk, v, TinyClassifiers.MASK, m, B, T, H, D);
            String at = withDrop ? " (dropout)" : "";
            close("attention ctx" + at, f.out(), ctxE, REDUCTION);
            double[] dQ = new double[n * C], dK = new double[n * C], dV = new double[n * C], dX = new double[n * C];
            DoubleLayers.attentionBackward(dQ, dK, dV, d(dy), q, kk, v, probs, m, B, T, H, D);
            Map<String, double[]> g = new java.util.HashMap<>();
            for (String s : List.of("query", "key", "value")) {
                double[] dd = s.equals("query") ? dQ : s.equals("key") ? dK : dV;
                double[] gw = new double[C * C], gb = new double[C];
                DoubleLayers.matmulBackward(dX, gw, gb, dd, d(x), p.get(pr + s + ".weight"), n, C, C);
                g.put(pr + s + ".weight", gw);
                g.put(pr + s + ".bias", gb);
            }
            close("attention dX" + at, dx, dX, REDUCTION);
            for (Parameter par : att.parameters()) {
                if (par.name().endsWith("key.bias")) continue;     // exactly 0: noise only (see HfFixtureTrainingTest)
                close("attention d" + par.name() + at, par.grad(), g.get(par.name()), REDUCTION);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void encoderLayerWithAdaptersAndDropoutMatchesTheOracle(Kernels k) {
        for (boolean adapters : new boolean[] {false, true}) {
            for (boolean withDrop : new boolean[] {false, true}) {
                SequenceClassifier m = TinyClassifiers.model(false, k, 3, Pooling.FIRST_TOKEN, adapters, rand);
                EncoderLayer layer = m.encoder().layers().get(1);
                DropoutContext ctx = withDrop ? DropoutContext.training(3, 9) : DropoutContext.OFF;
                DoubleEncoder o = TinyClassifiers.oracle(m, ctx, DoubleLayers.Act.GELU).encoder();
                int B = TinyClassifiers.B, T = TinyClassifiers.T;
                float[] x = randn(B * T * 16), dy = randn(B * T * 16);
                var f = layer.forward(x, TinyClassifiers.MASK, B, T, true, ctx);
                float[] dx = layer.backward(dy, f.saved(), true);
                var tape = o.layer(1, d(x), TinyClassifiers.MASK, B, T);
                Map<String, double[]> g = o.zeroGrads();
                double[] eX = o.layerBackward(tape, d(dy), g);
                String at = " adapters=" + adapters + " dropout=" + withDrop;
                close("layer y" + at, f.out(), o.layerOutput(tape), LAYER);
                close("layer dX" + at, dx, eX, LAYER);
                for (Parameter p : layer.parameters()) {
                    if (p.name().endsWith("key.bias")) continue;
                    close("layer d" + p.name() + at, p.grad(), g.get(p.name()), LAYER);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void embeddingsWithDropoutAndThePadRuleMatchTheOracle(Kernels k) {
        for (boolean roberta : new boolean[] {false, true}) {
            SequenceClassifier m = TinyClassifiers.model(roberta, k, 1, Pooling.FIRST_TOKEN, false, rand);
            DropoutContext ctx = DropoutContext.training(5, 1);
            DoubleEncoder o = TinyClassifiers.oracle(m, ctx, DoubleLayers.Act.GELU).encoder();
            var b = TinyClassifiers.batch(roberta);
            int B = TinyClassifiers.B, T = TinyClassifiers.T;
            Encoder enc = m.encoder();
            var f = enc.embeddings().forward(b.ids(), b.types(), B, T, true, ctx);
            float[] dy = randn(B * T * 16);
            enc.embeddings().backward(dy, f.saved());
            var tape = o.embeddings(b.ids(), b.types(), B, T);
            Map<String, double[]> g = o.zeroGrads();
            o.embeddingsBackward(tape, d(dy), g);
            close("embeddings y roberta=" + roberta, f.out(), tape.y(), REDUCTION);
            for (Parameter p : enc.embeddings().parameters()) {
                close("embeddings d" + p.name() + " roberta=" + roberta, p.grad(), g.get(p.name()), REDUCTION);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void adapterMatchesTheOracle(Kernels k) {
        for (Adapter.Activation act : Adapter.Activation.values()) {
            for (double p : new double[] {0, 0.3}) {                      // without and with the bottleneck dropout
                int n = 6, c = 16, r = 5;
                long site = Dropout.site(0, Dropout.OUTPUT_ADAPTER);
                Adapter a = new Adapter(k, "encoder.layer.0.output.adapter", c,
                        new Adapter.Site(r, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, p), act, site);
                for (Parameter q : a.parameters()) fill(q);
                float[] x = randn(n * c), dy = randn(n * c);
                DropoutContext ctx = DropoutContext.training(3, 8);
                var f = a.forward(x, n, true, ctx);
                float[] dx = a.backward(dy, f.saved(), true);
                Dropout.Mask mk = new Dropout(p, site).mask(ctx, n * r);         // the adapter's bottleneck dropout site
                double[] bm = mk == null ? null : d(mk.multipliers());
                Map<String, double[]> w = DoubleEncoder.params(a.parameters()), g = new java.util.HashMap<>();
                for (var e : w.entrySet()) g.put(e.getKey(), new double[e.getValue().length]);
                String pr = "encoder.layer.0.output.adapter.";
                DoubleLayers.Act oact = DoubleLayers.Act.valueOf(act.name());
                double[] y = new double[n * c], z = new double[n * r], ad = new double[n * r], eX = new double[n * c];
                DoubleLayers.adapterForward(y, z, ad, d(x), w.get(pr + "down.weight"), w.get(pr + "down.bias"),
                        w.get(pr + "up.weight"), w.get(pr + "up.bias"), bm, oact, n, c, r);
                DoubleLayers.adapterBackward(eX, g.get(pr + "down.weight"), g.get(pr + "down.bias"), g.get(pr + "up.weight"),
                        g.get(pr + "up.bias"), d(dy), d(x), z, ad, w.get(pr + "down.weight"), w.get(pr + "up.weight"), bm, oact, n, c, r);
                String at = act + " p=" + p;
                close("adapter y " + at, f.out(), y, REDUCTION);
                close("adapter dX " + at, dx, eX, REDUCTION);
                for (Parameter q : a.parameters()) close("adapter d" + q.name() + " " + at, q.grad(), g.get(q.name()), REDUCTION);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void headsWithEveryPoolingAndDropoutMatchTheOracle(Kernels k) {
        for (boolean roberta : new boolean[] {false, true}) {
            for (Pooling mode : Pooling.values()) {
                SequenceClassifier m = TinyClassifiers.model(roberta, k, 1, mode, false, rand);
                DropoutContext ctx = DropoutContext.training(2, 4);
                DoubleClassifier o = TinyClassifiers.oracle(m, ctx, DoubleLayers.Act.GELU);
                var b = TinyClassifiers.batch(roberta);
                int B = TinyClassifiers.B, T = TinyClassifiers.T;
                float[] h = randn(B * T * 16), dl = randn(B * 3);
                var f = m.head().forward(h, b.mask(), b.special(), B, T, ctx, true);
                float[] dh = m.head().backward(dl, f.saved());
                var tape = o.head(d(h), b.mask(), b.special(), B, T);
                Map<String, double[]> g = o.zeroGrads();
                double[] eH = o.headBackward(tape, d(dl), g);
                String at = (roberta ? " roberta " : " bert ") + mode;
                close("head logits" + at, f.out(), tape.logits(), REDUCTION);
                close("head dH" + at, dh, eH, REDUCTION);
                for (Parameter p : m.head().parameters()) close("head d" + p.name() + at, p.grad(), g.get(p.name()), REDUCTION);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void lossesMatchTheOracle(Kernels unused) {
        int B = 4, K = 3;
        float[] logits = randn(B * K);
        logits[1] = 80f;                                                   // stable: no overflow at large logits
        int[] labels = {2, 0, 1, 1};
        var ce = CrossEntropyLoss.forward(logits, labels, B, K);
        AllClose.assertAllClose("cross-entropy", new double[] {ce.loss()},
                new double[] {DoubleClassifier.crossEntropy(d(logits), labels, B, K)}, REDUCTION);
        close("cross-entropy dLogits", CrossEntropyLoss.backward(0.5, ce),
                DoubleClassifier.crossEntropyBackward(d(logits), labels, B, K, 0.5), REDUCTION);
        float[] pred = randn(B), target = randn(B);
        var mse = MseLoss.forward(pred, target, B);
        AllClose.assertAllClose("mse", new double[] {mse.loss()}, new double[] {DoubleClassifier.mse(d(pred), d(target))}, REDUCTION);
        double[] eD = new double[B];
        for (int i = 0; i < B; i++) eD[i] = 2.0 * ((double) pred[i] - target[i]) / B;
        close("mse dPred", MseLoss.backward(1.0, mse), eD, REDUCTION);
    }

    private void fill(Parameter p) {
        float[] v = p.data();
        for (int i = 0; i < v.length; i++) v[i] = (float) (0.5 * rand.nextGaussian());
    }
}

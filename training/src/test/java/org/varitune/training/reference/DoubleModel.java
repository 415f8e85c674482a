package org.varitune.training.reference;

import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.tensor.Parameter;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.varitune.training.reference.DoubleLayers.add;
import static org.varitune.training.reference.DoubleLayers.dropout;
import static org.varitune.training.reference.DoubleLayers.layerNorm;
import static org.varitune.training.reference.DoubleLayers.layerNormBackward;
import static org.varitune.training.reference.DoubleLayers.linear;
import static org.varitune.training.reference.DoubleLayers.linearBackward;

/**
 * The whole classifier in double, composed from {@link DoubleLayers}: embeddings (with the pad-row rule), post-LN
 * encoder layers with optional Houlsby adapters, dropout with given masks, pooling, the BERT or RoBERTa head, and
 * cross-entropy. Parameters are a map from HF name (as our {@link Parameter}s are named) to double arrays; adapters
 * are present in a layer iff their parameters are in the map. Backward returns the gradient of every parameter
 * (frozen or not: freezing is the float model's business).
 */
public final class DoubleModel {
    /** Dropout multipliers (0 or 1/(1−p)) for a site ({@link Dropout#site}) and element count; null = no dropout. */
    public interface Masks {
        double[] get(long site, int n);

        Masks NONE = (site, n) -> null;
    }

    /**
     * @param roberta               RoBERTa positions (from padding_idx + 1) and the RoBERTa head; else BERT's
     * @param pooling               a {@code Pooling} name
     * @param adapterAct            the adapters' activation (when the map has adapters)
     * @param adaptersBeforeDropout prefixes (e.g. {@code encoder.layer.0.attention.output.adapter}) of the adapters
     *                              placed before their dense's dropout: {@code drop(adapter(dense))}; the others
     *                              compute {@code adapter(drop(dense))}
     */
    public record Config(boolean roberta, int hidden, int heads, int intermediate, double eps, int padTokenId,
                         int headLayer, String pooling, DoubleLayers.Act adapterAct, Set<String> adaptersBeforeDropout) {
        /** Every adapter after its dropout. */
        public Config(boolean roberta, int hidden, int heads, int intermediate, double eps, int padTokenId,
                      int headLayer, String pooling, DoubleLayers.Act adapterAct) {
            this(roberta, hidden, heads, intermediate, eps, padTokenId, headLayer, pooling, adapterAct, Set.of());
        }
    }

    private final Config cfg;
    private final Map<String, double[]> p;
    private final Masks masks;
    private final int C, H, D, I;

    public DoubleModel(Config cfg, Map<String, double[]> params, Masks masks) {
        this.cfg = cfg;
        this.p = params;
        this.masks = masks;
        this.C = cfg.hidden();
        this.H = cfg.heads();
        this.D = C / H;
        this.I = cfg.intermediate();
    }

    /** Copies float parameters into a map of doubles by name. */
    public static Map<String, double[]> params(Collection<Parameter> ps) {
        Map<String, double[]> m = new LinkedHashMap<>();
        for (Parameter q : ps) {
            double[] d = new double[q.numel()];
            for (int i = 0; i < d.length; i++) d[i] = q.data()[i];
            m.put(q.name(), d);
        }
        return m;
    }

    public Map<String, double[]> parameters() { return p; }

    public Config config() { return cfg; }

    private double[] w(String name) {
        double[] a = p.get(name);
        if (a == null) throw new IllegalArgumentException("oracle has no parameter " + name);
        return a;
    }

    private double[] mask(int layer, int slot, int n) { return masks.get(Dropout.site(layer, slot), n); }

    /** A zero gradient for every parameter. */
    public Map<String, double[]> zeroGrads() {
        Map<String, double[]> g = new LinkedHashMap<>();
        for (var e : p.entrySet()) g.put(e.getKey(), new double[e.getValue().length]);
        return g;
    }

    // ---------------------------------------------------------------- embeddings

    /** Embeddings intermediates. */
    public record EmbTape(int[] ids, int[] pos, int[] types, double[] sum, double[] y, int n) {}

    public int[] positions(int[] ids, int B, int T) {
        int[] pos = new int[B * T];
        for (int b = 0; b < B; b++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                int i = b * T + t;
                if (!cfg.roberta()) { pos[i] = t; continue; }
                if (ids[i] != cfg.padTokenId()) { count++; pos[i] = count + cfg.padTokenId(); }
                else pos[i] = cfg.padTokenId();
            }
        }
        return pos;
    }

    /** y = dropout(LN(word[id] + position[p] + tokenType[tt])). types may be null (all 0). */
    public EmbTape embeddings(int[] ids, int[] types, int B, int T) {
        int n = B * T;
        int[] pos = positions(ids, B, T), ty = types == null ? new int[n] : types;
        double[] word = w("embeddings.word_embeddings.weight"), ps = w("embeddings.position_embeddings.weight"),
                tt = w("embeddings.token_type_embeddings.weight");
        double[] sum = new double[n * C];
        for (int i = 0; i < n; i++) for (int c = 0; c < C; c++) {
            sum[i * C + c] = word[ids[i] * C + c] + ps[pos[i] * C + c] + tt[ty[i] * C + c];
        }
        double[] y = layerNorm(sum, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), n, C, cfg.eps());
        y = dropout(y, mask(Dropout.EMBEDDINGS_LAYER, Dropout.EMBEDDINGS, n * C));
        return new EmbTape(ids, pos, ty, sum, y, n);
    }

    /** Scatter-adds into the tables, skipping the pad id's word row and (RoBERTa) the padding_idx position row. */
    public void embeddingsBackward(EmbTape e, double[] dY, Map<String, double[]> g) {
        int n = e.n();
        double[] dNorm = dropout(dY, mask(Dropout.EMBEDDINGS_LAYER, Dropout.EMBEDDINGS, n * C));
        double[] dSum = new double[n * C];
        layerNormBackward(dNorm, e.sum(), w("embeddings.LayerNorm.weight"), n, C, cfg.eps(), dSum,
                g.get("embeddings.LayerNorm.weight"), g.get("embeddings.LayerNorm.bias"));
        double[] dw = g.get("embeddings.word_embeddings.weight"), dp = g.get("embeddings.position_embeddings.weight"),
                dt = g.get("embeddings.token_type_embeddings.weight");
        for (int i = 0; i < n; i++) for (int c = 0; c < C; c++) {
            if (e.ids()[i] != cfg.padTokenId()) dw[e.ids()[i] * C + c] += dSum[i * C + c];
            if (!(cfg.roberta() && e.pos()[i] == cfg.padTokenId())) dp[e.pos()[i] * C + c] += dSum[i * C + c];
            dt[e.types()[i] * C + c] += dSum[i * C + c];
        }
    }

    // ---------------------------------------------------------------- adapter

    /** Adapter intermediates: input x, pre-activation z, dropped activation a, the bottleneck mask m (or null). */
    public record AdapterTape(double[] x, double[] z, double[] a, double[] m, int n) {}

    /**
     * y = x + up(drop(act(down(x)))); prefix e.g. {@code encoder.layer.0.output.adapter}; the bottleneck mask is
     * the one of site {@code (layer, slot)}.
     */
    public double[] adapter(String prefix, double[] x, int n, int layer, int slot, AdapterTape[] tape) {
        int R = w(prefix + ".down.bias").length;
        double[] z = linear(x, w(prefix + ".down.weight"), w(prefix + ".down.bias"), n, C, R);
        double[] m = mask(layer, slot, n * R);
        double[] a = dropout(cfg.adapterAct().apply(z), m);
        double[] u = linear(a, w(prefix + ".up.weight"), w(prefix + ".up.bias"), n, R, C);
        tape[0] = new AdapterTape(x, z, a, m, n);
        return add(x, u);
    }

    /** Returns dX of the adapter and accumulates its four gradients. */
    public double[] adapterBackward(String prefix, AdapterTape t, double[] dY, Map<String, double[]> g) {
        int n = t.n(), R = w(prefix + ".down.bias").length;
        double[] dA = new double[n * R];
        linearBackward(dY, t.a(), w(prefix + ".up.weight"), n, R, C, dA, g.get(prefix + ".up.weight"), g.get(prefix + ".up.bias"));
        dA = dropout(dA, t.m());
        double[] dZ = new double[n * R];
        cfg.adapterAct().backward(dA, t.z(), dZ);
        double[] dX = dY.clone();
        linearBackward(dZ, t.x(), w(prefix + ".down.weight"), n, C, R, dX, g.get(prefix + ".down.weight"),
                g.get(prefix + ".down.bias"));
        return dX;
    }

    /**
     * A dense output d (N, C) through its dropout (site slot {@code dropSlot}) and the adapter {@code prefix} when the
     * map has one: {@code adapter(drop(d))}, or {@code drop(adapter(d))} for a prefix in
     * {@link Config#adaptersBeforeDropout}.
     */
    private double[] dropoutAndAdapter(String prefix, double[] d, int layer, int dropSlot, int adapterSlot, AdapterTape[] tape) {
        int n = d.length / C;
        double[] m = mask(layer, dropSlot, n * C);
        if (!p.containsKey(prefix + ".down.weight")) return dropout(d, m);
        if (cfg.adaptersBeforeDropout().contains(prefix)) return dropout(adapter(prefix, d, n, layer, adapterSlot, tape), m);
        return adapter(prefix, dropout(d, m), n, layer, adapterSlot, tape);
    }

    /** The backward of {@link #dropoutAndAdapter}: d(dense output) from d(its result). */
    private double[] dropoutAndAdapterBackward(String prefix, AdapterTape t, double[] dY, int layer, int dropSlot,
                                               Map<String, double[]> g) {
        double[] m = mask(layer, dropSlot, dY.length);
        if (t == null) return dropout(dY, m);
        if (cfg.adaptersBeforeDropout().contains(prefix)) return adapterBackward(prefix, t, dropout(dY, m), g);
        return dropout(adapterBackward(prefix, t, dY, g), m);
    }

    // ---------------------------------------------------------------- encoder layer

    /** Encoder-layer intermediates. */
    public record LayerTape(int index, double[] x, int[] mask, double[] q, double[] k, double[] v, double[] att,
                            double[] attDrop, double[] ctx, AdapterTape ad1, double[] sum1, double[] h1, double[] pre,
                            double[] g, AdapterTape ad2, double[] sum2, int b, int t) {}

    /** Layer {@code index} (0-based) on x: (B, T, C); adapters when the map has them. */
    public LayerTape layer(int index, double[] x, int[] mask, int B, int T) {
        String pr = "encoder.layer." + index + ".";
        int n = B * T;
        double[] q = linear(x, w(pr + "attention.self.query.weight"), w(pr + "attention.self.query.bias"), n, C, C);
        double[] k = linear(x, w(pr + "attention.self.key.weight"), w(pr + "attention.self.key.bias"), n, C, C);
        double[] v = linear(x, w(pr + "attention.self.value.weight"), w(pr + "attention.self.value.bias"), n, C, C);
        double[] att = DoubleLayers.attentionProbs(q, k, mask, B, T, H, D);
        double[] attDrop = mask(index, Dropout.ATTENTION_PROBS, att.length);
        double[] ctx = DoubleLayers.attentionValues(att, attDrop, v, B, T, H, D);
        double[] a = linear(ctx, w(pr + "attention.output.dense.weight"), w(pr + "attention.output.dense.bias"), n, C, C);
        AdapterTape[] t1 = new AdapterTape[1], t2 = new AdapterTape[1];
        a = dropoutAndAdapter(pr + "attention.output.adapter", a, index, Dropout.ATTENTION_OUTPUT, Dropout.ATTENTION_ADAPTER, t1);
        double[] sum1 = add(a, x);
        double[] h1 = layerNorm(sum1, w(pr + "attention.output.LayerNorm.weight"), w(pr + "attention.output.LayerNorm.bias"),
                n, C, cfg.eps());
        double[] pre = linear(h1, w(pr + "intermediate.dense.weight"), w(pr + "intermediate.dense.bias"), n, C, I);
        double[] g = DoubleLayers.Act.GELU.apply(pre);
        double[] o = linear(g, w(pr + "output.dense.weight"), w(pr + "output.dense.bias"), n, I, C);
        o = dropoutAndAdapter(pr + "output.adapter", o, index, Dropout.OUTPUT, Dropout.OUTPUT_ADAPTER, t2);
        double[] sum2 = add(o, h1);
        return new LayerTape(index, x, mask, q, k, v, att, attDrop, ctx, t1[0], sum1, h1, pre, g, t2[0], sum2, B, T);
    }

    /** The layer's output y = output.LayerNorm(sum2). */
    public double[] layerOutput(LayerTape t) {
        String pr = "encoder.layer." + t.index() + ".";
        return layerNorm(t.sum2(), w(pr + "output.LayerNorm.weight"), w(pr + "output.LayerNorm.bias"), t.b() * t.t(), C,
                cfg.eps());
    }

    /** Accumulates the layer's gradients; returns dX (B, T, C). */
    public double[] layerBackward(LayerTape t, double[] dY, Map<String, double[]> gr) {
        String pr = "encoder.layer." + t.index() + ".";
        int n = t.b() * t.t(), B = t.b(), T = t.t();
        double[] dSum2 = new double[n * C];
        layerNormBackward(dY, t.sum2(), w(pr + "output.LayerNorm.weight"), n, C, cfg.eps(), dSum2,
                gr.get(pr + "output.LayerNorm.weight"), gr.get(pr + "output.LayerNorm.bias"));
        double[] dO = dropoutAndAdapterBackward(pr + "output.adapter", t.ad2(), dSum2, t.index(), Dropout.OUTPUT, gr);
        double[] dG = new double[n * I];
        linearBackward(dO, t.g(), w(pr + "output.dense.weight"), n, I, C, dG, gr.get(pr + "output.dense.weight"),
                gr.get(pr + "output.dense.bias"));
        double[] dPre = new double[n * I];
        DoubleLayers.Act.GELU.backward(dG, t.pre(), dPre);
        double[] dH1 = dSum2.clone();
        linearBackward(dPre, t.h1(), w(pr + "intermediate.dense.weight"), n, C, I, dH1,
                gr.get(pr + "intermediate.dense.weight"), gr.get(pr + "intermediate.dense.bias"));
        double[] dSum1 = new double[n * C];
        layerNormBackward(dH1, t.sum1(), w(pr + "attention.output.LayerNorm.weight"), n, C, cfg.eps(), dSum1,
                gr.get(pr + "attention.output.LayerNorm.weight"), gr.get(pr + "attention.output.LayerNorm.bias"));
        double[] dA = dropoutAndAdapterBackward(pr + "attention.output.adapter", t.ad1(), dSum1, t.index(),
                Dropout.ATTENTION_OUTPUT, gr);
        double[] dCtx = new double[n * C];
        linearBackward(dA, t.ctx(), w(pr + "attention.output.dense.weight"), n, C, C, dCtx,
                gr.get(pr + "attention.output.dense.weight"), gr.get(pr + "attention.output.dense.bias"));
        double[] dQ = new double[n * C], dK = new double[n * C], dV = new double[n * C];
        DoubleLayers.attentionBackward(dCtx, t.q(), t.k(), t.v(), t.att(), t.attDrop(), B, T, H, D, dQ, dK, dV);
        double[] dX = dSum1.clone();
        for (String s : new String[] {"query", "key", "value"}) {
            double[] d = s.equals("query") ? dQ : s.equals("key") ? dK : dV;
            linearBackward(d, t.x(), w(pr + "attention.self." + s + ".weight"), n, C, C, dX,
                    gr.get(pr + "attention.self." + s + ".weight"), gr.get(pr + "attention.self." + s + ".bias"));
        }
        return dX;
    }

    // ---------------------------------------------------------------- head

    /** Head intermediates. */
    public record HeadTape(double[] poolW, double[] pooledIn, double[] x1, double[] a, double[] a2, double[] logits,
                           int b, int t) {}

    /** Pooling then the BERT (pooler + classifier) or RoBERTa (classifier.dense + out_proj) head. */
    public HeadTape head(double[] h, int[] mask, int[] special, int B, int T) {
        double[] wts = DoubleLayers.poolWeights(cfg.pooling(), mask, special, B, T);
        double[] pooled = DoubleLayers.pool(h, wts, B, T, C);
        String d1 = cfg.roberta() ? "classifier.dense" : "pooler.dense", d2 = cfg.roberta() ? "classifier.out_proj" : "classifier";
        double[] x1 = cfg.roberta() ? dropout(pooled, mask(Dropout.HEAD_LAYER, Dropout.HEAD_FIRST, B * C)) : pooled;
        double[] a = DoubleLayers.Act.TANH.apply(linear(x1, w(d1 + ".weight"), w(d1 + ".bias"), B, C, C));
        double[] a2 = dropout(a, mask(Dropout.HEAD_LAYER, Dropout.HEAD_SECOND, B * C));
        int K = w(d2 + ".bias").length;
        return new HeadTape(wts, pooled, x1, a, a2, linear(a2, w(d2 + ".weight"), w(d2 + ".bias"), B, C, K), B, T);
    }

    /** Accumulates the head's gradients; returns dH (B, T, C). */
    public double[] headBackward(HeadTape t, double[] dLogits, Map<String, double[]> g) {
        int B = t.b(), T = t.t();
        String d1 = cfg.roberta() ? "classifier.dense" : "pooler.dense", d2 = cfg.roberta() ? "classifier.out_proj" : "classifier";
        int K = w(d2 + ".bias").length;
        double[] dA2 = new double[B * C];
        linearBackward(dLogits, t.a2(), w(d2 + ".weight"), B, C, K, dA2, g.get(d2 + ".weight"), g.get(d2 + ".bias"));
        double[] dA = dropout(dA2, mask(Dropout.HEAD_LAYER, Dropout.HEAD_SECOND, B * C));
        double[] dPre = new double[B * C];
        for (int i = 0; i < dPre.length; i++) dPre[i] = dA[i] * (1 - t.a()[i] * t.a()[i]);
        double[] dX1 = new double[B * C];
        linearBackward(dPre, t.x1(), w(d1 + ".weight"), B, C, C, dX1, g.get(d1 + ".weight"), g.get(d1 + ".bias"));
        double[] dPooled = cfg.roberta() ? dropout(dX1, mask(Dropout.HEAD_LAYER, Dropout.HEAD_FIRST, B * C)) : dX1;
        double[] dH = new double[B * T * C];
        DoubleLayers.poolBackward(dPooled, t.poolW(), B, T, C, dH);
        return dH;
    }

    // ---------------------------------------------------------------- whole model

    /** Whole-model intermediates. */
    public record Tape(EmbTape emb, LayerTape[] layers, double[] last, HeadTape head) {
        public double[] logits() { return head.logits(); }
    }

    public Tape forward(int[] ids, int[] types, int[] mask, int[] special, int B, int T) {
        EmbTape e = embeddings(ids, types, B, T);
        LayerTape[] ls = new LayerTape[cfg.headLayer()];
        double[] h = e.y();
        for (int l = 0; l < cfg.headLayer(); l++) {
            ls[l] = layer(l, h, mask, B, T);
            h = layerOutput(ls[l]);
        }
        return new Tape(e, ls, h, head(h, mask, special, B, T));
    }

    /** Gradients of every parameter, from dLogits (B, K). */
    public Map<String, double[]> backward(Tape t, double[] dLogits) {
        Map<String, double[]> g = zeroGrads();
        double[] d = headBackward(t.head(), dLogits, g);
        for (int l = t.layers().length - 1; l >= 0; l--) d = layerBackward(t.layers()[l], d, g);
        embeddingsBackward(t.emb(), d, g);
        return g;
    }

    /** Mean cross-entropy of the model on a batch. */
    public double loss(int[] ids, int[] types, int[] mask, int[] special, int[] labels, int B, int T) {
        Tape t = forward(ids, types, mask, special, B, T);
        return DoubleLayers.crossEntropy(t.logits(), labels, B, t.logits().length / B);
    }

}

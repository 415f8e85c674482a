package org.varitune.transformer.reference;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.varitune.transformer.reference.DoubleLayers.Act;
import static org.varitune.transformer.reference.DoubleLayers.adapterForward;
import static org.varitune.transformer.reference.DoubleLayers.attentionBackward;
import static org.varitune.transformer.reference.DoubleLayers.attentionForward;
import static org.varitune.transformer.reference.DoubleLayers.dropoutBackward;
import static org.varitune.transformer.reference.DoubleLayers.dropoutForward;
import static org.varitune.transformer.reference.DoubleLayers.embeddingsForward;
import static org.varitune.transformer.reference.DoubleLayers.layerNormBackward;
import static org.varitune.transformer.reference.DoubleLayers.layerNormForward;
import static org.varitune.transformer.reference.DoubleLayers.matmulBackward;
import static org.varitune.transformer.reference.DoubleLayers.matmulForward;
import static org.varitune.transformer.reference.DoubleLayers.residualBackward;
import static org.varitune.transformer.reference.DoubleLayers.residualForward;

/**
 * The double-precision oracle of a post-LN encoder (HF {@code BertModel}, {@code RobertaModel},
 * {@code DistilBertModel}), forward and backward, composed from {@link DoubleLayers}:
 * <pre>
 *   h₀ = drop(LN(word[id] + position[p] + type[tt]))        (DistilBERT: no type term)
 *   a  = LN(x + adapter₁(drop?(Wo·attention(Wq·x, Wk·x, Wv·x) + bo)))   (DistilBERT: no dropout after out_lin)
 *   y  = LN(a + adapter₂(drop(W2·gelu(W1·a + b1) + b2)))
 * </pre>
 * positions per {@link DoubleLayers#positionIds}, exact erf GELU, optional Houlsby adapters (present in a layer iff
 * their parameters are in the map; {@code adapter(drop(d))}, or {@code drop(adapter(d))} for a prefix in
 * {@code adaptersBeforeDropout}), dropout with given masks. Parameters are a map from HF name without the
 * {@code bert.}/{@code roberta.}/{@code distilbert.} prefix (as our {@link Parameter}s are named) to double arrays;
 * it may hold more (a head) than the encoder reads. Backwards return or accumulate the gradient of every parameter
 * (frozen or not: freezing is the float model's business).
 */
public final class DoubleEncoder {
    /** Dropout multipliers (0 or 1/(1−p)) for a site ({@link Dropout#site}) and element count; null = no dropout. */
    public interface Masks {
        double[] get(long site, int n);

        Masks NONE = (site, n) -> null;
    }

    private final EncoderConfig cfg;
    private final Map<String, double[]> p;
    private final Masks masks;
    private final Act adapterAct;
    private final Set<String> adaptersBeforeDropout;
    private final int C, H, D, I;

    /** Eval mode (no dropout), no adapters, every layer of {@code cfg}. */
    public DoubleEncoder(EncoderConfig cfg, Map<String, double[]> params) {
        this(cfg, cfg.numHiddenLayers(), params, Masks.NONE, Act.GELU, Set.of());
    }

    /**
     * @param layers                how many layers the map must hold (a classifier may read fewer than the config's)
     * @param adapterAct            the adapters' activation (when the map has adapters)
     * @param adaptersBeforeDropout prefixes (e.g. {@code encoder.layer.0.attention.output.adapter}) of the adapters
     *                              placed before their dense's dropout
     */
    public DoubleEncoder(EncoderConfig cfg, int layers, Map<String, double[]> params, Masks masks, Act adapterAct,
                         Set<String> adaptersBeforeDropout) {
        this.cfg = cfg;
        this.p = params;
        this.masks = masks;
        this.adapterAct = adapterAct;
        this.adaptersBeforeDropout = adaptersBeforeDropout;
        this.C = cfg.hiddenSize();
        this.H = cfg.numAttentionHeads();
        this.D = C / H;
        this.I = cfg.intermediateSize();
        need("embeddings.word_embeddings.weight", (long) cfg.vocabSize() * C);
        need("embeddings.position_embeddings.weight", (long) cfg.maxPositionEmbeddings() * C);
        if (tokenTypes()) need("embeddings.token_type_embeddings.weight", (long) cfg.typeVocabSize() * C);
        need("embeddings.LayerNorm.weight", C);
        need("embeddings.LayerNorm.bias", C);
        for (int l = 0; l < layers; l++) {
            Names n = names(l);
            for (String lin : List.of(n.query(), n.key(), n.value(), n.attentionOutput())) {
                need(lin + ".weight", (long) C * C);
                need(lin + ".bias", C);
            }
            need(n.intermediate() + ".weight", (long) I * C);
            need(n.intermediate() + ".bias", I);
            need(n.output() + ".weight", (long) C * I);
            need(n.output() + ".bias", C);
            for (String ln : List.of(n.attentionNorm(), n.outputNorm())) {
                need(ln + ".weight", C);
                need(ln + ".bias", C);
            }
        }
    }

    /** Reads every float tensor of a checkpoint (buffers skipped) as double, stripping the family's prefix. */
    public static DoubleEncoder load(EncoderConfig cfg, WeightSource src) throws IOException {
        Map<String, double[]> m = new LinkedHashMap<>();
        String prefix = cfg.modelType() + ".";
        for (String name : src.names()) {
            if (name.endsWith("position_ids") || name.endsWith("token_type_ids")) continue;
            float[] f = src.readFloat(name);
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) d[i] = f[i];
            m.put(name.startsWith(prefix) ? name.substring(prefix.length()) : name, d);
        }
        return new DoubleEncoder(cfg, m);
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

    private void need(String name, long n) {
        double[] a = p.get(name);
        if (a == null) throw new IllegalArgumentException("DoubleEncoder (" + cfg.modelType() + "): weight " + name + " missing");
        if (a.length != n) {
            throw new IllegalArgumentException("DoubleEncoder: weight " + name + " has " + a.length + " values, expected " + n);
        }
    }

    public Map<String, double[]> parameters() { return p; }

    public EncoderConfig config() { return cfg; }

    public Set<String> adaptersBeforeDropout() { return adaptersBeforeDropout; }

    /** The parameter {@code name}; throws naming it when the map has none. */
    public double[] w(String name) {
        double[] a = p.get(name);
        if (a == null) throw new IllegalArgumentException("oracle has no parameter " + name);
        return a;
    }

    /** The dropout multipliers of site {@code (layer, slot)} for n elements, or null. */
    public double[] mask(int layer, int slot, int n) { return masks.get(Dropout.site(layer, slot), n); }

    /** A zero gradient for every parameter of the map. */
    public Map<String, double[]> zeroGrads() {
        Map<String, double[]> g = new LinkedHashMap<>();
        for (var e : p.entrySet()) g.put(e.getKey(), new double[e.getValue().length]);
        return g;
    }

    private boolean tokenTypes() { return !cfg.modelType().equals("distilbert"); }

    /** HF's tensor names of layer i per family (written out here, independently of the main code's wiring). */
    record Names(String query, String key, String value, String attentionOutput, String attentionNorm,
                 String intermediate, String output, String outputNorm, boolean attentionOutputDropout,
                 String attentionAdapter, String outputAdapter) {}

    Names names(int i) {
        if (cfg.modelType().equals("distilbert")) {
            String d = "transformer.layer." + i + ".";
            return new Names(d + "attention.q_lin", d + "attention.k_lin", d + "attention.v_lin", d + "attention.out_lin",
                    d + "sa_layer_norm", d + "ffn.lin1", d + "ffn.lin2", d + "output_layer_norm", false,
                    d + "attention.adapter", d + "ffn.adapter");
        }
        String b = "encoder.layer." + i + ".";
        return new Names(b + "attention.self.query", b + "attention.self.key", b + "attention.self.value",
                b + "attention.output.dense", b + "attention.output.LayerNorm", b + "intermediate.dense",
                b + "output.dense", b + "output.LayerNorm", true, b + "attention.output.adapter", b + "output.adapter");
    }

    // ---------------------------------------------------------------- embeddings

    /** Embeddings intermediates: sum (N, C) before the LayerNorm, its mean and rstd (N), the output y (N, C). */
    public record EmbTape(int[] ids, int[] pos, int[] types, double[] sum, double[] mean, double[] rstd, double[] y, int n) {}

    /** Position ids of the family: (B, T). */
    public int[] positionIds(int[] ids, int B, int T) {
        return DoubleLayers.positionIds(cfg.modelType(), ids, cfg.padTokenId(), B, T);
    }

    /** {@code y = drop(LN(word[id] + position[p] + type[tt]))}; types null = all 0, ignored by DistilBERT. */
    public EmbTape embeddings(int[] ids, int[] types, int B, int T) {
        int n = B * T;
        if (ids.length != n || (types != null && types.length != n)) {
            throw new IllegalArgumentException("DoubleEncoder: inputs must be (B, T) = (" + B + ", " + T + ")");
        }
        int[] pos = positionIds(ids, B, T), ty = tokenTypes() ? types : null;
        double[] sum = new double[n * C], mean = new double[n], rstd = new double[n], y = new double[n * C];
        embeddingsForward(sum, ids, pos, ty, w("embeddings.word_embeddings.weight"), w("embeddings.position_embeddings.weight"),
                tokenTypes() ? w("embeddings.token_type_embeddings.weight") : null, n, C);
        layerNormForward(y, mean, rstd, sum, w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"), n, C, cfg.layerNormEps());
        dropoutForward(y, y, mask(Dropout.EMBEDDINGS_LAYER, Dropout.EMBEDDINGS, n * C), n * C);
        return new EmbTape(ids, pos, ty, sum, mean, rstd, y, n);
    }

    /** Accumulates the embeddings' gradients, HF's padding_idx rows excluded (see {@link DoubleLayers#embeddingsBackward}). */
    public void embeddingsBackward(EmbTape e, double[] dY, Map<String, double[]> g) {
        int n = e.n();
        // forward was: y = drop(LN(sum))
        double[] dNorm = new double[n * C], dSum = new double[n * C];
        dropoutBackward(dNorm, dY, mask(Dropout.EMBEDDINGS_LAYER, Dropout.EMBEDDINGS, n * C), n * C);
        layerNormBackward(dSum, g.get("embeddings.LayerNorm.weight"), g.get("embeddings.LayerNorm.bias"), dNorm, e.sum(),
                e.mean(), e.rstd(), w("embeddings.LayerNorm.weight"), n, C);
        // forward was: sum = word[id] + position[p] + type[tt]
        DoubleLayers.embeddingsBackward(g.get("embeddings.word_embeddings.weight"), g.get("embeddings.position_embeddings.weight"),
                tokenTypes() ? g.get("embeddings.token_type_embeddings.weight") : null, dSum, e.ids(), e.pos(), e.types(),
                cfg.padTokenId(), cfg.modelType().equals("roberta") ? cfg.padTokenId() : -1, n, C);
    }

    // ---------------------------------------------------------------- adapter

    /** Adapter intermediates: input x (N, C), pre-activation z (N, R), dropped activation a (N, R), mask m or null. */
    public record AdapterTape(double[] x, double[] z, double[] a, double[] m, int n) {}

    /** {@code y = x + up(drop(act(down(x))))}, the bottleneck mask that of site {@code (layer, slot)}. */
    public double[] adapter(String prefix, double[] x, int n, int layer, int slot, AdapterTape[] tape) {
        int R = w(prefix + ".down.bias").length;
        double[] z = new double[n * R], a = new double[n * R], y = new double[n * C];
        double[] m = mask(layer, slot, n * R);
        adapterForward(y, z, a, x, w(prefix + ".down.weight"), w(prefix + ".down.bias"), w(prefix + ".up.weight"),
                w(prefix + ".up.bias"), m, adapterAct, n, C, R);
        tape[0] = new AdapterTape(x, z, a, m, n);
        return y;
    }

    /** Returns dX of the adapter and accumulates its four gradients. */
    public double[] adapterBackward(String prefix, AdapterTape t, double[] dY, Map<String, double[]> g) {
        int n = t.n(), R = w(prefix + ".down.bias").length;
        double[] dX = new double[n * C];
        DoubleLayers.adapterBackward(dX, g.get(prefix + ".down.weight"), g.get(prefix + ".down.bias"),
                g.get(prefix + ".up.weight"), g.get(prefix + ".up.bias"), dY, t.x(), t.z(), t.a(),
                w(prefix + ".down.weight"), w(prefix + ".up.weight"), t.m(), adapterAct, n, C, R);
        return dX;
    }

    /** A dense output d (N, C) through its dropout (when {@code dropSlot} ≥ 0) and the adapter {@code prefix} when present. */
    private double[] dropoutAndAdapter(String prefix, double[] d, int layer, int dropSlot, int adapterSlot, AdapterTape[] tape) {
        int n = d.length / C;
        double[] m = dropSlot < 0 ? null : mask(layer, dropSlot, n * C), y = new double[n * C];
        if (!p.containsKey(prefix + ".down.weight")) {
            dropoutForward(y, d, m, n * C);
            return y;
        }
        if (adaptersBeforeDropout.contains(prefix)) {
            dropoutForward(y, adapter(prefix, d, n, layer, adapterSlot, tape), m, n * C);
            return y;
        }
        dropoutForward(y, d, m, n * C);
        return adapter(prefix, y, n, layer, adapterSlot, tape);
    }

    /** The backward of {@link #dropoutAndAdapter}: d(dense output) from d(its result). */
    private double[] dropoutAndAdapterBackward(String prefix, AdapterTape t, double[] dY, int layer, int dropSlot,
                                               Map<String, double[]> g) {
        int n = dY.length;
        double[] m = dropSlot < 0 ? null : mask(layer, dropSlot, n), dD = new double[n];
        if (t == null) {
            dropoutBackward(dD, dY, m, n);
        } else if (adaptersBeforeDropout.contains(prefix)) {
            // forward was: y = drop(adapter(d))
            double[] dA = new double[n];
            dropoutBackward(dA, dY, m, n);
            return adapterBackward(prefix, t, dA, g);
        } else {
            // forward was: y = adapter(drop(d))
            dropoutBackward(dD, adapterBackward(prefix, t, dY, g), m, n);
        }
        return dD;
    }

    // ---------------------------------------------------------------- encoder layer

    /** Encoder-layer intermediates; every buffer (B·T, ·) as named in {@link #layer}. */
    public record LayerTape(int index, double[] x, int[] mask, double[] q, double[] k, double[] v, double[] att,
                            double[] attDrop, double[] ctx, AdapterTape ad1, double[] sum1, double[] mean1,
                            double[] rstd1, double[] h1, double[] pre, double[] g, AdapterTape ad2, double[] sum2,
                            double[] mean2, double[] rstd2, double[] y, int b, int t) {}

    /** Layer {@code index} (0-based) on x: (B, T, C); its output is {@link #layerOutput}. */
    public LayerTape layer(int index, double[] x, int[] mask, int B, int T) {
        Names nm = names(index);
        int n = B * T;
        if (x.length != n * C || mask.length != n) {
            throw new IllegalArgumentException("layer " + index + ": x, mask must be (B, T, C), (B, T)");
        }
        double[] q = new double[n * C], k = new double[n * C], v = new double[n * C];         // q, k, v: (B, T, H·D)
        matmulForward(q, x, w(nm.query() + ".weight"), w(nm.query() + ".bias"), n, C, C);
        matmulForward(k, x, w(nm.key() + ".weight"), w(nm.key() + ".bias"), n, C, C);
        matmulForward(v, x, w(nm.value() + ".weight"), w(nm.value() + ".bias"), n, C, C);
        double[] att = new double[B * H * T * T], ctx = new double[n * C];                   // att: (B, H, T, T)
        double[] attDrop = mask(index, Dropout.ATTENTION_PROBS, att.length);
        attentionForward(ctx, att, q, k, v, mask, attDrop, B, T, H, D);
        double[] a = new double[n * C];                                                      // a: (B, T, C)
        matmulForward(a, ctx, w(nm.attentionOutput() + ".weight"), w(nm.attentionOutput() + ".bias"), n, C, C);
        AdapterTape[] t1 = new AdapterTape[1], t2 = new AdapterTape[1];
        a = dropoutAndAdapter(nm.attentionAdapter(), a, index, nm.attentionOutputDropout() ? Dropout.ATTENTION_OUTPUT : -1,
                Dropout.ATTENTION_ADAPTER, t1);
        double[] sum1 = new double[n * C], h1 = new double[n * C], mean1 = new double[n], rstd1 = new double[n];
        residualForward(sum1, a, x, n * C);
        layerNormForward(h1, mean1, rstd1, sum1, w(nm.attentionNorm() + ".weight"), w(nm.attentionNorm() + ".bias"), n, C,
                cfg.layerNormEps());
        double[] pre = new double[n * I], g = new double[n * I], o = new double[n * C];      // pre, g: (B, T, I)
        matmulForward(pre, h1, w(nm.intermediate() + ".weight"), w(nm.intermediate() + ".bias"), n, C, I);
        Act.GELU.forward(g, pre, n * I);
        matmulForward(o, g, w(nm.output() + ".weight"), w(nm.output() + ".bias"), n, I, C);
        o = dropoutAndAdapter(nm.outputAdapter(), o, index, Dropout.OUTPUT, Dropout.OUTPUT_ADAPTER, t2);
        double[] sum2 = new double[n * C], y = new double[n * C], mean2 = new double[n], rstd2 = new double[n];
        residualForward(sum2, o, h1, n * C);
        layerNormForward(y, mean2, rstd2, sum2, w(nm.outputNorm() + ".weight"), w(nm.outputNorm() + ".bias"), n, C,
                cfg.layerNormEps());
        return new LayerTape(index, x, mask, q, k, v, att, attDrop, ctx, t1[0], sum1, mean1, rstd1, h1, pre, g, t2[0],
                sum2, mean2, rstd2, y, B, T);
    }

    /** The layer's output {@code y = outputNorm(sum2)}: (B, T, C). */
    public double[] layerOutput(LayerTape t) { return t.y(); }

    /** Accumulates the layer's gradients from dY = d(layerOutput); returns dX (B, T, C). */
    public double[] layerBackward(LayerTape t, double[] dY, Map<String, double[]> gr) {
        Names nm = names(t.index());
        int n = t.b() * t.t(), B = t.b(), T = t.t();
        // forward was: y = LN(sum2)
        double[] dSum2 = new double[n * C];
        layerNormBackward(dSum2, gr.get(nm.outputNorm() + ".weight"), gr.get(nm.outputNorm() + ".bias"), dY, t.sum2(),
                t.mean2(), t.rstd2(), w(nm.outputNorm() + ".weight"), n, C);
        // forward was: sum2 = adapter₂(drop(W2·g + b2)) + h1
        double[] dH1 = new double[n * C];
        residualBackward(null, dH1, dSum2, n * C);
        double[] dO = dropoutAndAdapterBackward(nm.outputAdapter(), t.ad2(), dSum2, t.index(), Dropout.OUTPUT, gr);
        double[] dG = new double[n * I], dPre = new double[n * I];
        matmulBackward(dG, gr.get(nm.output() + ".weight"), gr.get(nm.output() + ".bias"), dO, t.g(), w(nm.output() + ".weight"), n, I, C);
        // forward was: g = gelu(pre), pre = W1·h1 + b1
        Act.GELU.backward(dPre, dG, t.pre(), n * I);
        matmulBackward(dH1, gr.get(nm.intermediate() + ".weight"), gr.get(nm.intermediate() + ".bias"), dPre, t.h1(),
                w(nm.intermediate() + ".weight"), n, C, I);
        // forward was: h1 = LN(sum1)
        double[] dSum1 = new double[n * C];
        layerNormBackward(dSum1, gr.get(nm.attentionNorm() + ".weight"), gr.get(nm.attentionNorm() + ".bias"), dH1, t.sum1(),
                t.mean1(), t.rstd1(), w(nm.attentionNorm() + ".weight"), n, C);
        // forward was: sum1 = adapter₁(drop?(Wo·ctx + bo)) + x
        double[] dX = new double[n * C];
        residualBackward(null, dX, dSum1, n * C);
        double[] dA = dropoutAndAdapterBackward(nm.attentionAdapter(), t.ad1(), dSum1, t.index(),
                nm.attentionOutputDropout() ? Dropout.ATTENTION_OUTPUT : -1, gr);
        double[] dCtx = new double[n * C];
        matmulBackward(dCtx, gr.get(nm.attentionOutput() + ".weight"), gr.get(nm.attentionOutput() + ".bias"), dA, t.ctx(),
                w(nm.attentionOutput() + ".weight"), n, C, C);
        // forward was: ctx = attention(q, k, v)
        double[] dQ = new double[n * C], dK = new double[n * C], dV = new double[n * C];
        attentionBackward(dQ, dK, dV, dCtx, t.q(), t.k(), t.v(), t.att(), t.attDrop(), B, T, H, D);
        // forward was: q, k, v = Wq·x + bq, Wk·x + bk, Wv·x + bv
        for (String s : List.of(nm.query(), nm.key(), nm.value())) {
            double[] d = s.equals(nm.query()) ? dQ : s.equals(nm.key()) ? dK : dV;
            matmulBackward(dX, gr.get(s + ".weight"), gr.get(s + ".bias"), d, t.x(), w(s + ".weight"), n, C, C);
        }
        return dX;
    }

    // ---------------------------------------------------------------- whole encoder

    /** Whole-encoder intermediates: the hidden states h₀..h_L, each (B, T, C), and the tapes that made them. */
    public record Tape(EmbTape emb, LayerTape[] layers, List<double[]> hiddenStates) {
        public double[] last() { return hiddenStates.get(hiddenStates.size() - 1); }
    }

    /**
     * Embeddings then the first {@code layers} layers.
     *
     * @param types (B, T) segment ids, or null for all 0
     * @param mask  (B, T) 1 for tokens, 0 for padding
     */
    public Tape forward(int[] ids, int[] types, int[] mask, int B, int T, int layers) {
        EmbTape e = embeddings(ids, types, B, T);
        LayerTape[] ls = new LayerTape[layers];
        List<double[]> hs = new ArrayList<>(List.of(e.y()));
        for (int l = 0; l < layers; l++) {
            ls[l] = layer(l, hs.get(l), mask, B, T);
            hs.add(layerOutput(ls[l]));
        }
        return new Tape(e, ls, hs);
    }

    /** The L+1 hidden states in HF order (embeddings output first), each (B, T, C), through every layer. */
    public List<double[]> forward(int[] ids, int[] types, int[] mask, int B, int T) {
        return forward(ids, types, mask, B, T, cfg.numHiddenLayers()).hiddenStates();
    }

    /** Accumulates every encoder gradient from dLast = d(last hidden state of the tape). */
    public void backward(Tape t, double[] dLast, Map<String, double[]> g) {
        double[] d = dLast;
        for (int l = t.layers().length - 1; l >= 0; l--) d = layerBackward(t.layers()[l], d, g);
        embeddingsBackward(t.emb(), d, g);
    }

    @Override
    public String toString() { return "DoubleEncoder[" + cfg.modelType() + ", C=" + C + ", H=" + H + "]"; }
}

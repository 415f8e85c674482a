package org.varitune.transformer.reference;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.MathUtil;
import org.varitune.transformer.model.EncoderConfig;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Double-precision reference forward of a post-LN BERT/RoBERTa encoder (HF {@code BertModel} /
 * {@code RobertaModel} in eval mode), written as naive loops for clarity, not speed. Weights are held as the float
 * arrays of the checkpoint and widened to double on use; every sum, LayerNorm, softmax and GELU is in double.
 * <ul>
 *   <li>embeddings: {@code LN(word[id] + pos[p] + type[tt])}, BERT {@code p = t}; RoBERTa
 *   {@code p = cumsum(id != pad)·(id != pad) + pad} (HF {@code create_position_ids_from_input_ids});
 *   <li>layer: {@code a = LN(x + Wo·attn(x) + bo)}, {@code y = LN(a + W2·gelu(W1·a + b1) + b2)}, exact erf GELU
 *   ({@link MathUtil#gelu}), attention {@code softmax(q·kᵀ/√D)} over the keys with mask 1; a row whose keys are all
 *   masked attends uniformly to every key (what HF's additive finfo.min mask gives).
 * </ul>
 * Linear weights are HF {@code [out, in]}. Names are HF names without the {@code bert.}/{@code roberta.} prefix.
 */
public final class EncoderRef {
    private final EncoderConfig cfg;
    private final Map<String, float[]> w;

    /** @param weights HF name (no prefix) to row-major data; not modified, not copied */
    public EncoderRef(EncoderConfig cfg, Map<String, float[]> weights) {
        this.cfg = cfg;
        this.w = weights;
        int c = cfg.hiddenSize(), i = cfg.intermediateSize();
        need("embeddings.word_embeddings.weight", (long) cfg.vocabSize() * c);
        need("embeddings.position_embeddings.weight", (long) cfg.maxPositionEmbeddings() * c);
        need("embeddings.token_type_embeddings.weight", (long) cfg.typeVocabSize() * c);
        for (int l = 0; l < cfg.numHiddenLayers(); l++) {
            String p = "encoder.layer." + l + ".";
            for (String lin : List.of("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense")) {
                need(p + lin + ".weight", (long) c * c);
                need(p + lin + ".bias", c);
            }
            need(p + "intermediate.dense.weight", (long) i * c);
            need(p + "intermediate.dense.bias", i);
            need(p + "output.dense.weight", (long) c * i);
            need(p + "output.dense.bias", c);
        }
    }

    /** Reads every tensor of the encoder from a checkpoint, stripping a {@code bert.}/{@code roberta.} prefix. */
    public static EncoderRef load(EncoderConfig cfg, WeightSource src) throws IOException {
        Map<String, float[]> m = new HashMap<>();
        for (String name : src.names()) {
            if (name.endsWith("position_ids") || name.endsWith("token_type_ids")) continue;
            String local = name.startsWith("bert.") ? name.substring(5) : name.startsWith("roberta.") ? name.substring(8) : name;
            m.put(local, src.readFloat(name));
        }
        return new EncoderRef(cfg, m);
    }

    private void need(String name, long n) {
        float[] a = w.get(name);
        if (a == null) throw new IllegalArgumentException("EncoderRef: weight " + name + " missing");
        if (a.length != n) throw new IllegalArgumentException("EncoderRef: weight " + name + " has " + a.length + " values, expected " + n);
    }

    /**
     * The L+1 hidden states in HF order (embeddings output first), each (B, T, C) in double.
     *
     * @param ids           (B, T) token ids
     * @param tokenTypeIds  (B, T) segment ids, or null for all zeros
     * @param attentionMask (B, T) 1 for tokens, 0 for padding
     */
    public List<double[]> forward(int[] ids, int[] tokenTypeIds, int[] attentionMask, int B, int T) {
        int c = cfg.hiddenSize();
        if (ids.length != B * T || attentionMask.length != B * T || (tokenTypeIds != null && tokenTypeIds.length != B * T)) {
            throw new IllegalArgumentException("EncoderRef: inputs must be (B, T) = (" + B + ", " + T + ")");
        }
        List<double[]> out = new ArrayList<>();
        double[] x = embeddings(ids, tokenTypeIds, B, T); // x: (B, T, C)
        out.add(x);
        for (int l = 0; l < cfg.numHiddenLayers(); l++) {
            x = layer(l, x, attentionMask, B, T);
            out.add(x);
        }
        return out;
    }

    /** Position ids: BERT t, RoBERTa padding_idx + cumulative count of non-pad tokens (pad positions get padding_idx). */
    public int[] positionIds(int[] ids, int B, int T) {
        int[] pos = new int[B * T];
        int pad = cfg.padTokenId();
        for (int b = 0; b < B; b++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                int i = b * T + t;
                if (!cfg.modelType().equals("roberta")) { pos[i] = t; continue; }
                if (ids[i] != pad) count++;
                pos[i] = ids[i] != pad ? count + pad : pad;
            }
        }
        return pos;
    }

    double[] embeddings(int[] ids, int[] tt, int B, int T) {
        int c = cfg.hiddenSize();
        float[] word = w.get("embeddings.word_embeddings.weight");
        float[] posE = w.get("embeddings.position_embeddings.weight");
        float[] type = w.get("embeddings.token_type_embeddings.weight");
        int[] pos = positionIds(ids, B, T);
        double[] x = new double[B * T * c]; // x: (B, T, C)
        for (int n = 0; n < B * T; n++) {
            int id = ids[n], p = pos[n], s = tt == null ? 0 : tt[n];
            if (id < 0 || id >= cfg.vocabSize()) throw new IllegalArgumentException("token id " + id + " at " + n + " outside vocab " + cfg.vocabSize());
            if (p >= cfg.maxPositionEmbeddings()) throw new IllegalArgumentException("position " + p + " >= max_position_embeddings");
            if (s < 0 || s >= cfg.typeVocabSize()) throw new IllegalArgumentException("token type " + s + " outside " + cfg.typeVocabSize());
            for (int j = 0; j < c; j++) {
                x[n * c + j] = (double) word[id * c + j] + (double) posE[p * c + j] + (double) type[s * c + j];
            }
        }
        return layerNorm(x, B * T, "embeddings.LayerNorm");
    }

    double[] layer(int l, double[] x, int[] mask, int B, int T) {
        String p = "encoder.layer." + l + ".";
        int c = cfg.hiddenSize(), h = cfg.numAttentionHeads(), d = cfg.headSize(), n = B * T;
        double[] q = linear(x, n, p + "attention.self.query");  // q: (B, T, C) = (B, T, H, D)
        double[] k = linear(x, n, p + "attention.self.key");
        double[] v = linear(x, n, p + "attention.self.value");
        double[] ctx = new double[n * c];                      // ctx: (B, T, H, D)
        double scale = 1.0 / Math.sqrt(d);
        double[] att = new double[T];                          // att: (T) one query row
        for (int b = 0; b < B; b++) {
            boolean anyKey = false;
            for (int t = 0; t < T; t++) anyKey |= mask[b * T + t] != 0;
            for (int hh = 0; hh < h; hh++) {
                for (int tq = 0; tq < T; tq++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int tk = 0; tk < T; tk++) {
                        if (anyKey && mask[b * T + tk] == 0) { att[tk] = Double.NEGATIVE_INFINITY; continue; }
                        double s = 0;
                        for (int j = 0; j < d; j++) s += q[((b * T + tq) * h + hh) * d + j] * k[((b * T + tk) * h + hh) * d + j];
                        att[tk] = s * scale;
                        max = Math.max(max, att[tk]);
                    }
                    double sum = 0;
                    for (int tk = 0; tk < T; tk++) { att[tk] = Math.exp(att[tk] - max); sum += att[tk]; }
                    for (int j = 0; j < d; j++) {
                        double acc = 0;
                        for (int tk = 0; tk < T; tk++) acc += att[tk] * v[((b * T + tk) * h + hh) * d + j];
                        ctx[((b * T + tq) * h + hh) * d + j] = acc / sum;
                    }
                }
            }
        }
        double[] a = linear(ctx, n, p + "attention.output.dense");
        for (int i = 0; i < a.length; i++) a[i] += x[i];
        a = layerNorm(a, n, p + "attention.output.LayerNorm");
        double[] inter = linear(a, n, p + "intermediate.dense"); // inter: (B, T, I)
        for (int i = 0; i < inter.length; i++) inter[i] = MathUtil.gelu(inter[i]);
        double[] y = linear(inter, n, p + "output.dense");
        for (int i = 0; i < y.length; i++) y[i] += a[i];
        return layerNorm(y, n, p + "output.LayerNorm");
    }

    /** y = x·Wᵀ + b with W (out, in); x: (N, in); returns (N, out). */
    double[] linear(double[] x, int n, String prefix) {
        float[] wt = w.get(prefix + ".weight"), bias = w.get(prefix + ".bias");
        int out = bias.length, in = wt.length / out;
        if (x.length != n * in) throw new IllegalArgumentException(prefix + ": input has " + x.length + " values, expected " + n + "×" + in);
        double[] y = new double[n * out];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * wt[o * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /** Two-pass LayerNorm over the last axis; x: (N, C); returns a new array. */
    double[] layerNorm(double[] x, int n, String prefix) {
        float[] g = w.get(prefix + ".weight"), bb = w.get(prefix + ".bias");
        if (g == null || bb == null) throw new IllegalArgumentException("EncoderRef: " + prefix + ".weight/.bias missing");
        int c = g.length;
        double[] y = new double[x.length];
        for (int r = 0; r < n; r++) {
            double mean = 0, var = 0;
            for (int j = 0; j < c; j++) mean += x[r * c + j];
            mean /= c;
            for (int j = 0; j < c; j++) { double dd = x[r * c + j] - mean; var += dd * dd; }
            var /= c;
            double rstd = 1.0 / Math.sqrt(var + cfg.layerNormEps());
            for (int j = 0; j < c; j++) y[r * c + j] = (x[r * c + j] - mean) * rstd * g[j] + bb[j];
        }
        return y;
    }

    public EncoderConfig config() { return cfg; }

    @Override
    public String toString() { return "EncoderRef" + Arrays.asList(cfg.modelType(), cfg.numHiddenLayers(), cfg.hiddenSize()); }
}

package org.varitune.transformer.model;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Embeddings;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.layers.Pooler;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.tokenize.Batch;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A post-LN encoder with exact GELU (HF {@code BertModel}, {@code RobertaModel}, ...; the names and wiring are its
 * {@link ModelFamily}'s): embeddings, then {@code L} {@link EncoderLayer}s, then an optional pooler. An encoder may hold fewer layers than its checkpoint
 * (truncated at a head layer): layers above are never loaded nor computed.
 */
public final class Encoder {
    private final EncoderConfig config;
    private final Kernels kernels;
    private final Embeddings embeddings;
    private final List<EncoderLayer> layers;
    private final Pooler pooler;

    /**
     * Everything backward needs from a training forward. {@code layers.get(i)} is the trace of layer
     * {@code fromLayer + i + 1} (1-based); {@code fromLayer} is 0 for a forward from the token ids and the start
     * layer of {@link #forwardTrainFrom} (then {@code embeddings} is null and {@code output.hiddenStates()} holds
     * hidden states {@code fromLayer..lastLayer}).
     */
    public record Trace(EncoderOutput output, Embeddings.Saved embeddings, List<EncoderLayer.Saved> layers,
                        Pooler.Saved pooler, int fromLayer) {}

    /**
     * A zero-initialised encoder (LayerNorm weights 1) with {@code config.numHiddenLayers()} layers.
     *
     * @param withPooler whether to hold the family's pooler ({@code pooler.dense}); an error for a family without one
     */
    public Encoder(EncoderConfig config, Kernels kernels, boolean withPooler) {
        this.config = config;
        this.kernels = kernels;
        this.embeddings = new Embeddings(kernels, config);
        ModelFamily family = config.family();
        List<EncoderLayer> ls = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            ls.add(new EncoderLayer(kernels, i, family.layer(i), config.hiddenSize(), config.numAttentionHeads(),
                    config.intermediateSize(), config.layerNormEps(), config.hiddenDropoutProb(),
                    config.attentionProbsDropoutProb()));
        }
        this.layers = Collections.unmodifiableList(ls);
        if (withPooler && family.pooler().isEmpty()) throw new IllegalArgumentException(config.modelType() + " has no pooler");
        this.pooler = withPooler ? new Pooler(kernels, family.pooler().get(), config.hiddenSize()) : null;
    }

    /** Loads {@code config.json} and the weights of a HF model directory; all layers. */
    public static Encoder load(Path modelDir, Kernels kernels) throws IOException {
        return load(modelDir, kernels, -1);
    }

    /**
     * Loads a HF model directory keeping only the first {@code keepLayers} layers ({@code -1} = all); weights of the
     * dropped layers are not read. The pooler is loaded when the checkpoint has one and all layers are kept.
     */
    public static Encoder load(Path modelDir, Kernels kernels, int keepLayers) throws IOException {
        EncoderConfig full = EncoderConfig.read(modelDir);
        if (keepLayers > full.numHiddenLayers()) {
            throw new IllegalArgumentException(modelDir + ": asked for " + keepLayers + " layers but num_hidden_layers is "
                    + full.numHiddenLayers());
        }
        try (WeightSource src = Safetensors.open(modelDir)) {
            return WeightLoader.load(src, full, kernels, keepLayers < 0 ? full.numHiddenLayers() : keepLayers);
        }
    }

    public EncoderConfig config() { return config; }
    public Kernels kernels() { return kernels; }
    public Embeddings embeddings() { return embeddings; }
    public List<EncoderLayer> layers() { return layers; }
    public int numLayers() { return layers.size(); }
    public boolean hasPooler() { return pooler != null; }

    /** All parameters in HF order, names without prefix. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(embeddings.parameters());
        for (EncoderLayer l : layers) ps.addAll(l.parameters());
        if (pooler != null) ps.addAll(pooler.parameters());
        return ps;
    }

    /** Parameters by HF name (no prefix), in HF order. */
    public Map<String, Parameter> parameterMap() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    /** Inference forward over a padded batch, all layers, pooler when present. */
    public EncoderOutput forward(Batch batch) {
        return forward(batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask(), batch.B(), batch.T(), numLayers());
    }

    /** Inference forward stopping after layer {@code lastLayer} (1..L; 0 = embeddings only); nothing is cached. */
    public EncoderOutput forward(Batch batch, int lastLayer) {
        return forward(batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask(), batch.B(), batch.T(), lastLayer);
    }

    /**
     * Inference forward. inputIds, tokenTypeIds (nullable = all 0), attentionMask: (B, T). Returns hidden states
     * 0..lastLayer; the pooler runs only when {@code lastLayer == L}.
     */
    public EncoderOutput forward(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T, int lastLayer) {
        return run(inputIds, tokenTypeIds, attentionMask, B, T, lastLayer, false, DropoutContext.OFF).output();
    }

    /** Training forward with dropout off: like {@link #forward} but saving what {@link #backward} needs. */
    public Trace forwardTrain(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T, int lastLayer) {
        return run(inputIds, tokenTypeIds, attentionMask, B, T, lastLayer, true, DropoutContext.OFF);
    }

    /**
     * Training forward saving what {@link #backward} needs, with HF's dropouts (after the embeddings LayerNorm, on
     * the attention probabilities, after {@code attention.output.dense} and {@code output.dense}) drawn from
     * {@code drop} ({@link DropoutContext#OFF} = none). The masks are a function of (seed, step, site) only.
     */
    public Trace forwardTrain(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T, int lastLayer,
                              DropoutContext drop) {
        return run(inputIds, tokenTypeIds, attentionMask, B, T, lastLayer, true, drop);
    }

    private Trace run(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T, int lastLayer,
                      boolean keep, DropoutContext drop) {
        if (lastLayer < 0 || lastLayer > numLayers()) {
            throw new IllegalArgumentException("lastLayer " + lastLayer + " outside [0, " + numLayers() + "]");
        }
        checkBatch(inputIds, tokenTypeIds, attentionMask, B, T);
        List<float[]> hidden = new ArrayList<>(lastLayer + 1);
        var e = embeddings.forward(inputIds, tokenTypeIds, B, T, keep, drop);
        hidden.add(e.out());
        List<EncoderLayer.Saved> saved = keep ? new ArrayList<>() : null;
        float[] h = e.out();
        for (int l = 0; l < lastLayer; l++) {
            Fwd<EncoderLayer.Saved> f = layers.get(l).forward(h, attentionMask, B, T, keep, drop);
            if (keep) saved.add(f.saved());
            h = f.out();
            hidden.add(h);
        }
        Fwd<Pooler.Saved> p = pooler != null && lastLayer == numLayers() ? pooler.forward(h, B, T, keep) : null;
        EncoderOutput out = new EncoderOutput(Collections.unmodifiableList(hidden), p == null ? null : p.out(), B, T,
                config.hiddenSize());
        return new Trace(out, keep ? e.saved() : null, saved, p == null ? null : p.saved(), 0);
    }

    /**
     * Training forward of layers {@code fromLayer+1..lastLayer} only, from given hidden states of layer
     * {@code fromLayer} (a frozen prefix computed earlier, e.g. cached): {@code h ← layer_l(h)} for each such l, with
     * dropout per {@code drop}. Used when everything at or below {@code fromLayer} is frozen, so that
     * {@link #backward} has nothing to do below it. The pooler runs when {@code lastLayer == L}.
     *
     * @param hidden        (B, T, C), hidden state {@code fromLayer} (0 = embeddings output); not modified
     * @param attentionMask (B, T)
     * @param fromLayer     0..lastLayer
     * @param lastLayer     fromLayer..L
     * @return the trace; its output holds hidden states fromLayer..lastLayer (index 0 is {@code hidden} itself)
     */
    public Trace forwardTrainFrom(float[] hidden, int[] attentionMask, int B, int T, int fromLayer, int lastLayer,
                                  DropoutContext drop) {
        if (fromLayer < 0 || fromLayer > lastLayer || lastLayer > numLayers()) {
            throw new IllegalArgumentException("layers fromLayer=" + fromLayer + ", lastLayer=" + lastLayer
                    + " outside 0 <= fromLayer <= lastLayer <= " + numLayers());
        }
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("empty batch: B=" + B + ", T=" + T);
        int n = B * T;
        if (hidden.length != n * config.hiddenSize()) {
            throw new IllegalArgumentException("hidden state " + fromLayer + " has " + hidden.length
                    + " values, expected (B, T, C) = (" + B + ", " + T + ", " + config.hiddenSize() + ")");
        }
        if (attentionMask.length != n) throw new IllegalArgumentException("attention_mask has " + attentionMask.length + " entries, expected " + n);
        List<float[]> states = new ArrayList<>(lastLayer - fromLayer + 1);
        states.add(hidden);
        List<EncoderLayer.Saved> saved = new ArrayList<>();
        float[] h = hidden;
        for (int l = fromLayer; l < lastLayer; l++) {
            Fwd<EncoderLayer.Saved> f = layers.get(l).forward(h, attentionMask, B, T, true, drop);
            saved.add(f.saved());
            h = f.out();
            states.add(h);
        }
        Fwd<Pooler.Saved> p = pooler != null && lastLayer == numLayers() ? pooler.forward(h, B, T, true) : null;
        EncoderOutput out = new EncoderOutput(Collections.unmodifiableList(states), p == null ? null : p.out(), B, T,
                config.hiddenSize());
        return new Trace(out, null, saved, p == null ? null : p.saved(), fromLayer);
    }

    private void checkBatch(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T) {
        int n = B * T;
        if (B <= 0 || T <= 0) throw new IllegalArgumentException("empty batch: B=" + B + ", T=" + T);
        if (T > config.family().maxSequenceLength(config)) {
            throw new IllegalArgumentException("sequence length " + T + " exceeds what max_position_embeddings "
                    + config.maxPositionEmbeddings() + " allows for " + config.modelType());
        }
        if (inputIds.length != n) throw new IllegalArgumentException("input_ids has " + inputIds.length + " ids, expected B*T = " + n);
        if (attentionMask.length != n) throw new IllegalArgumentException("attention_mask has " + attentionMask.length + " entries, expected " + n);
        if (tokenTypeIds != null && tokenTypeIds.length != n) {
            throw new IllegalArgumentException("token_type_ids has " + tokenTypeIds.length + " entries, expected " + n);
        }
    }

    /**
     * Backward from the gradient of the last computed hidden state (and of the pooled output, if the pooler ran and
     * {@code dPooled} is non-null). Accumulates into trainable parameters' grads. Runs layers in reverse and stops
     * below the lowest layer that has a trainable parameter (embeddings count as layer 0). For a trace of
     * {@link #forwardTrainFrom} nothing at or below {@code fromLayer} may be trainable (its gradient would be lost):
     * that is an error.
     *
     * @param dLast   (B, T, C), gradient of {@code trace.output().last()}; may be null when only dPooled flows
     * @param dPooled (B, C) or null
     */
    public void backward(Trace trace, float[] dLast, float[] dPooled) {
        EncoderOutput out = trace.output();
        int n = out.batch() * out.seq() * out.hidden();
        float[] d = dLast != null ? dLast.clone() : new float[n];
        if (dPooled != null) {
            if (trace.pooler() == null) throw new IllegalStateException("dPooled given but the pooler did not run");
            float[] dp = pooler.backward(dPooled, trace.pooler());
            kernels.add(d, d, dp, n);
        }
        int lowest = lowestTrainable();
        int from = trace.fromLayer();
        if (from > 0 && lowest <= from) {
            throw new IllegalStateException("backward of a forward from layer " + from + " but layer " + lowest
                    + (lowest == 0 ? " (embeddings)" : "") + " is trainable: its gradient would be lost");
        }
        int ran = trace.layers().size();
        for (int l = from + ran - 1; l >= from && l + 1 >= lowest; l--) {
            // forward was: hidden[l+1] = layer_l(hidden[l])
            boolean needBelow = l >= lowest;                         // someone at index <= l (embeddings = 0) trains
            d = layers.get(l).backward(d, trace.layers().get(l - from), needBelow);
            if (d == null) return;
        }
        if (lowest == 0) embeddings.backward(d, trace.embeddings());
    }

    /** Index of the lowest trainable block: 0 = embeddings, l = layer l (1-based); numLayers()+1 if none. */
    public int lowestTrainable() {
        if (embeddings.parameters().stream().anyMatch(Parameter::trainable)) return 0;
        for (int l = 0; l < layers.size(); l++) {
            if (layers.get(l).parameters().stream().anyMatch(Parameter::trainable)) return l + 1;
        }
        return layers.size() + 1;
    }

    public void zeroGrad() { for (Parameter p : parameters()) p.zeroGrad(); }
}

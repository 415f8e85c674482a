package org.varitune.training;

import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.tokenize.Batch;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An encoder with a classification head on the hidden states of layer {@code headLayer} (1..L): HF
 * {@code *ForSequenceClassification} when {@code headLayer = L}. Layers above the head are neither run nor trained.
 * The encoder's own pooler (if loaded) is not part of this model: the BERT head holds {@code pooler.dense.*}
 * itself ({@link ClassificationHead#copyFromEncoder}).
 */
public final class SequenceClassifier {
    private final Encoder encoder;
    private final ClassificationHead head;
    private final int headLayer;

    /** Everything backward needs, and the logits (B, K). */
    public record Trace(Encoder.Trace encoder, ClassificationHead.Saved head, float[] logits, int b, int t) {}

    public SequenceClassifier(Encoder encoder, ClassificationHead head, int headLayer) {
        if (headLayer < 1 || headLayer > encoder.numLayers()) {
            throw new IllegalArgumentException("head layer " + headLayer + " outside [1, " + encoder.numLayers() + "]");
        }
        if (head.hiddenSize() != encoder.config().hiddenSize()) {
            throw new IllegalArgumentException("head hidden size " + head.hiddenSize() + " != encoder hidden_size "
                    + encoder.config().hiddenSize());
        }
        this.encoder = encoder;
        this.head = head;
        this.headLayer = headLayer;
        Set<String> seen = new HashSet<>();
        for (Parameter p : parameters()) {
            if (!seen.add(p.name())) throw new IllegalArgumentException("duplicate parameter name " + p.name());
        }
    }

    public Encoder encoder() { return encoder; }
    public ClassificationHead head() { return head; }
    public int headLayer() { return headLayer; }

    /**
     * The model's parameters in HF order: embeddings, layers 1..headLayer (with adapters), then the head. Frozen ones
     * included (see {@link Parameter#trainable()}).
     */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(encoder.embeddings().parameters());
        for (int l = 0; l < headLayer; l++) ps.addAll(encoder.layers().get(l).parameters());
        ps.addAll(head.parameters());
        return ps;
    }

    /** {@link #parameters()} by name. */
    public Map<String, Parameter> parameterMap() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : parameters()) m.put(p.name(), p);
        return m;
    }

    /** Training forward of a batch: logits (B, K) and the trace for {@link #backward}. */
    public Trace forwardTrain(Batch batch, DropoutContext drop) {
        return forwardTrain(batch.inputIds(), batch.tokenTypeIds(), batch.attentionMask(), batch.specialTokensMask(),
                batch.B(), batch.T(), drop);
    }

    /** inputIds, tokenTypeIds (nullable), attentionMask, specialTokensMask (nullable unless pooling needs it): (B, T). */
    public Trace forwardTrain(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int[] specialTokensMask,
                              int B, int T, DropoutContext drop) {
        Encoder.Trace et = encoder.forwardTrain(inputIds, tokenTypeIds, attentionMask, B, T, headLayer, drop);
        Fwd<ClassificationHead.Saved> h = head.forward(et.output().last(), attentionMask, specialTokensMask, B, T, drop,
                true);
        return new Trace(et, h.saved(), h.out(), B, T);
    }

    /**
     * Training forward of layers {@code fromLayer+1..headLayer} and the head only, from the hidden state of layer
     * {@code fromLayer} (a frozen prefix; see {@link Encoder#forwardTrainFrom}). hidden: (B, T, C), not modified;
     * masks (B, T). Returns logits (B, K) and the trace for {@link #backward}.
     */
    public Trace forwardTrainFrom(float[] hidden, int[] attentionMask, int[] specialTokensMask, int B, int T,
                                  int fromLayer, DropoutContext drop) {
        Encoder.Trace et = encoder.forwardTrainFrom(hidden, attentionMask, B, T, fromLayer, headLayer, drop);
        Fwd<ClassificationHead.Saved> h = head.forward(et.output().last(), attentionMask, specialTokensMask, B, T, drop,
                true);
        return new Trace(et, h.saved(), h.out(), B, T);
    }

    /**
     * Inference from the hidden state of layer {@code fromLayer}: logits (B, K), dropout off, nothing saved.
     * hidden: (B, T, C), not modified.
     */
    public float[] logitsFrom(float[] hidden, int[] attentionMask, int[] specialTokensMask, int B, int T, int fromLayer) {
        float[] h = hidden;
        for (int l = fromLayer; l < headLayer; l++) {
            h = encoder.layers().get(l).forward(h, attentionMask, B, T, false).out();
        }
        return head.forward(h, attentionMask, specialTokensMask, B, T, DropoutContext.OFF, false).out();
    }

    /** Inference: logits (B, K), dropout off, nothing saved. */
    public float[] logits(Batch batch) {
        var out = encoder.forward(batch, headLayer);
        return head.forward(out.last(), batch.attentionMask(), batch.specialTokensMask(), batch.B(), batch.T(),
                DropoutContext.OFF, false).out();
    }

    /**
     * Backward from dLogits (B, K): accumulates into every trainable parameter's grad (head, then encoder down to
     * its lowest trainable layer; nothing below).
     */
    public void backward(Trace trace, float[] dLogits) {
        float[] dHidden = head.backward(dLogits, trace.head());
        if (encoder.lowestTrainable() <= headLayer) encoder.backward(trace.encoder(), dHidden, null);
    }

    /** Zeroes the grads of all {@link #parameters()}. */
    public void zeroGrad() { for (Parameter p : parameters()) p.zeroGrad(); }
}

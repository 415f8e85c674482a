package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/**
 * Bidirectional multi-head self-attention with a key-padding mask (HF {@code BertSelfAttention}): Q, K, V are three
 * {@link Linear}s named {@code <prefix>.query}, {@code .key}, {@code .value};
 * {@code ctx = dropout(softmax(QKᵀ/√D + mask))·V} per head, the dropout being HF's {@code attention_probs_dropout_prob}
 * on the probabilities (identity when off). The output projection ({@code attention.output.dense}) belongs to
 * {@link EncoderLayer}.
 */
public final class SelfAttention {
    private final Kernels kernels;
    private final Linear query, key, value;
    private final Dropout probsDropout;
    private final int heads, headSize;

    /**
     * Saved for backward: the three projections' inputs, Q, K, V, the probabilities (before dropout) and the
     * dropout mask (null when dropout was off).
     */
    public record Saved(Linear.Saved qIn, Linear.Saved kIn, Linear.Saved vIn,
                        float[] q, float[] k, float[] v,          // q, k, v: (B, T, C)
                        float[] att,                              // att: (B, H, T, T)
                        Dropout.Mask attMask,                     // over att, or null
                        int b, int t) {}

    /** Attention without dropout on the probabilities. */
    public SelfAttention(Kernels kernels, String prefix, int hidden, int heads) {
        this(kernels, prefix, hidden, heads, new Dropout(0, 0));
    }

    /** @param probsDropout the dropout on the attention probabilities */
    public SelfAttention(Kernels kernels, String prefix, int hidden, int heads, Dropout probsDropout) {
        this(kernels, prefix + ".query", prefix + ".key", prefix + ".value", hidden, heads, probsDropout);
    }

    /**
     * Attention whose three Linears have the given names (e.g. DistilBERT's {@code attention.q_lin}).
     *
     * @param probsDropout the dropout on the attention probabilities
     */
    public SelfAttention(Kernels kernels, String query, String key, String value, int hidden, int heads,
                         Dropout probsDropout) {
        this.kernels = kernels;
        this.heads = heads;
        this.headSize = hidden / heads;
        this.query = new Linear(kernels, query, hidden, hidden);
        this.key = new Linear(kernels, key, hidden, hidden);
        this.value = new Linear(kernels, value, hidden, hidden);
        this.probsDropout = probsDropout;
    }

    /** query, key, value: weight, bias and any delta's parameters each. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new java.util.ArrayList<>(query.parameters());
        ps.addAll(key.parameters());
        ps.addAll(value.parameters());
        return ps;
    }

    /** The query, key or value Linear. */
    Linear linear(org.varitune.transformer.model.LinearRole role) {
        return switch (role) {
            case QUERY -> query;
            case KEY -> key;
            case VALUE -> value;
            default -> throw new IllegalArgumentException(role + " is not a Linear of the self-attention");
        };
    }

    /** Dropout off. x: (B, T, C), attentionMask: (B, T). Returns ctx: (B, T, C). */
    public Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep) {
        return forward(x, attentionMask, B, T, keep, DropoutContext.OFF);
    }

    /** x: (B, T, C), attentionMask: (B, T). Returns ctx: (B, T, C); dropout on the probabilities per {@code drop}. */
    public Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep, DropoutContext drop) {
        return forward(x, attentionMask, B, T, keep, drop, null);
    }

    /**
     * As {@link #forward(float[], int[], int, int, boolean, DropoutContext)}, Q, K, V, ctx and att taken from
     * {@code scratch} when non-null: the layer call's {@link Scratch} without {@code keep}, the step's
     * {@link StepActivations} with it.
     */
    Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep, DropoutContext drop, Scratch scratch) {
        int n = B * T;
        var q = query.forward(x, n, keep, drop, scratch);
        var k = key.forward(x, n, keep, drop, scratch);
        var v = value.forward(x, n, keep, drop, scratch);
        float[] ctx = Scratch.floats(scratch, n * heads * headSize);      // ctx: (B, T, C), overwritten
        Dropout.Mask mask = probsDropout.mask(drop, B * heads * T * T);
        // att: (B, H, T, T), overwritten by the probabilities
        float[] att = keep || mask != null ? Scratch.floats(scratch, B * heads * T * T) : null;
        if (mask == null) {
            kernels.attentionForward(ctx, att, q.out(), k.out(), v.out(), attentionMask, B, T, heads, headSize);
        } else {                                                         // ctx = (att⊙m/(1−p))·V
            kernels.attentionForwardDropout(ctx, att, q.out(), k.out(), v.out(), attentionMask, mask.bits(),
                    mask.scale(), B, T, heads, headSize);
        }
        return new Fwd<>(ctx, keep ? new Saved(q.saved(), k.saved(), v.saved(), q.out(), k.out(), v.out(), att, mask,
                B, T) : null);
    }

    /** Differentiates the forward; returns dX (B, T, C) when {@code needInputGrad}, else null. */
    public float[] backward(float[] dCtx, Saved s, boolean needInputGrad) { return backward(dCtx, s, needInputGrad, null); }

    /**
     * As {@link #backward(float[], Saved, boolean)}, every gradient but the returned dX taken (zeroed) from
     * {@code grads} when non-null.
     */
    float[] backward(float[] dCtx, Saved s, boolean needInputGrad, Scratch grads) {
        int n = s.b() * s.t(), c = heads * headSize;
        // dQ, dK, dV: (B, T, C) each, accumulated into
        float[] dQ = Scratch.zeros(grads, n * c), dK = Scratch.zeros(grads, n * c), dV = Scratch.zeros(grads, n * c);
        if (s.attMask() == null) {
            // forward was: ctx = softmax(Q·Kᵀ/√D + mask)·V
            kernels.attentionBackward(dQ, dK, dV, dCtx, s.q(), s.k(), s.v(), s.att(), s.b(), s.t(), heads, headSize);
        } else {
            // forward was: ctx = (att⊙m/(1−p))·V, att = softmax(Q·Kᵀ/√D + mask)
            Dropout.Mask m = s.attMask().packed();
            kernels.attentionBackwardDropout(dQ, dK, dV, dCtx, s.q(), s.k(), s.v(), s.att(), m.bits(), m.scale(),
                    s.b(), s.t(), heads, headSize);
        }
        // forward was: q = query(x); k = key(x); v = value(x)
        float[] dX = query.backward(dQ, s.qIn(), needInputGrad);           // new: the caller keeps it
        float[] dXk = key.backward(dK, s.kIn(), needInputGrad, grads);
        float[] dXv = value.backward(dV, s.vIn(), needInputGrad, grads);
        if (dX == null) return null;
        kernels.add(dX, dX, dXk, dX.length);
        kernels.add(dX, dX, dXv, dX.length);
        return dX;
    }
}

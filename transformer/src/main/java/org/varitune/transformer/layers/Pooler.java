package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/** HF {@code BertPooler}: {@code pooled = tanh(pooler.dense(h[:, 0]))}, on the first token of each sequence. */
public final class Pooler {
    private final Linear dense;
    private final int c;

    public record Saved(Linear.Saved dense, float[] pooled, int b, int t) {}   // pooled: (B, C)

    public Pooler(Kernels kernels, int hidden) { this(kernels, "pooler.dense", hidden); }

    /** A pooler whose Linear is named {@code name}. */
    public Pooler(Kernels kernels, String name, int hidden) {
        this.dense = new Linear(kernels, name, hidden, hidden);
        this.c = hidden;
    }

    public List<Parameter> parameters() { return List.of(dense.weight(), dense.bias()); }

    /** h: (B, T, C). Returns pooled: (B, C). */
    public Fwd<Saved> forward(float[] h, int B, int T, boolean keep) {
        float[] first = new float[B * c];                                  // first: (B, C) = h[:, 0, :]
        for (int b = 0; b < B; b++) System.arraycopy(h, b * T * c, first, b * c, c);
        var d = dense.forward(first, B, keep);
        float[] y = d.out();
        for (int i = 0; i < y.length; i++) y[i] = (float) Math.tanh(y[i]);
        return new Fwd<>(y, keep ? new Saved(d.saved(), y, B, T) : null);
    }

    /** Differentiates the forward; returns dH (B, T, C), nonzero only at t = 0. */
    public float[] backward(float[] dPooled, Saved s) {
        float[] dPre = new float[dPooled.length];
        // forward was: y = tanh(pre), so dPre = dy·(1 − y²)
        for (int i = 0; i < dPre.length; i++) dPre[i] = dPooled[i] * (1f - s.pooled()[i] * s.pooled()[i]);
        float[] dFirst = dense.backward(dPre, s.dense(), true);
        float[] dH = new float[s.b() * s.t() * c];
        for (int b = 0; b < s.b(); b++) System.arraycopy(dFirst, b * c, dH, b * s.t() * c, c);
        return dH;
    }
}

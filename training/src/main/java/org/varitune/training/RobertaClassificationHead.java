package org.varitune.training;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/**
 * HF {@code RobertaClassificationHead}, with a configurable pooling:
 * <pre>
 *   p      = pooling(h)                                       // (B, C); HF: h[:, 0] (&lt;s&gt;)
 *   a      = tanh(classifier.dense(dropout₁(p)))
 *   logits = classifier.out_proj(dropout₂(a))                 // (B, K)
 * </pre>
 * Parameters {@code classifier.dense.{weight,bias}} and {@code classifier.out_proj.{weight,bias}}. Both dropouts are
 * {@code hidden_dropout_prob} (HF's {@code classifier_dropout} when set), with independent masks.
 */
public final class RobertaClassificationHead implements ClassificationHead {
    private final Pooling pooling;
    private final Linear dense, outProj;
    private final Dropout dropout1, dropout2;
    private final int hidden, numLabels;

    /** Saved for backward. */
    public record Saved(Pooling.Saved pool, Dropout.Mask mask1, Linear.Saved dense, float[] a, Dropout.Mask mask2,
                        Linear.Saved outProj) implements ClassificationHead.Saved {}   // a: (B, C) after tanh

    public RobertaClassificationHead(Kernels kernels, int hidden, int numLabels, double dropoutProb, Pooling pooling) {
        this.pooling = pooling;
        this.hidden = hidden;
        this.numLabels = numLabels;
        this.dense = new Linear(kernels, "classifier.dense", hidden, hidden);
        this.outProj = new Linear(kernels, "classifier.out_proj", hidden, numLabels);
        this.dropout1 = new Dropout(dropoutProb, Dropout.site(Dropout.HEAD_LAYER, Dropout.HEAD_FIRST));
        this.dropout2 = new Dropout(dropoutProb, Dropout.site(Dropout.HEAD_LAYER, Dropout.HEAD_SECOND));
    }

    @Override public int numLabels() { return numLabels; }
    @Override public int hiddenSize() { return hidden; }
    @Override public Pooling pooling() { return pooling; }

    /** The head's dropout probability (HF {@code classifier_dropout}, else {@code hidden_dropout_prob}). */
    public float dropoutProb() { return dropout1.p(); }

    @Override
    public List<Parameter> parameters() {
        return List.of(dense.weight(), dense.bias(), outProj.weight(), outProj.bias());
    }

    @Override
    public Fwd<ClassificationHead.Saved> forward(float[] h, int[] attentionMask, int[] specialTokensMask, int B, int T,
                                                 DropoutContext drop, boolean keep) {
        var p = pooling.forward(h, attentionMask, specialTokensMask, B, T, hidden);   // p: (B, C), a new array
        float[] x = p.out();
        Dropout.Mask m1 = dropout1.forwardInPlace(x, B * hidden, drop);   // x = dropout₁(p), in place
        var d = dense.forward(x, B, keep);
        float[] a = d.out();                                               // a: (B, C) = tanh(dense(x))
        for (int i = 0; i < a.length; i++) a[i] = (float) Math.tanh(a[i]);
        float[] y = a;
        Dropout.Mask m2 = dropout2.mask(drop, B * hidden);
        if (m2 != null) {
            y = new float[B * hidden];                                     // y: (B, C) = dropout₂(a)
            Dropout.apply(y, a, m2);
        }
        var logits = outProj.forward(y, B, keep);                          // logits: (B, K)
        return new Fwd<>(logits.out(), keep ? new Saved(p.saved(), m1, d.saved(), a, m2, logits.saved()) : null);
    }

    @Override
    public float[] backward(float[] dLogits, ClassificationHead.Saved saved) {
        if (!(saved instanceof Saved s)) throw new IllegalArgumentException("not a RobertaClassificationHead trace: " + saved);
        // forward was: logits = out_proj(dropout₂(a))
        float[] dA = outProj.backward(dLogits, s.outProj(), true);
        Dropout.applyInPlace(dA, s.mask2());
        // forward was: a = tanh(pre), so dPre = dA·(1 − a²)
        float[] a = s.a();
        for (int i = 0; i < dA.length; i++) dA[i] *= 1f - a[i] * a[i];
        // forward was: pre = dense(dropout₁(p))
        float[] dX = dense.backward(dA, s.dense(), true);
        Dropout.applyInPlace(dX, s.mask1());
        // forward was: p = pooling(h)
        return pooling.backward(dX, s.pool());
    }
}

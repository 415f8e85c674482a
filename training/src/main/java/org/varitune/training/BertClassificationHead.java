package org.varitune.training;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;

/**
 * HF {@code BertForSequenceClassification}'s head, with a configurable pooling:
 * <pre>
 *   p      = pooling(h)                       // (B, C); HF: h[:, 0]
 *   pooled = tanh(pooler.dense(p))            // BertPooler
 *   logits = classifier(dropout(pooled))      // (B, K)
 * </pre>
 * Parameters {@code pooler.dense.{weight,bias}} (the encoder checkpoint's {@code bert.pooler}, see
 * {@link #copyFromEncoder}) and {@code classifier.{weight,bias}}. The dropout is {@code hidden_dropout_prob}
 * (HF's {@code classifier_dropout} when set).
 */
public final class BertClassificationHead implements ClassificationHead {
    private final Pooling pooling;
    private final Linear pooler, classifier;
    private final Dropout dropout;
    private final int hidden, numLabels;

    /** Saved for backward. */
    public record Saved(Pooling.Saved pool, Linear.Saved pooler, float[] pooled, Dropout.Mask mask,
                        Linear.Saved classifier) implements ClassificationHead.Saved {}   // pooled: (B, C) after tanh

    /**
     * @param dropoutProb HF {@code classifier_dropout}, else {@code hidden_dropout_prob}
     */
    public BertClassificationHead(Kernels kernels, int hidden, int numLabels, double dropoutProb, Pooling pooling) {
        this.pooling = pooling;
        this.hidden = hidden;
        this.numLabels = numLabels;
        this.pooler = new Linear(kernels, "pooler.dense", hidden, hidden);
        this.classifier = new Linear(kernels, "classifier", hidden, numLabels);
        this.dropout = new Dropout(dropoutProb, Dropout.site(Dropout.HEAD_LAYER, Dropout.HEAD_SECOND));
    }

    @Override public int numLabels() { return numLabels; }
    @Override public int hiddenSize() { return hidden; }
    @Override public Pooling pooling() { return pooling; }

    /** The head's dropout probability (HF {@code classifier_dropout}, else {@code hidden_dropout_prob}). */
    public float dropoutProb() { return dropout.p(); }

    @Override
    public List<Parameter> parameters() {
        return List.of(pooler.weight(), pooler.bias(), classifier.weight(), classifier.bias());
    }

    @Override
    public Fwd<ClassificationHead.Saved> forward(float[] h, int[] attentionMask, int[] specialTokensMask, int B, int T,
                                                 DropoutContext drop, boolean keep) {
        var p = pooling.forward(h, attentionMask, specialTokensMask, B, T, hidden);   // p: (B, C)
        var d = pooler.forward(p.out(), B, keep);
        float[] pooled = d.out();                                          // pooled: (B, C) = tanh(dense(p))
        for (int i = 0; i < pooled.length; i++) pooled[i] = (float) Math.tanh(pooled[i]);
        float[] x = pooled;
        Dropout.Mask mask = dropout.mask(drop, B * hidden);
        if (mask != null) {
            x = new float[B * hidden];                                     // x: (B, C) = dropout(pooled)
            Dropout.apply(x, pooled, mask);
        }
        var logits = classifier.forward(x, B, keep);                       // logits: (B, K)
        return new Fwd<>(logits.out(), keep ? new Saved(p.saved(), d.saved(), pooled, mask, logits.saved()) : null);
    }

    @Override
    public float[] backward(float[] dLogits, ClassificationHead.Saved saved) {
        if (!(saved instanceof Saved s)) throw new IllegalArgumentException("not a BertClassificationHead trace: " + saved);
        // forward was: logits = classifier(dropout(pooled))
        float[] dPooled = classifier.backward(dLogits, s.classifier(), true);
        Dropout.applyInPlace(dPooled, s.mask());
        // forward was: pooled = tanh(pre), so dPre = dPooled·(1 − pooled²)
        float[] pooled = s.pooled();
        for (int i = 0; i < dPooled.length; i++) dPooled[i] *= 1f - pooled[i] * pooled[i];
        // forward was: pre = pooler.dense(p)
        float[] dP = pooler.backward(dPooled, s.pooler(), true);
        // forward was: p = pooling(h)
        return pooling.backward(dP, s.pool());
    }
}

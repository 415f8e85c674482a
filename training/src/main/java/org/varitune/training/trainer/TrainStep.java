package org.varitune.training.trainer;

import org.varitune.training.CrossEntropyLoss;
import org.varitune.training.MseLoss;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tokenize.Batch;

/**
 * Forward and backward of one micro-batch of a {@link TokenizedDataset}, through the path the prefix policy chose:
 * <ul>
 *   <li>{@code fromLayer == 0}: the whole model from the token ids, dropout per the context everywhere (FULL, or
 *       {@link PrefixCachePolicy#AUTHORS_DROPOUT});</li>
 *   <li>{@code fromLayer >= 1} with a cache: hidden state {@code fromLayer} gathered from the {@link PrefixCache},
 *       then layers fromLayer+1..l and the head in training mode;</li>
 *   <li>{@code fromLayer >= 1} without a cache: the same, with hidden state {@code fromLayer} recomputed by an
 *       evaluation-mode forward ({@link PrefixCachePolicy#RECOMPUTE}).</li>
 * </ul>
 * The loss is cross-entropy (classification) or MSE on the single output (regression), a mean over the micro-batch.
 */
public final class TrainStep {
    private final SequenceClassifier model;
    private final TokenizedDataset data;
    private final int fromLayer;
    private final PrefixCache cache;

    /**
     * @param fromLayer 0..headLayer; layers at or below it must be frozen when &gt; 0
     * @param cache     the training set's cache of hidden state {@code fromLayer}, or null
     */
    public TrainStep(SequenceClassifier model, TokenizedDataset data, int fromLayer, PrefixCache cache) {
        if (fromLayer < 0 || fromLayer > model.headLayer()) {
            throw new IllegalArgumentException("fromLayer " + fromLayer + " outside [0, " + model.headLayer() + "]");
        }
        if (cache != null && cache.layer() != fromLayer) {
            throw new IllegalArgumentException("prefix cache holds layer " + cache.layer() + ", not " + fromLayer);
        }
        this.model = model;
        this.data = data;
        this.fromLayer = fromLayer;
        this.cache = cache;
    }

    /**
     * Forward and backward of rows {@code idx}, accumulating {@code weight·∂loss/∂θ} into the trainable parameters'
     * grads (for an update of several micro-batches, weight = rows / rows of the update). Returns the micro-batch's
     * mean loss (unweighted); when it is not finite, nothing is accumulated.
     */
    public double run(int[] idx, DropoutContext drop, double weight) {
        Batch b = data.batch(idx);
        int B = b.B(), T = b.T();
        SequenceClassifier.Trace trace;
        if (fromLayer == 0) {
            trace = model.forwardTrain(b, drop);
        } else {
            float[] h = cache != null ? cache.gather(idx, T) : model.encoder().forward(b, fromLayer).last(); // (B, T, C)
            trace = model.forwardTrainFrom(h, b.attentionMask(), b.specialTokensMask(), B, T, fromLayer, drop);
        }
        float[] dLogits;
        double loss;
        if (data.regression()) {
            MseLoss.Output out = MseLoss.forward(trace.logits(), data.scoresOf(idx), B);
            loss = out.loss();
            if (!Double.isFinite(loss)) return loss;
            dLogits = MseLoss.backward(weight, out);
        } else {
            CrossEntropyLoss.Output out = CrossEntropyLoss.forward(trace.logits(), data.labelsOf(idx), B, data.numLabels());
            loss = out.loss();
            if (!Double.isFinite(loss)) return loss;
            dLogits = CrossEntropyLoss.backward(weight, out);
        }
        model.backward(trace, dLogits);
        return loss;
    }
}

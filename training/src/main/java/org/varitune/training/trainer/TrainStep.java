package org.varitune.training.trainer;

import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.CrossEntropyLoss;
import org.varitune.training.LayerPlan;
import org.varitune.training.MseLoss;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tokenize.Batch;

/**
 * Forward and backward of one micro-batch of a {@link TokenizedDataset}, through the path the {@link LayerPlan} chose,
 * with s = {@link LayerPlan#prefixEnd()}:
 * <ul>
 *   <li>s = 0: the whole model from the token ids, dropout per the context everywhere (FULL, a tuned block starting
 *       at layer 1, or {@link PrefixCachePolicy#AUTHORS_DROPOUT});</li>
 *   <li>s &gt;= 1 with a cache ({@link LayerPlan#cachesPrefix()}): hidden state s gathered from the
 *       {@link PrefixCache}, then layers s+1..l and the head in training mode;</li>
 *   <li>s &gt;= 1 without a cache: the same, with hidden state s recomputed by an evaluation-mode forward
 *       ({@link PrefixCachePolicy#RECOMPUTE}).</li>
 * </ul>
 * The loss is cross-entropy (classification) or MSE on the single output (regression), a mean over the micro-batch.
 */
public final class TrainStep {
    private final SequenceClassifier model;
    private final TokenizedDataset data;
    private final int fromLayer;                // s, the plan's prefix end
    private final PrefixCache cache;

    /**
     * @param plan  the run's layers; the model's head must be on its head layer
     * @param cache the training set's cache of hidden state {@link LayerPlan#prefixEnd()} when the plan caches the
     *              prefix, else null
     */
    public TrainStep(SequenceClassifier model, TokenizedDataset data, LayerPlan plan, PrefixCache cache) {
        int fromLayer = plan.prefixEnd();
        if (model.headLayer() != plan.headLayer()) {
            throw new IllegalArgumentException("the model's head is on layer " + model.headLayer() + ", the plan's on "
                    + plan.headLayer());
        }
        if ((cache != null) != plan.cachesPrefix() || cache != null && cache.layer() != fromLayer) {
            throw new IllegalArgumentException("the plan " + (plan.cachesPrefix() ? "caches hidden state " + fromLayer
                    : "caches no prefix") + " but the cache given " + (cache == null ? "is none" : "holds layer " + cache.layer()));
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
        try (var step = org.varitune.transformer.layers.StepActivations.open()) {   // activations reused step to step
            return forwardBackward(idx, drop, weight);
        }
    }

    private double forwardBackward(int[] idx, DropoutContext drop, double weight) {
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

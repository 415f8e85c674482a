package org.varitune.training.trainer;

import org.varitune.training.ClassificationHead;
import org.varitune.training.FreezePolicy;
import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.method.TuningMethod;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.model.Encoder;

import java.util.Random;

/** Builds the model a {@link TrainConfig} describes on a pretrained encoder. */
public final class Classifiers {
    /** HF {@code initializer_range} of BERT and RoBERTa: the head's weights ~ N(0, 0.02²). */
    public static final double INITIALIZER_RANGE = 0.02;

    private Classifiers() {}

    /**
     * The classifier of {@code plan} and {@code config}: the method's modules ({@link TuningMethods#of}: adapters, LoRA)
     * inserted into the plan's tuned layers,
     * then the encoder family's head ({@link ClassificationHead#of}) on the plan's head layer l, initialised from {@code new Random(initSeed)}
     * (adapters first, bottom layer first, attention site before the FFN site, then the head, HF's N(0, 0.02²) weights and zero biases), BERT's {@code pooler.dense} copied from the encoder when it
     * holds one; then the plan's freezing applied ({@link FreezePolicy#of(LayerPlan)}). Modifies the encoder
     * (adapters, trainable flags), so build once per encoder.
     *
     * @param encoder   holds at least layers 1..l (loaded with {@code keepLayers = plan.headLayer()} or whole)
     * @param numLabels classes, or 1 for regression
     */
    public static SequenceClassifier build(Encoder encoder, TrainConfig config, LayerPlan plan, int numLabels) {
        if (encoder.numLayers() < plan.headLayer() || encoder.numLayers() > plan.numLayers()) {
            throw new IllegalArgumentException("the plan (head on layer " + plan.headLayer() + " of " + plan.numLayers()
                    + ") does not fit the encoder's " + encoder.numLayers() + " loaded layers");
        }
        TuningMethod method = TuningMethods.of(config);
        FreezePolicy policy = FreezePolicy.of(plan, method);
        Random rng = new Random(config.initSeed());
        method.insert(encoder, plan, rng);
        ClassificationHead head = ClassificationHead.of(encoder, numLabels, config.headPooling());
        head.initialize(rng, INITIALIZER_RANGE);
        head.copyFromEncoder(encoder);
        SequenceClassifier model = new SequenceClassifier(encoder, head, plan.headLayer());
        policy.apply(model);
        return model;
    }
}

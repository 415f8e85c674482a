package org.varitune.training.trainer;

import org.varitune.training.ClassificationHead;
import org.varitune.training.FreezePolicy;
import org.varitune.training.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.model.Encoder;

import java.util.Random;

/** Builds the model a {@link TrainConfig} describes on a pretrained encoder. */
public final class Classifiers {
    /** HF {@code initializer_range} of BERT and RoBERTa: the head's weights ~ N(0, 0.02²). */
    public static final double INITIALIZER_RANGE = 0.02;

    private Classifiers() {}

    /** The freezing policy of a config. */
    public static FreezePolicy policy(TrainConfig c) {
        return FreezePolicy.of(c.mode(), c.headLayer(), c.tuneLayers(), c.tuneLastLayer());
    }

    /**
     * The classifier of {@code config}: adapters inserted into the tuned layers at the config's sites (ADAPTERS),
     * then the encoder family's head ({@link ClassificationHead#of}) on layer l, initialised from {@code new Random(initSeed)}
     * (adapters first, bottom layer first, attention site before the FFN site, then the head, HF's N(0, 0.02²) weights and zero biases), BERT's {@code pooler.dense} copied from the encoder when it
     * holds one; then the freezing applied. Modifies the encoder (adapters, trainable flags), so build once per
     * encoder.
     *
     * @param numLabels classes, or 1 for regression
     */
    public static SequenceClassifier build(Encoder encoder, TrainConfig config, int numLabels) {
        FreezePolicy policy = policy(config);
        int L = encoder.numLayers();
        int l = policy.headLayer(L);
        policy.tunedLayers(L);                                            // validates k against l
        Random rng = new Random(config.initSeed());
        policy.insertAdapters(encoder, config.attentionAdapter(), config.outputAdapter(), config.adapterActivation(), rng);
        ClassificationHead head = ClassificationHead.of(encoder, numLabels, new Pooling(config.headPooling()));
        head.initialize(rng, INITIALIZER_RANGE);
        head.copyFromEncoder(encoder);
        SequenceClassifier model = new SequenceClassifier(encoder, head, l);
        policy.apply(model);
        return model;
    }
}

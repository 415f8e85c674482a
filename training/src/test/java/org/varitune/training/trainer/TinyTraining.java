package org.varitune.training.trainer;

import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny training setup, identical in every JVM: TinyModels' 3-layer BERT (hidden 16, vocab 50) with seeded random
 * weights, and a synthetic 3-class task whose class is marked by a few class-specific token ids among fillers.
 */
final class TinyTraining {
    private TinyTraining() {}

    static final int CLASSES = 3;
    static final int CLS = 2, SEP = 3;

    /** The tiny BERT config, with the given dropout (TinyModels' default is 0.1). */
    static EncoderConfig config(double dropout) {
        EncoderConfig c = TinyModels.bert();
        return new EncoderConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.intermediateSize(), c.hiddenAct(), c.layerNormEps(), c.maxPositionEmbeddings(),
                c.typeVocabSize(), c.padTokenId(), dropout, dropout);
    }

    static Encoder encoder(double dropout) {
        return TinyModels.random(config(dropout), Kernels.fromSystemProperty(), false, new Random(11));
    }

    /** n examples of length 4..14: [CLS] fillers with 1–2 markers of the class [SEP]. */
    static TokenizedDataset data(String name, int n, long seed) {
        Random r = new Random(seed);
        List<TokenizedDataset.Row> rows = new ArrayList<>();
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int y = r.nextInt(CLASSES), len = 4 + r.nextInt(11);
            int[] ids = new int[len];
            ids[0] = CLS;
            ids[len - 1] = SEP;
            for (int t = 1; t < len - 1; t++) ids[t] = 20 + r.nextInt(30);
            int markers = 1 + r.nextInt(2);
            for (int m = 0; m < markers; m++) ids[1 + r.nextInt(len - 2)] = 5 + 5 * y + r.nextInt(5);
            int[] special = new int[len];
            special[0] = 1;
            special[len - 1] = 1;
            rows.add(new TokenizedDataset.Row(ids, new int[len], special));
            labels[i] = y;
        }
        return TokenizedDataset.classification(name, rows, labels, CLASSES, 0);
    }

    static TokenizedDataset train() { return data("train", 48, 5); }

    static TokenizedDataset dev() { return data("dev", 24, 6); }

    /** A trainer over a fresh model (dropout 0.1) built from {@code c}. */
    static Trainer trainer(TrainConfig c, Path runDir, TrainListener listener) {
        return trainer(c, runDir, listener, 0.1);
    }

    static Trainer trainer(TrainConfig c, Path runDir, TrainListener listener, double dropout) {
        SequenceClassifier m = Classifiers.build(encoder(dropout), c, c.layerPlan(3), CLASSES);
        return new Trainer(c, c.layerPlan(3), m, train(), List.of(dev()), "synthetic", "accuracy", runDir, Map.of("model", "tiny"),
                listener);
    }

    /** Model of a trainer (through the finish hook). */
    static Map<String, float[]> snapshot(SequenceClassifier m) {
        Map<String, float[]> s = new HashMap<>();
        for (Parameter p : m.parameters()) s.put(p.name(), p.data().clone());
        return s;
    }

    /** The config the resume test runs in both processes. */
    static TrainConfig resumeConfig() {
        return TrainConfig.builder().mode(org.varitune.training.TuningMode.PARTIAL).headLayer(3).tuneLayers(2)
                .epochs(3).batchSize(4).lr(1e-3).checkpointEverySteps(1).loadBestAtEnd(false).build();
    }
}

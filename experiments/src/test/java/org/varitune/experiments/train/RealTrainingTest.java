package org.varitune.experiments.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.cli.ModelSpec;
import org.varitune.experiments.cli.TokenizedSplits;
import org.varitune.experiments.data.BuiltinTasks;
import org.varitune.experiments.data.TaskData;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.LayerPlan;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.Classifiers;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.training.trainer.TrainResult;
import org.varitune.training.trainer.Trainer;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short real run: all-MiniLM-L6-v2, guided partial tuning (head on layer 3, layer 3 tuned, layers 1–2 cached), one
 * epoch over 400 WordNet supersense definitions (8 balanced classes: the majority class is 12.5%), evaluated on 200.
 * Observed dev accuracy 0.77 (about 5 s with the fast kernels, about 90 s with the scalar ones on 2 busy cores).
 *
 * <p>The head pools the mean of the text tokens: this sentence-transformer's [CLS] state is the same for every input
 * below the top layer (variance across inputs 3e-7 at layer 3, against 0.12 for a text token), so first-token
 * pooling stays at chance there.
 */
class RealTrainingTest {
    /** Four times the majority class; observed 0.77. */
    static final double MIN_ACCURACY = 0.5;

    @TempDir Path tmp;

    @Test
    void partialTuningOfMiniLmBeatsTheMajorityClassOnWordNetSupersenses() throws Exception {
        Path dir = ModelSpec.directory("all-MiniLM-L6-v2");
        Tokenizer tok = Tokenizers.load(dir);
        TaskData data = TaskData.builtin(BuiltinTasks.SUPERSENSE, new BuiltinTasks.Sizes(50, 25, 0));
        TrainConfig c = TrainConfig.builder().mode(TuningMode.PARTIAL).headLayer(3).tuneLayers(1).epochs(1)
                .batchSize(16).lr(1e-3).maxLength(32).headPooling(Pooling.MEAN_NON_SPECIAL).build();
        TokenizedDataset train = TokenizedSplits.of(data.train(), "train", tok, c.maxLength());
        TokenizedDataset dev = TokenizedSplits.of(data.dev(), "dev", tok, c.maxLength());
        LayerPlan plan = c.layerPlan(EncoderConfig.read(dir).numHiddenLayers());
        Encoder enc = Encoder.load(dir, Kernels.fromSystemProperty(), plan.headLayer());
        Trainer t = new Trainer(c, plan, Classifiers.build(enc, c, plan, data.numLabels()), train, List.of(dev),
                data.name(), data.mainMetric(), tmp, null, null);
        assertTrue(plan.cachesPrefix(), "layers 1-2 are frozen: their output is cached");
        TrainResult r = t.run();
        double acc = r.epochs().get(0).mainDev().get("accuracy");
        assertTrue(acc > MIN_ACCURACY, "dev accuracy " + acc + " (majority class 0.125)");
    }
}

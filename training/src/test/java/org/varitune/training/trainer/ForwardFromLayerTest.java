package org.varitune.training.trainer;

import org.junit.jupiter.api.Test;
import org.varitune.training.FreezePolicy;
import org.varitune.training.Plans;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.tokenize.Batch;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Starting a training forward from a frozen layer's hidden state is the full forward with that prefix in eval mode. */
class ForwardFromLayerTest extends TestBase {
    private static Map<String, float[]> grads(SequenceClassifier m) {
        Map<String, float[]> g = new HashMap<>();
        for (Parameter p : m.parameters()) if (p.trainable()) g.put(p.name(), p.grad().clone());
        return g;
    }

    @Test
    void forwardFromAFrozenLayerGivesTheFullForwardsLogitsAndGradients() {
        TrainConfig c = TrainConfig.builder().mode(TuningMode.PARTIAL).headLayer(3).tuneLayers(1).build();
        SequenceClassifier m = Classifiers.build(TinyTraining.encoder(0.0), c, c.layerPlan(3), TinyTraining.CLASSES);
        TokenizedDataset d = TinyTraining.train();
        int[] idx = {0, 5, 9, 11};
        Batch b = d.batch(idx);
        DropoutContext drop = DropoutContext.training(3, 1);               // dropout p = 0: masks are inactive
        m.zeroGrad();
        var full = m.forwardTrain(b, drop);
        m.backward(full, full.logits().clone());
        Map<String, float[]> g1 = grads(m);
        m.zeroGrad();
        float[] h2 = m.encoder().forward(b, 2).last();
        var from = m.forwardTrainFrom(h2, b.attentionMask(), b.specialTokensMask(), b.B(), b.T(), 2, drop);
        assertArrayEquals(full.logits(), from.logits(), "logits");
        m.backward(from, from.logits().clone());
        Map<String, float[]> g2 = grads(m);
        assertTrue(g1.keySet().stream().anyMatch(n -> n.startsWith("encoder.layer.2.")));
        for (String n : g1.keySet()) assertArrayEquals(g1.get(n), g2.get(n), "grad of " + n);
        assertArrayEquals(m.logits(b), m.logitsFrom(h2, b.attentionMask(), b.specialTokensMask(), b.B(), b.T(), 2),
                "inference from layer 2");
    }

    @Test
    void backwardOfAForwardFromALayerThatTrainsIsAnError() {
        TrainConfig c = TrainConfig.builder().mode(TuningMode.PARTIAL).headLayer(3).tuneLayers(2).build();
        SequenceClassifier m = Classifiers.build(TinyTraining.encoder(0.0), c, c.layerPlan(3), TinyTraining.CLASSES);
        Batch b = TinyTraining.train().batch(new int[] {1, 2});
        float[] h2 = m.encoder().forward(b, 2).last();
        var from = m.forwardTrainFrom(h2, b.attentionMask(), b.specialTokensMask(), b.B(), b.T(), 2, DropoutContext.OFF);
        var e = assertThrows(IllegalStateException.class, () -> m.backward(from, from.logits().clone()));
        assertTrue(e.getMessage().contains("layer 2 is trainable"), e.getMessage());
        FreezePolicy.of(Plans.of(3, TuningMode.PARTIAL, 3, 1)).apply(m);  // now layers 1..2 are frozen: fine
        m.backward(from, from.logits().clone());
    }
}

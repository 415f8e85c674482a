package org.varitune.training;

import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** k micro-batches with the loss scaled by 1/k accumulate the gradient of the whole batch. */
class GradientAccumulationTest extends TestBase {
    /**
     * Normalised per tensor (float summation order differs). Observed at most 2.0e-7 with OPENBLAS_CORETYPE unset or
     * SkylakeX and with the pure-Java GEMM; 3.0e-6 (layer 1 attention.output.adapter.down.weight) under
     * OPENBLAS_CORETYPE=Haswell.
     */
    static final double ACCUMULATION = 3e-5;

    private static final int T = 7;
    // 4 rows: the tiny batch's 3 rows and a copy of row 1 with another label
    private static final int[] IDS = {2, 17, 0, 17, 3, 42, 3, 2, 5, 5, 3, 9, 0, 0, 2, 11, 11, 0, 0, 0, 0, 2, 5, 5, 3, 9, 0, 0};
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0};
    private static final int[] LABELS = {0, 2, 1, 1};

    private static Map<String, float[]> grads(SequenceClassifier m) {
        Map<String, float[]> g = new HashMap<>();
        for (Parameter p : m.parameters()) g.put(p.name(), p.grad().clone());
        return g;
    }

    private static void microBatch(SequenceClassifier m, int from, int rows, double dLoss) {
        int[] ids = Arrays.copyOfRange(IDS, from * T, (from + rows) * T), mask = Arrays.copyOfRange(MASK, from * T, (from + rows) * T);
        var trace = m.forwardTrain(ids, null, mask, null, rows, T, DropoutContext.OFF);
        var ce = CrossEntropyLoss.forward(trace.logits(), Arrays.copyOfRange(LABELS, from, from + rows), rows, 3);
        m.backward(trace, CrossEntropyLoss.backward(dLoss, ce));
    }

    @Test
    void twoScaledMicroBatchesGiveTheGradientOfTheWholeBatch() {
        SequenceClassifier m = TinyClassifiers.model(false, Kernels.fromSystemProperty(), 3, Pooling.FIRST_TOKEN,
                true, rand);
        m.zeroGrad();
        microBatch(m, 0, 4, 1.0);
        Map<String, float[]> whole = grads(m);
        m.zeroGrad();
        microBatch(m, 0, 2, 0.5);
        microBatch(m, 2, 2, 0.5);
        for (Parameter p : m.parameters()) {
            if (p.name().endsWith("key.bias")) continue;                   // exactly 0 up to rounding
            AllClose.assertAllClose("accumulated " + p.name(), p.grad(), whole.get(p.name()), ACCUMULATION, p.shape());
        }
    }
}

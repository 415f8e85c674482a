package org.varitune.metrics.task;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Expected values computed with scikit-learn / scipy formulas by hand (see each comment). */
class TaskMetricsTest {
    static final double EXACT = 1e-12;

    @Test
    void accuracyCountsMatches() {
        assertEquals(0.6, TaskMetrics.accuracy(new int[] {1, 0, 2, 2, 1}, new int[] {1, 1, 2, 0, 1}), EXACT);
    }

    @Test
    void f1IsOfThePositiveClass() {
        // tp = 2 (idx 0, 4), fp = 1 (idx 2), fn = 1 (idx 1): F1 = 4 / (4 + 1 + 1)
        assertEquals(4.0 / 6.0, TaskMetrics.f1(new int[] {1, 0, 1, 0, 1}, new int[] {1, 1, 0, 0, 1}), EXACT);
        assertEquals(0.0, TaskMetrics.f1(new int[] {0, 0}, new int[] {0, 0}), EXACT);
    }

    @Test
    void matthewsMatchesTheBinaryClosedForm() {
        // binary: tp=2 tn=1 fp=1 fn=1 -> (tp·tn − fp·fn)/sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = 1/sqrt(3·3·2·2) = 1/6
        assertEquals(1.0 / 6.0, TaskMetrics.matthews(new int[] {1, 0, 1, 0, 1}, new int[] {1, 1, 0, 0, 1}), EXACT);
        assertEquals(0.0, TaskMetrics.matthews(new int[] {1, 1, 1}, new int[] {0, 1, 0}), EXACT, "constant predictions");
        assertEquals(1.0, TaskMetrics.matthews(new int[] {0, 2, 1}, new int[] {0, 2, 1}), EXACT);
    }

    @Test
    void correlationsHandleTiesAndScale() {
        double[] gold = {0.0, 1.0, 2.0, 3.0, 4.0};
        double[] pred = {0.5, 0.5, 2.5, 7.0, 9.0};
        // Spearman with average ranks: pred ranks 1.5,1.5,3,4,5 vs 1..5 -> rho = Pearson of the ranks = 0.9746794344808964 (numpy)
        assertEquals(0.9746794344808964, TaskMetrics.spearman(pred, gold), 1e-12);
        assertEquals(1.0, TaskMetrics.pearson(new double[] {2, 4, 6}, new double[] {1, 2, 3}), EXACT);
    }

    @Test
    void taskSelectsGlueMetrics() {
        var m = TaskMetrics.forTask("mrpc", new int[] {1, 0}, new int[] {1, 1}, null, null);
        assertEquals(0.5, m.get("accuracy"), EXACT);
        assertEquals(2.0 / 3.0, m.get("f1"), EXACT);
        var s = TaskMetrics.forTask("stsb", null, null, new double[] {1, 2, 3}, new double[] {1, 2, 4});
        assertEquals(1.0, s.get("spearman"), EXACT);
    }

    @Test
    void rejectsMismatchedLengths() {
        var e = assertThrows(IllegalArgumentException.class, () -> TaskMetrics.accuracy(new int[] {1}, new int[] {1, 0}));
        assertEquals("predictions have 1 entries but gold has 2", e.getMessage());
    }
}

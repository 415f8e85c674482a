package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskDataTest extends TestBase {

    @Test
    void glueMnliHasBothDevSetsAndATruncatedTrainSet() throws Exception {
        TaskData t = TaskData.glue(GlueTask.MNLI, GlueReaderTest.glueDir(), 2);
        assertEquals("mnli", t.name());
        assertEquals(2, t.train().size());
        assertEquals(List.of("dev_matched", "dev_mismatched"), t.devs().stream().map(Dataset::split).toList());
        assertEquals("dev_matched", t.dev().split());
        assertEquals(3, t.devs().get(1).size());
        assertNull(t.test());
        assertEquals("accuracy", t.mainMetric());
        assertEquals(3, t.numLabels());
        assertTrue(t.isPair());
    }

    @Test
    void glueStsbIsRegressionWithOneOutputAndPearsonAsMainMetric() throws Exception {
        TaskData t = TaskData.glue(GlueTask.STSB, GlueReaderTest.glueDir(), 0);
        assertTrue(t.isRegression());
        assertEquals(1, t.numLabels());
        assertEquals("pearson", t.mainMetric());
        assertEquals(List.of(), t.labelNames());
        assertArrayEquals(new int[] {4, 3, 2, 0}, TaskData.metricClasses(t.train()));
        assertEquals(5, TaskData.metricClassCount(t.train()));
    }

    @Test
    void builtinSupersenseHasTrainDevAndLabeledTest() {
        TaskData t = TaskData.builtin(BuiltinTasks.SUPERSENSE);
        assertEquals(2000, t.train().size());
        assertEquals(800, t.dev().size());
        assertEquals(800, t.test().size());
        assertEquals(8, t.numLabels());
        assertEquals("accuracy", t.mainMetric());
        assertArrayEquals(t.train().labels(), TaskData.metricClasses(t.train()));
        assertEquals(8, TaskData.metricClassCount(t.train()));
    }

    @Test
    void binScoresUsesEqualWidthBinsWithTheMaximumInTheLastBin() {
        assertArrayEquals(new int[] {0, 0, 1, 2, 3, 4, 4},
                TaskData.binScores(new double[] {0.0, 0.999, 1.0, 2.5, 3.2, 4.0, 5.0}, 0, 5, 5));
        assertArrayEquals(new int[] {0, 1, 1}, TaskData.binScores(new double[] {-1, 0, 1}, -1, 1, 2));
    }

    @Test
    void binScoresRejectsScoresOutsideTheRangeNamingTheIndex() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TaskData.binScores(new double[] {1.0, 5.5}, 0, 5, 5));
        assertTrue(e.getMessage().contains("score[1] = 5.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TaskData.binScores(new double[] {Double.NaN}, 0, 5, 5));
        assertThrows(IllegalArgumentException.class, () -> TaskData.binScores(new double[] {1}, 0, 5, 0));
    }

    @Test
    void rejectsDevSetsWhoseLabelsDifferFromTrain() throws Exception {
        Dataset rte = GlueReader.read(GlueTask.RTE, GlueReaderTest.glueDir(), "train", 0);
        Dataset wnli = GlueReader.read(GlueTask.WNLI, GlueReaderTest.glueDir(), "dev", 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TaskData("rte", rte, List.of(wnli), null, "accuracy"));
        assertTrue(e.getMessage().contains("WNLI/dev") && e.getMessage().contains("RTE/train"), e.getMessage());
    }

    @Test
    void datasetRejectsClassCountsForRegressionPointingToBinning() throws Exception {
        Dataset stsb = GlueReader.read(GlueTask.STSB, GlueReaderTest.glueDir(), "dev", 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, stsb::classCounts);
        assertTrue(e.getMessage().contains("binScores"), e.getMessage());
    }
}

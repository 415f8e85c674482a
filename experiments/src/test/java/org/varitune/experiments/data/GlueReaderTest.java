package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the fixtures under {@code src/test/resources/glue/}, one small file per GLUE task and split, in the exact formats. */
class GlueReaderTest extends TestBase {

    static Path glueDir() {
        try {
            return Path.of(GlueReaderTest.class.getResource("/glue/CoLA/train.tsv").toURI()).getParent().getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Dataset read(GlueTask task, String split) throws Exception {
        return GlueReader.read(task, glueDir(), split, 0);
    }

    private static List<String> texts(Dataset d, boolean b) {
        return d.examples().stream().map(e -> b ? e.textB() : e.textA()).toList();
    }

    @Test
    void readsColaWithoutHeaderByPosition() throws Exception {
        Dataset d = read(GlueTask.COLA, "train");
        assertEquals(5, d.size());
        assertEquals("The committee will meet again after the holidays.", d.examples().get(0).textA());
        assertEquals("Mary said \"go home\" to the children.", d.examples().get(2).textA());
        assertArrayEquals(new int[] {1, 0, 1, 0, 1}, d.labels());
        assertArrayEquals(new int[] {2, 3}, d.classCounts());
        assertEquals(1, d.examples().get(0).sourceLine(), "CoLA has no header: the first example is line 1");
        assertNull(d.examples().get(0).textB());
        assertEquals(List.of("0", "1"), d.labelNames());
        assertEquals(2, d.numLabels());
        assertEquals("cola", d.task());
        assertEquals("train", d.split());
        assertEquals(0, d.malformedLines());
        assertFalse(d.pair());
    }

    @Test
    void readsCrlfLinesAndALastLineWithoutNewline() throws Exception {
        Dataset d = read(GlueTask.COLA, "dev");
        assertEquals(List.of("The sailors watched the ship leave the harbour.",
                "The more we study verbs, the crazier they get get."), texts(d, false));
        assertArrayEquals(new int[] {1, 0}, d.labels());
        assertEquals(2, d.examples().get(1).sourceLine());
    }

    @Test
    void readsColaTestFileByHeaderWithoutLabels() throws Exception {
        Dataset d = read(GlueTask.COLA, "test");
        assertEquals(List.of("Bill whistled past the house.", "The car honked its way down the road."), texts(d, false));
        assertFalse(d.hasTargets());
        assertEquals(Example.NO_LABEL, d.examples().get(0).label());
        assertEquals(2, d.examples().get(0).sourceLine());
    }

    @Test
    void readsSst2KeepingQuotesAndTrailingSpacesAsText() throws Exception {
        Dataset d = read(GlueTask.SST2, "train");
        assertEquals(5, d.size());
        assertEquals("the \" thinking man 's \" action movie ", d.examples().get(2).textA());
        assertEquals("the plot is nothing but boilerplate clich\u00e9s ", d.examples().get(1).textA(), "UTF-8");
        assertEquals("\"", d.examples().get(4).textA(), "a lone quote is a one-character text");
        assertArrayEquals(new int[] {1, 0, 1, 0, 0}, d.labels());
        assertEquals(2, d.examples().get(0).sourceLine());
        Dataset dev = read(GlueTask.SST2, "dev");
        assertEquals("a \" ripping yarn \" that never quite delivers ", dev.examples().get(2).textA(), "CRLF stripped, space kept");
        assertArrayEquals(new int[] {1, 0, 0}, dev.labels());
    }

    @Test
    void readsMrpcWithLabelFirstAndByteOrderMark() throws Exception {
        Dataset d = read(GlueTask.MRPC, "train");
        assertEquals(3, d.size());
        Example e = d.examples().get(0);
        assertEquals("The chairman said \" the results speak for themselves \" , according to the statement .", e.textA());
        assertEquals("According to the statement , the chairman said the results \" speak for themselves \" .", e.textB());
        assertArrayEquals(new int[] {1, 0, 1}, d.labels());
        assertTrue(d.pair());
        Dataset dev = read(GlueTask.MRPC, "dev");
        assertEquals("\" The pie business does not fit our long-term strategy .", dev.examples().get(0).textB(),
                "an unbalanced quote does not swallow the next line");
        assertArrayEquals(new int[] {1, 0}, dev.labels());
    }

    @Test
    void countsAndReportsMalformedQqpLinesAndEmptyQuestions() throws Exception {
        Dataset d = read(GlueTask.QQP, "train");
        assertEquals(List.of(2, 3, 6, 8, 9), d.examples().stream().map(Example::sourceLine).toList());
        assertEquals(3, d.malformedLines());
        assertEquals(List.of(4, 5, 7), d.malformedSamples().stream().map(Dataset.LineIssue::line).toList());
        assertEquals("expected 6 tab-separated fields [id | qid1 | qid2 | question1 | question2 | is_duplicate], found 4",
                d.malformedSamples().get(0).reason());
        assertEquals(1, d.emptyTexts());
        assertEquals("How do I print \"\"Hello\"\" in C?", d.examples().get(3).textA(), "doubled quotes are text");
        assertEquals("", d.examples().get(3).textB());
        assertArrayEquals(new int[] {0, 1, 1, 0, 1}, d.labels());
        assertEquals(0, read(GlueTask.QQP, "dev").malformedLines());
    }

    @Test
    void readsStsbScoresByHeaderName() throws Exception {
        Dataset d = read(GlueTask.STSB, "train");
        assertTrue(d.regression());
        assertEquals(1, d.numLabels());
        assertEquals(List.of(), d.labelNames());
        assertArrayEquals(new double[] {5.0, 3.8, 2.6, 0.0}, d.scores(), 0.0);
        assertEquals("\"It's a great idea,\" he said.", d.examples().get(2).textA());
        assertEquals("He said \"great idea\".", d.examples().get(2).textB());
        assertEquals(Example.NO_LABEL, d.examples().get(0).label());
        assertArrayEquals(new double[] {5.0, 4.75}, read(GlueTask.STSB, "dev").scores(), 0.0);
        Dataset test = read(GlueTask.STSB, "test");
        assertEquals("A girl is brushing her hair.", test.examples().get(0).textB());
        assertFalse(test.hasTargets());
    }

    @Test
    void readsMnliTrainAndBothDevSetsByHeaderName() throws Exception {
        Dataset train = read(GlueTask.MNLI, "train");
        assertEquals(List.of("contradiction", "entailment", "neutral"), train.labelNames());
        assertArrayEquals(new int[] {2, 1, 0}, train.labels());
        assertEquals("you know \"during the season\" i guess", train.examples().get(1).textA());
        assertEquals("I lose track of things during the season.", train.examples().get(1).textB());
        Dataset matched = read(GlueTask.MNLI, "dev_matched");
        assertArrayEquals(new int[] {2, 0}, matched.labels(), "gold_label, not label1");
        assertEquals("dev_matched", matched.split());
        Dataset mismatched = read(GlueTask.MNLI, "dev_mismatched");
        assertArrayEquals(new int[] {0, 1, 1}, mismatched.labels());
        assertArrayEquals(new int[] {1, 2, 0}, mismatched.classCounts());
        assertEquals("The answer is \"yes\".", mismatched.examples().get(1).textA());
    }

    @Test
    void readsQnliRteAndWnliInGlueLabelOrder() throws Exception {
        Dataset qnli = read(GlueTask.QNLI, "train");
        assertArrayEquals(new int[] {0, 1}, qnli.labels());
        assertEquals("When did the new constitution come into force?", qnli.examples().get(0).textA());
        assertEquals("The most important tributaries are the \"Ill\" and the Neckar.", qnli.examples().get(1).textB());
        assertArrayEquals(new int[] {0}, read(GlueTask.QNLI, "dev").labels());
        Dataset rte = read(GlueTask.RTE, "train");
        assertArrayEquals(new int[] {1, 0}, rte.labels());
        assertEquals("He said: \"The talks were useful.\"", read(GlueTask.RTE, "dev").examples().get(0).textA());
        Dataset wnli = read(GlueTask.WNLI, "train");
        assertArrayEquals(new int[] {1, 0}, wnli.labels());
        assertEquals("The carrot had a hole.", wnli.examples().get(0).textB());
        assertArrayEquals(new int[] {1}, read(GlueTask.WNLI, "dev").labels());
    }

    @Test
    void maxExamplesTakesTheFirstExamplesInFileOrder() throws Exception {
        Dataset d = GlueReader.read(GlueTask.QQP, glueDir(), "train", 3);
        assertEquals(List.of(2, 3, 6), d.examples().stream().map(Example::sourceLine).toList());
        assertEquals(2, d.malformedLines(), "only the lines read before stopping are counted");
        assertEquals(2, GlueReader.read(GlueTask.SST2, glueDir(), "dev", 2).size());
        assertEquals(3, GlueReader.read(GlueTask.SST2, glueDir(), "dev", 100).size());
    }

    @Test
    void everyTaskHasReadableTrainAndDevFixtures() throws Exception {
        for (GlueTask t : GlueTask.values()) {
            for (String split : t.labeledSplits()) {
                Dataset d = read(t, split);
                assertTrue(d.size() > 0, t + " " + split);
                assertTrue(d.hasTargets(), t + " " + split);
                assertEquals(t.isPair(), d.pair(), t + " " + split);
                assertEquals(t.numLabels(), d.numLabels(), t + " " + split);
                assertEquals(t.dirName(), d.name());
                assertTrue(d.source().endsWith(split + ".tsv"), d.source());
            }
        }
    }
}

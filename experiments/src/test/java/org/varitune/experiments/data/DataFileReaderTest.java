package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.data.DataFileOptions.Format;
import org.varitune.experiments.data.DataFileOptions.TaskType;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Users' own data files: the same task in every format, run_glue's column and label rules, label mapping. */
class DataFileReaderTest extends TestBase {
    @TempDir Path dir;

    /** A small sentence-pair task, by hand: {sentence1, sentence2, label} per example (train, then dev). */
    static final List<List<String>> TRAIN = List.of(
            List.of("Smith, the mayor, said \"no\".", "The mayor refused.", "entailment"),
            List.of("It's 5' 11\" tall.", "It is short.", "not_entailment"),
            List.of("\"Quoted\" start", "ends with \"quote\"", "entailment"),
            List.of("plain", "text, with comma", "not_entailment"));
    static final List<List<String>> DEV = List.of(
            List.of("A, B and C.", "Three letters.", "entailment"),
            List.of("x", "", "not_entailment"));

    static final String TRAIN_CSV = """
            index,sentence1,sentence2,label
            0,"Smith, the mayor, said ""no"".",The mayor refused.,entailment
            1,"It's 5' 11"" tall.",It is short.,not_entailment
            2,\"""Quoted"" start","ends with ""quote""\",entailment
            3,plain,"text, with comma",not_entailment
            """;
    static final String DEV_CSV = """
            index,sentence1,sentence2,label
            0,"A, B and C.",Three letters.,entailment
            1,x,,not_entailment
            """;
    static final String TRAIN_JSONL = """
            {"index": 0, "sentence1": "Smith, the mayor, said \\"no\\".", "sentence2": "The mayor refused.", "label": "entailment"}
            {"index": 1, "sentence1": "It's 5' 11\\" tall.", "sentence2": "It is short.", "label": "not_entailment"}
            {"index": 2, "sentence1": "\\"Quoted\\" start", "sentence2": "ends with \\"quote\\"", "label": "entailment"}
            {"index": 3, "sentence1": "plain", "sentence2": "text, with comma", "label": "not_entailment"}
            """;
    static final String DEV_JSONL = """
            {"index": 0, "sentence1": "A, B and C.", "sentence2": "Three letters.", "label": "entailment"}
            {"index": 1, "sentence1": "x", "sentence2": "", "label": "not_entailment"}
            """;
    /** The GLUE RTE layout: tab-separated, quotes are text. */
    static final String TRAIN_RTE = "index\tsentence1\tsentence2\tlabel\n"
            + "0\tSmith, the mayor, said \"no\".\tThe mayor refused.\tentailment\n"
            + "1\tIt's 5' 11\" tall.\tIt is short.\tnot_entailment\n"
            + "2\t\"Quoted\" start\tends with \"quote\"\tentailment\n"
            + "3\tplain\ttext, with comma\tnot_entailment\n";
    static final String DEV_RTE = "index\tsentence1\tsentence2\tlabel\n"
            + "0\tA, B and C.\tThree letters.\tentailment\n"
            + "1\tx\t\tnot_entailment\n";

    Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content, StandardCharsets.UTF_8);
        return f;
    }

    /** {textA, textB, label name} of each example. */
    static List<List<String>> rows(Dataset d) {
        List<List<String>> out = new ArrayList<>();
        for (Example e : d.examples()) {
            List<String> row = new ArrayList<>();
            row.add(e.textA());
            if (e.textB() != null) row.add(e.textB());
            row.add(e.hasTarget() ? (d.regression() ? Double.toString(e.score()) : d.labelNames().get(e.label())) : "-");
            out.add(row);
        }
        return out;
    }

    static List<Integer> lines(Dataset d) { return d.examples().stream().map(Example::sourceLine).toList(); }

    TaskData files(Path train, Path dev, Path test) throws IOException {
        return TaskData.files(train, dev, test, DataFileOptions.DEFAULTS, 0);
    }

    @Test
    void readsTheSameTaskFromCsvJsonLinesAndAGlueTaskFolderOfAnyName() throws Exception {
        TaskData csv = files(write("csv/train.csv", TRAIN_CSV), write("csv/dev.csv", DEV_CSV), null);
        TaskData jsonl = files(write("jsonl/train.jsonl", TRAIN_JSONL), write("jsonl/dev.jsonl", DEV_JSONL), null);
        write("my-entailment/train.tsv", TRAIN_RTE);
        write("my-entailment/dev.tsv", DEV_RTE);
        TaskData glue = TaskData.glue(GlueTask.RTE, dir.resolve("my-entailment"), 0);
        for (TaskData t : List.of(csv, jsonl, glue)) {
            assertEquals(TRAIN, rows(t.train()), t.train().source());
            assertEquals(DEV, rows(t.dev()), t.dev().source());
            assertEquals(List.of("entailment", "not_entailment"), t.labelNames(), "sorted, and GLUE's RTE order");
            assertArrayEquals(new int[] {0, 1, 0, 1}, t.train().labels());
            assertTrue(t.isPair());
            assertEquals("accuracy", t.mainMetric());
            assertEquals(t == jsonl ? List.of(1, 2, 3, 4) : List.of(2, 3, 4, 5), lines(t.train()), "one line per record");
            assertEquals(1, t.dev().emptyTexts());
            assertNull(t.test());
        }
        assertEquals("csv", csv.name(), "named after the folder of train.csv");
    }

    @Test
    void quotedCsvFieldsSpanLinesAndEachExampleNamesTheLineWhereItsRecordStarts() throws Exception {
        Path csv = write("nl/train.csv", "text,label\r\n\"first line\nsecond line\",b\r\n\"a\r\n\r\nc, d\",a\r\nsimple,b\r\n");
        Path jsonl = write("nl/train.jsonl", "{\"text\": \"first line\\nsecond line\", \"label\": \"b\"}\n"
                + "{\"text\": \"a\\r\\n\\r\\nc, d\", \"label\": \"a\"}\n{\"text\": \"simple\", \"label\": \"b\"}\n");
        Dataset fromCsv = files(csv, csv, null).train(), fromJsonl = files(jsonl, jsonl, null).train();
        List<List<String>> expected = List.of(List.of("first line\nsecond line", "b"), List.of("a\r\n\r\nc, d", "a"),
                List.of("simple", "b"));
        assertEquals(expected, rows(fromCsv));
        assertEquals(expected, rows(fromJsonl));
        assertEquals(List.of(2, 4, 7), lines(fromCsv));
        assertEquals(List.of(1, 2, 3), lines(fromJsonl));
        assertFalse(fromCsv.pair(), "one non-label column: a single-sentence task");
    }

    @Test
    void tsvFilesAreTabDelimitedWithCsvQuoting() throws Exception {
        Path f = write("t/train.tsv", "sentence\tlabel\n\"tab\there, \"\"quoted\"\"\"\tpos\nplain, with comma\tneg\n");
        Dataset d = files(f, f, null).train();
        assertEquals(List.of(List.of("tab\there, \"quoted\"", "pos"), List.of("plain, with comma", "neg")), rows(d));
        assertEquals(List.of("neg", "pos"), d.labelNames());
    }

    @Test
    void usesSentence1AndSentence2WhenBothExistWhereverTheyAre() throws Exception {
        Path f = write("c/train.csv", "idx,sentence2,label,title,sentence1\n0,second,x,T,first\n1,zwei,y,T,eins\n");
        Dataset d = files(f, f, null).train();
        assertEquals(List.of(List.of("first", "second", "x"), List.of("eins", "zwei", "y")), rows(d));
    }

    @Test
    void otherwiseUsesTheFirstTwoColumnsThatAreNotTheLabelEvenAnIndex() throws Exception {
        Path f = write("c/train.csv", "label,question,passage,extra\n1,Q1?,P1.,e\n0,Q2?,P2.,e\n");
        assertEquals(List.of(List.of("Q1?", "P1.", "1"), List.of("Q2?", "P2.", "0")), rows(files(f, f, null).train()));
        Path g = write("c/indexed.csv", "id,sentence1,label\n7,only one sentence1,a\n8,s,b\n");
        assertEquals(List.of(List.of("7", "only one sentence1", "a"), List.of("8", "s", "b")),
                rows(files(g, g, null).train()), "run_glue's rule: sentence1 without sentence2 is not special");
    }

    @Test
    void anExplicitTextColumnAloneMakesASingleSentenceTask() throws Exception {
        Path f = write("c/train.csv", "id,text,topic,category\n1,Hello there.,greeting,a\n2,Bye.,farewell,b\n");
        DataFileOptions single = new DataFileOptions("text", null, "category", TaskType.AUTO, null);
        Dataset d = TaskData.files(f, f, null, single, 0).train();
        assertEquals(List.of(List.of("Hello there.", "a"), List.of("Bye.", "b")), rows(d));
        DataFileOptions pair = new DataFileOptions("text", "topic", "category", TaskType.AUTO, null);
        assertEquals(List.of(List.of("Hello there.", "greeting", "a"), List.of("Bye.", "farewell", "b")),
                rows(TaskData.files(f, f, null, pair, 0).train()));
    }

    @Test
    void integerLabelsKeepTheirValuesAndAreSortedByValue() throws Exception {
        Path f = write("i/train.csv", "text,label\na,2\nb,0\nc,1\nd,0\n");
        TaskData t = files(f, f, null);
        assertEquals(List.of("0", "1", "2"), t.labelNames());
        assertArrayEquals(new int[] {2, 0, 1, 0}, t.train().labels());
        assertFalse(t.isRegression());
        Path g = write("i/sparse.csv", "text,label\na,10\nb,9\nc,+1\nd,10\n");
        TaskData s = files(g, g, null);
        assertEquals(List.of("1", "9", "10"), s.labelNames(), "by value, not as strings; '+1' is 1");
        assertArrayEquals(new int[] {2, 1, 0, 2}, s.train().labels());
        Path j = write("i/train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n");
        assertArrayEquals(new int[] {1, 0}, files(j, j, null).train().labels());
    }

    @Test
    void stringLabelsAreSortedByCodePointAsPythonSorts() throws Exception {
        Path f = write("s/train.csv", "text,label\na,spam\nb,ham\nc,Ham\nd,\u00e9t\u00e9\ne,10\nf,9\n");
        TaskData t = files(f, f, null);
        assertEquals(List.of("10", "9", "Ham", "ham", "spam", "\u00e9t\u00e9"), t.labelNames(),
                "any text makes the whole column strings");
        assertArrayEquals(new int[] {4, 3, 2, 5, 0, 1}, t.train().labels());
        Path j = write("s/train.jsonl", "{\"text\": \"a\", \"label\": \"1\"}\n{\"text\": \"b\", \"label\": \"0\"}\n"
                + "{\"text\": \"c\", \"label\": true}\n");
        assertEquals(List.of("0", "1", "true"), files(j, j, null).labelNames(), "JSON strings stay strings");
    }

    @Test
    void aFloatLabelMakesARegressionTaskMeasuredByPearson() throws Exception {
        Path f = write("r/train.csv", "sentence1,sentence2,label\na,b,0.5\nc,d,3\ne,f,4.25\ng,h,1e1\n");
        Path dev = write("r/dev.csv", "sentence1,sentence2,label\na,b,2\n");
        TaskData t = files(f, dev, null);
        assertTrue(t.isRegression());
        assertEquals(1, t.numLabels());
        assertEquals(List.of(), t.labelNames());
        assertEquals("pearson", t.mainMetric());
        assertArrayEquals(new double[] {0.5, 3.0, 4.25, 10.0}, t.train().scores(), 0.0);
        assertArrayEquals(new double[] {2.0}, t.dev().scores(), 0.0);
        // bins over the train scores' own range [0.5, 10]: width 1.9
        assertArrayEquals(new int[] {0, 1, 1, 4}, TaskData.metricClasses(t.train()));
        Path j = write("r/train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0.5}\n");
        assertArrayEquals(new double[] {1.0, 0.5}, files(j, j, null).train().scores(), 0.0);
    }

    @Test
    void anExplicitTaskTypeOverridesTheLabelsType() throws Exception {
        Path f = write("o/train.csv", "text,score\na,1\nb,0\nc,5\n");
        DataFileOptions regression = new DataFileOptions(null, null, "score", TaskType.REGRESSION, null);
        assertArrayEquals(new double[] {1, 0, 5}, TaskData.files(f, f, null, regression, 0).train().scores(), 0.0);
        Path g = write("o/floats.csv", "text,score\na,1.0\nb,0.5\nc,1\nd,0.50\n");
        DataFileOptions classes = new DataFileOptions(null, null, "score", TaskType.CLASSIFICATION, null);
        TaskData t = TaskData.files(g, g, null, classes, 0);
        assertEquals(List.of("0.5", "1"), t.labelNames(), "equal numbers are one class");
        assertArrayEquals(new int[] {1, 0, 1, 0}, t.train().labels());
    }

    @Test
    void devAndTestLabelsMapThroughTheTrainLabelListAndATestFileMayBeUnlabeled() throws Exception {
        Path train = write("m/train.csv", "text,label\na,spam\nb,ham\nc,eggs\n");
        Path dev = write("m/dev.csv", "text,label\nd,spam\ne,spam\n");
        Path test = write("m/test.csv", "text\nf\ng\n");
        TaskData t = files(train, dev, test);
        assertEquals(List.of("eggs", "ham", "spam"), t.dev().labelNames());
        assertArrayEquals(new int[] {2, 2}, t.dev().labels());
        assertFalse(t.test().hasTargets());
        assertEquals(List.of(List.of("f", "-"), List.of("g", "-")), rows(t.test()));
        assertEquals(Example.NO_LABEL, t.test().examples().get(0).label());
        Path labeledTest = write("m/test.jsonl", "{\"text\": \"h\", \"label\": \"ham\"}\n");
        assertArrayEquals(new int[] {1}, files(train, dev, labeledTest).test().labels(), "formats may differ per file");
        Path ints = write("m/ints.csv", "text,label\na,0\nb,1\n");
        Path intDev = write("m/intdev.csv", "text,label\nc,1.0\nd,0\n");
        assertArrayEquals(new int[] {1, 0}, files(ints, intDev, null).dev().labels(), "1.0 is the class 1");
    }

    @Test
    void maxTrainKeepsTheFirstExamplesButLabelsComeFromTheWholeFile() throws Exception {
        Path f = write("x/train.csv", "text,label\na,1\nb,1\nc,0\nd,2\n");
        TaskData t = TaskData.files(f, f, null, DataFileOptions.DEFAULTS, 2);
        assertEquals(2, t.train().size());
        assertEquals(List.of("0", "1", "2"), t.labelNames());
        assertArrayEquals(new int[] {1, 1}, t.train().labels());
        assertEquals(4, t.dev().size());
    }

    @Test
    void jsonNumbersAreTextsAsWrittenAndOtherKeysAreIgnored() throws Exception {
        Path f = write("n/train.jsonl", "{\"text\": 12.50, \"label\": \"a\"}\n"
                + "{\"label\": \"b\", \"text\": \"x\", \"meta\": {\"k\": [1, 2]}}\n");
        assertEquals(List.of(List.of("12.50", "a"), List.of("x", "b")), rows(files(f, f, null).train()));
    }

    @Test
    void aByteOrderMarkIsDroppedAndAnExplicitFormatOverridesTheExtension() throws Exception {
        Path f = write("b/train.txt", "\uFEFFtext,label\na,x\nb,y\n");
        DataFileOptions csv = new DataFileOptions(null, null, "label", TaskType.AUTO, Format.CSV);
        Dataset d = TaskData.files(f, f, null, csv, 0).train();
        assertEquals(List.of(List.of("a", "x"), List.of("b", "y")), rows(d));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> files(f, f, null));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(".jsonl"), e.getMessage());
    }

    @Test
    void theTaskIsNamedAfterTheTrainFileOrItsFolder() {
        assertEquals("spam", DataFileReader.taskName(Path.of("data", "spam", "train.csv")));
        assertEquals("reviews", DataFileReader.taskName(Path.of("data", "reviews.jsonl")));
    }

    @Test
    void optionsRejectAPairColumnWithoutTextColumnAndColumnsUsedTwice() {
        assertThrows(IllegalArgumentException.class, () -> new DataFileOptions(null, "b", "label", TaskType.AUTO, null));
        assertThrows(IllegalArgumentException.class, () -> new DataFileOptions("label", null, "label", TaskType.AUTO, null));
        assertThrows(IllegalArgumentException.class, () -> new DataFileOptions("a", "a", "label", TaskType.AUTO, null));
        assertThrows(IllegalArgumentException.class, () -> new DataFileOptions("a", null, "label", null, null));
    }
}

package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.data.DataFileOptions.TaskType;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per format error of users' data files: each names the file, the 1-based line and the column. */
class DataFileReaderErrorTest extends TestBase {
    @TempDir Path dir;

    private static final String GOOD_CSV = "text,label\na,x\nb,y\n";

    private Path write(String name, String content) throws IOException {
        return writeBytes(name, content.getBytes(StandardCharsets.UTF_8));
    }

    private Path writeBytes(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    private MalformedDataException fails(Path train, Path dev, Path test, DataFileOptions o) {
        return assertThrows(MalformedDataException.class, () -> TaskData.files(train, dev, test, o, 0));
    }

    /** Fails reading {@code bad} as the train file (and as the dev file, with a good train file: same message). */
    private MalformedDataException failsAsTrain(Path bad) {
        return fails(bad, bad, null, DataFileOptions.DEFAULTS);
    }

    private static void assertNames(MalformedDataException e, Path file, int line, String... parts) {
        assertEquals(file, e.file(), e.getMessage());
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        if (line > 0) assertTrue(e.getMessage().contains("line " + line), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }

    @Test
    void rejectsAMissingTextColumnListingTheHeader() throws IOException {
        Path f = write("a.csv", GOOD_CSV);
        DataFileOptions o = new DataFileOptions("sentence", null, "label", TaskType.AUTO, null);
        assertNames(fails(f, f, null, o), f, 1, "'sentence'", "[text | label]");
    }

    @Test
    void rejectsADevFileWithoutTheLabelOrTextColumn() throws IOException {
        Path train = write("train.csv", GOOD_CSV);
        Path dev = write("dev.csv", "text\na\n");
        assertNames(fails(train, dev, null, DataFileOptions.DEFAULTS), dev, 1, "'label'", "[text]");
        Path test = write("test.jsonl", "{\"sentence\": \"a\"}\n");
        assertNames(fails(train, train, test, DataFileOptions.DEFAULTS), test, 1, "'text'", "[sentence]");
    }

    @Test
    void rejectsATrainFileWithoutTheLabelColumnOrAnyTextColumn() throws IOException {
        Path f = write("nolabel.csv", "text,category\na,x\n");
        assertNames(failsAsTrain(f), f, 1, "no column 'label'", "[text | category]");
        Path g = write("onlylabel.csv", "label\nx\ny\n");
        assertNames(failsAsTrain(g), g, 1, "no text column", "'label'");
    }

    @Test
    void rejectsAJsonLineWithoutAColumnListingItsKeys() throws IOException {
        Path f = write("k.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"txt\": \"b\", \"label\": \"y\"}\n");
        assertNames(failsAsTrain(f), f, 2, "no column 'text'", "[txt | label]");
    }

    @Test
    void rejectsAnEmptyLabel() throws IOException {
        Path f = write("e.csv", "text,label\na,x\nb,\nc,y\n");
        assertNames(failsAsTrain(f), f, 3, "empty label", "'label'");
        Path j = write("e.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": null}\n");
        assertNames(failsAsTrain(j), j, 2, "empty label", "'label'");
        Path s = write("s.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"\"}\n");
        assertNames(failsAsTrain(s), s, 2, "empty label", "'label'");
    }

    @Test
    void rejectsANonNumericRegressionTarget() throws IOException {
        Path f = write("r.csv", "text,score\na,1.5\nb,high\n");
        DataFileOptions o = new DataFileOptions(null, null, "score", TaskType.REGRESSION, null);
        assertNames(fails(f, f, null, o), f, 3, "'high'", "'score'", "not a finite number");
        Path train = write("rt.csv", "text,score\na,1.5\nb,2\n");
        Path dev = write("rd.jsonl", "{\"text\": \"a\", \"score\": 1}\n{\"text\": \"b\", \"score\": true}\n");
        assertNames(fails(train, dev, null, new DataFileOptions(null, null, "score", TaskType.AUTO, null)), dev, 2,
                "'true'", "'score'");
        Path inf = write("inf.csv", "text,score\na,1.5\nb,1e999\n");
        assertNames(fails(inf, inf, null, o), inf, 3, "'1e999'", "not a finite number");
    }

    @Test
    void rejectsAWrongFieldCountNamingTheLineWhereTheRecordStarts() throws IOException {
        Path f = write("w.csv", "text,label\na,x\n\"multi\nline\",y,extra\n");
        assertNames(failsAsTrain(f), f, 3, "expected 2 comma-separated fields [text | label], found 3");
        Path blank = write("blank.csv", "text,label\na,x\n\nb,y\n");
        assertNames(failsAsTrain(blank), blank, 3, "expected 2", "found 1");
        Path tsv = write("w.tsv", "text\tlabel\na\tx\tz\n");
        assertNames(failsAsTrain(tsv), tsv, 2, "tab-separated", "found 3");
    }

    @Test
    void rejectsBrokenCsvQuotingNamingTheRecordsFirstLine() throws IOException {
        Path open = write("open.csv", "text,label\na,x\n\"never closed,y\nb,y\n");
        assertNames(failsAsTrain(open), open, 3, "malformed CSV", "EOF");
        Path after = write("after.csv", "text,label\na,x\n\"quoted\" then text,y\n");
        assertNames(failsAsTrain(after), after, 3, "malformed CSV");
        Path tsv = write("glue-style.tsv", "sentence\tlabel\na\t1\n\" ripping yarn \" that never\t0\n");
        assertNames(failsAsTrain(tsv), tsv, 3, "malformed TSV", "GLUE");
    }

    @Test
    void rejectsInvalidUtf8NamingTheRecordThatHoldsIt() throws IOException {
        byte[] bytes = "text,label\na,x\n\"two\nlines \u00ff\",y\n".getBytes(StandardCharsets.ISO_8859_1);
        Path f = writeBytes("latin1.csv", bytes);
        assertNames(failsAsTrain(f), f, 3, "not valid UTF-8");
        Path j = writeBytes("latin1.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"\u00ff\", \"label\": \"y\"}\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        assertNames(failsAsTrain(j), j, 2, "not valid UTF-8");
    }

    @Test
    void rejectsMalformedJsonAndLinesThatAreNotOneObject() throws IOException {
        String first = "{\"text\": \"a\", \"label\": \"x\"}\n";
        Path f = write("m.jsonl", first + first + "{\"text\": \"b\", \"label\": \"y\"\n");
        assertNames(failsAsTrain(f), f, 3, "malformed JSON");
        Path arr = write("arr.jsonl", first + "[\"b\", \"y\"]\n");
        assertNames(failsAsTrain(arr), arr, 2, "expected a JSON object, found an array");
        Path two = write("two.jsonl", first + "{\"text\": \"b\", \"label\": \"y\"} {\"text\": \"c\"}\n");
        assertNames(failsAsTrain(two), two, 2, "content after the JSON object");
        Path blank = write("blank.jsonl", first + "\n" + first);
        assertNames(failsAsTrain(blank), blank, 2, "blank line");
        Path dup = write("dup.jsonl", first + "{\"text\": \"b\", \"label\": \"y\", \"text\": \"c\"}\n");
        assertNames(failsAsTrain(dup), dup, 2, "malformed JSON", "text");
    }

    @Test
    void rejectsAJsonTextThatIsNotAStringOrNumber() throws IOException {
        String first = "{\"text\": \"a\", \"label\": \"x\"}\n";
        for (String v : new String[] {"[\"b\"]", "{\"t\": \"b\"}", "true", "null"}) {
            Path f = write("t.jsonl", first + "{\"text\": " + v + ", \"label\": \"y\"}\n");
            assertNames(failsAsTrain(f), f, 2, "column 'text' holds", "string or number");
        }
        Path l = write("l.jsonl", first + "{\"text\": \"b\", \"label\": [\"y\"]}\n");
        assertNames(failsAsTrain(l), l, 2, "column 'label' holds an array");
    }

    @Test
    void rejectsAnUnknownDevLabelNamingFileLineAndValue() throws IOException {
        Path train = write("train.csv", GOOD_CSV);
        Path dev = write("dev.csv", "text,label\nc,x\n\"d\ne\",z\n");
        assertNames(fails(train, dev, null, DataFileOptions.DEFAULTS), dev, 3, "unknown label 'z'", "'label'", "[x, y]");
        Path ints = write("ints.csv", "text,label\na,0\nb,1\n");
        Path intDev = write("intdev.csv", "text,label\nc,0\nd,one\n");
        assertNames(fails(ints, intDev, null, DataFileOptions.DEFAULTS), intDev, 3, "unknown label 'one'", "[0, 1]");
    }

    @Test
    void rejectsAJsonTestFileWhoseLaterLineHasALabelTheFirstLacked() throws IOException {
        Path train = write("train.csv", GOOD_CSV);
        Path test = write("test.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\", \"label\": \"x\"}\n");
        assertNames(fails(train, train, test, DataFileOptions.DEFAULTS), test, 2, "'label'", "line 1 had none");
    }

    @Test
    void rejectsATrainFileWithOneDistinctLabel() throws IOException {
        Path f = write("one.csv", "text,label\na,x\nb,x\n");
        assertNames(failsAsTrain(f), f, 0, "only one distinct label [x]", "'label'");
    }

    @Test
    void rejectsEmptyFilesHeaderOnlyFilesAndBadHeaders() throws IOException {
        Path empty = write("empty.csv", "");
        assertNames(failsAsTrain(empty), empty, 0, "empty", "header");
        Path emptyJson = write("empty.jsonl", "");
        assertNames(failsAsTrain(emptyJson), emptyJson, 0, "empty");
        Path header = write("header.csv", "text,label\n");
        assertNames(failsAsTrain(header), header, 0, "no records");
        Path dup = write("dup.csv", "text,label,text\na,x,b\n");
        assertNames(failsAsTrain(dup), dup, 1, "'text' appears twice");
        Path unnamed = write("unnamed.csv", ",text,label\n0,a,x\n");
        assertNames(failsAsTrain(unnamed), unnamed, 1, "column 1 has no name");
    }

    @Test
    void glueTaskFolderOfAnyNameIsReadAndAMissingFileNamesBothPathsTried() throws Exception {
        Path spam = dir.resolve("spam");
        Files.createDirectories(spam);
        Files.writeString(spam.resolve("train.tsv"), "sentence\tlabel\nwin money now \t1\nsee you at lunch \t0\n");
        Files.writeString(spam.resolve("dev.tsv"), "sentence\tlabel\nfree prize \t1\n");
        TaskData t = TaskData.glue(GlueTask.SST2, spam, 0);
        assertEquals(spam.resolve("train.tsv").toString(), t.train().source());
        assertEquals(2, t.train().size());
        MalformedDataException wrongTask = assertThrows(MalformedDataException.class, () -> TaskData.glue(GlueTask.MRPC, spam, 0));
        assertNames(wrongTask, spam.resolve("train.tsv"), 1, "not the GLUE MRPC header");
        Path none = Files.createDirectories(dir.resolve("none"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> TaskData.glue(GlueTask.MRPC, none, 0));
        for (String p : new String[] {none.resolve("MRPC").resolve("train.tsv").toString(),
                none.resolve("train.tsv").toString(), "GLUE root", "MRPC folder, any name"})
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }
}

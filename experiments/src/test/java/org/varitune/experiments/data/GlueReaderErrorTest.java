package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per format error: each must name the file and the 1-based line, and say what was expected. */
class GlueReaderErrorTest extends TestBase {
    @TempDir Path dir;

    private Path write(GlueTask task, String split, String content) throws IOException {
        return writeBytes(task, split, content.getBytes(StandardCharsets.UTF_8));
    }

    private Path writeBytes(GlueTask task, String split, byte[] content) throws IOException {
        Path f = task.file(dir, split);
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        return f;
    }

    private MalformedDataException fails(GlueTask task, String split) {
        return assertThrows(MalformedDataException.class, () -> GlueReader.read(task, dir, split, 0));
    }

    private static void assertMentions(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "message lacks '" + p + "': " + message);
    }

    @Test
    void rejectsAHeaderThatIsNotTheGlueOneAndQuotesIt() throws IOException {
        Path f = write(GlueTask.SST2, "train", "text\tlabel\ngood film \t1\n");
        MalformedDataException e = fails(GlueTask.SST2, "train");
        assertEquals(f, e.file());
        assertEquals(1, e.line());
        assertMentions(e.getMessage(), f.toString(), "line 1", "[text | label]", "[sentence | label]", "SST-2");
    }

    @Test
    void rejectsAMissingNamedColumn() throws IOException {
        Path f = write(GlueTask.STSB, "train", "index\tsentence1\tsentence2\tsimilarity\n0\ta\tb\t1.0\n");
        MalformedDataException e = fails(GlueTask.STSB, "train");
        assertMentions(e.getMessage(), f.toString(), "line 1", "'score'", "[index | sentence1 | sentence2 | similarity]");
    }

    @Test
    void rejectsAWrongFieldCountWithExpectedAndActualCounts() throws IOException {
        Path f = write(GlueTask.RTE, "dev", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n1\tA.\tB.\textra\tentailment\n");
        MalformedDataException e = fails(GlueTask.RTE, "dev");
        assertEquals(3, e.line());
        assertMentions(e.getMessage(), f.toString(), "line 3", "expected 4", "found 5");
    }

    @Test
    void rejectsABlankLineInsideColaBecauseCoLaHasFourFields() throws IOException {
        Path f = write(GlueTask.COLA, "train", "gj04\t1\t\tFine.\n\ngj04\t0\t*\tBad bad.\n");
        MalformedDataException e = fails(GlueTask.COLA, "train");
        assertEquals(2, e.line());
        assertMentions(e.getMessage(), f.toString(), "expected 4", "found 1");
    }

    @Test
    void rejectsAnUnknownLabelNamingItAndTheAcceptedOnes() throws IOException {
        String header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
                + "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
        Path f = write(GlueTask.MNLI, "train", header
                + "0\t1\t1e\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tA.\tB.\tentailment\tentailment\n"
                + "1\t2\t2n\tfiction\t( a )\t( b )\t(ROOT a)\t(ROOT b)\tA.\tB.\t-\t-\n");
        MalformedDataException e = fails(GlueTask.MNLI, "train");
        assertEquals(3, e.line());
        assertMentions(e.getMessage(), f.toString(), "line 3", "label '-'", "[contradiction, entailment, neutral]");
    }

    @Test
    void rejectsAColaLabelThatIsAHeaderWord() throws IOException {
        write(GlueTask.COLA, "dev", "source\tlabel\tannotation\tsentence\ngj04\t1\t\tFine.\n");
        MalformedDataException e = fails(GlueTask.COLA, "dev");
        assertEquals(1, e.line());
        assertMentions(e.getMessage(), "label 'label'");
    }

    @Test
    void rejectsAnUnparsableStsbScore() throws IOException {
        Path f = write(GlueTask.STSB, "dev", "index\tsentence1\tsentence2\tscore\n0\tA.\tB.\tfive\n");
        MalformedDataException e = fails(GlueTask.STSB, "dev");
        assertMentions(e.getMessage(), f.toString(), "line 2", "'five'", "not a plain decimal");
    }

    @Test
    void rejectsStsbScoresWrittenAsJavaLiteralsThatParseDoubleAccepts() throws IOException {
        for (String bad : new String[] {"0x1p2", "2.5f", "2.5d", "1e0", "NaN", " 2.5", "+2.5", "2,5", "Infinity"}) {
            Path f = write(GlueTask.STSB, "dev", "index\tsentence1\tsentence2\tscore\n0\tA.\tB.\t" + bad + "\n");
            MalformedDataException e = fails(GlueTask.STSB, "dev");
            assertMentions(e.getMessage(), f.toString(), "line 2", "'" + bad + "'", "not a plain decimal");
        }
    }

    @Test
    void acceptsPlainDecimalStsbScores() throws IOException {
        write(GlueTask.STSB, "dev", "index\tsentence1\tsentence2\tscore\n0\tA.\tB.\t3.800\n1\tA.\tB.\t5\n"
                + "2\tA.\tB.\t0.\n3\tA.\tB.\t.25\n");
        Dataset d = GlueReader.read(GlueTask.STSB, dir, "dev", 0);
        assertEquals(java.util.List.of(3.8, 5.0, 0.0, 0.25), d.examples().stream().map(Example::score).toList());
    }

    @Test
    void rejectsAnStsbScoreOutsideZeroToFive() throws IOException {
        write(GlueTask.STSB, "dev", "index\tsentence1\tsentence2\tscore\n0\tA.\tB.\t4.0\n1\tA.\tB.\t5.2\n");
        MalformedDataException e = fails(GlueTask.STSB, "dev");
        assertMentions(e.getMessage(), "line 3", "5.2", "outside [0.0, 5.0]");
    }

    @Test
    void rejectsInvalidUtf8NamingTheLine() throws IOException {
        byte[] bytes = "sentence\tlabel\ngood \t1\nbad \u00ff\t0\n".getBytes(StandardCharsets.ISO_8859_1);
        Path f = writeBytes(GlueTask.SST2, "dev", bytes);
        MalformedDataException e = fails(GlueTask.SST2, "dev");
        assertEquals(3, e.line());
        assertMentions(e.getMessage(), f.toString(), "not valid UTF-8");
    }

    @Test
    void rejectsAnEmptyFile() throws IOException {
        Path f = write(GlueTask.QNLI, "train", "");
        MalformedDataException e = fails(GlueTask.QNLI, "train");
        assertMentions(e.getMessage(), f.toString(), "empty");
    }

    @Test
    void reportsAMissingFileWithTheExpectedLayout() {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> GlueReader.read(GlueTask.WNLI, dir, "train", 0));
        assertMentions(e.getMessage(), dir.resolve("WNLI").resolve("train.tsv").toString(), "<dataDir>/WNLI/train.tsv");
    }

    @Test
    void rejectsAnUnknownSplitListingTheSplits() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlueReader.read(GlueTask.MNLI, dir, "dev", 0));
        assertMentions(e.getMessage(), "MNLI", "'dev'", "dev_matched", "dev_mismatched");
    }

    @Test
    void rejectsANegativeMaxExamples() throws IOException {
        write(GlueTask.WNLI, "dev", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n");
        assertThrows(IllegalArgumentException.class, () -> GlueReader.read(GlueTask.WNLI, dir, "dev", -1));
    }

    @Test
    void qqpStillRejectsAnUnknownLabelOnAWellFormedLine() throws IOException {
        write(GlueTask.QQP, "dev", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n1\t2\t3\tA?\tB?\tyes\n");
        MalformedDataException e = fails(GlueTask.QQP, "dev");
        assertMentions(e.getMessage(), "line 2", "label 'yes'");
    }
}

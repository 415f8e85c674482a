package org.varitune.experiments.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the GLUE distribution's TSV files exactly: UTF-8, split on {@code '\t'} only, quotes are text (as Python's
 * {@code csv.QUOTE_NONE}), CRLF or LF line ends, the last line with or without a newline (see {@link TsvLineReader}).
 *
 * <p>Per task ({@link GlueTask}): CoLA's labeled files have no header and four columns by position
 * ({@link GlueTask#COLA_COLUMNS}); SST-2, MRPC, QQP, QNLI, RTE and WNLI must have exactly the header
 * {@link GlueTask#header()}; STS-B and MNLI have many columns (and MNLI train and dev differ), so only the presence
 * of the named columns is checked. Every data line must have as many fields as the header. Test files (unlabeled)
 * are read by header name (text columns only) for prediction.
 *
 * <p>Errors are {@link MalformedDataException}s naming the file and 1-based line: a header that is not the expected
 * one (the actual header is quoted), a wrong number of fields (expected and actual counts), an unknown label (the
 * label and the accepted ones), an unparsable or out-of-range STS-B score, invalid UTF-8. The one exception: QQP
 * lines with the wrong number of fields (the real train file has a few, from questions containing line breaks) are
 * skipped and counted in {@link Dataset#malformedLines()}, with the first {@link Dataset#MAX_SAMPLES} line numbers
 * and reasons in {@link Dataset#malformedSamples()}. Empty texts are kept and counted in {@link Dataset#emptyTexts()}.
 */
public final class GlueReader {
    /** STS-B scores are similarity judgements averaged over annotators, in [0, 5]. */
    public static final double STSB_MIN_SCORE = 0.0, STSB_MAX_SCORE = 5.0;

    private GlueReader() {}

    /**
     * Reads the file of a split, found by {@link #locate}.
     *
     * @param task        the GLUE task
     * @param dataDir     the GLUE root (the directory that holds {@code CoLA/}, {@code SST-2/}, ...) or the task's
     *                    own folder, whatever its name. Not modified.
     * @param split       one of {@link GlueTask#labeledSplits()} or {@link GlueTask#testSplits()}
     * @param maxExamples 0 = all; otherwise the first {@code maxExamples} examples in file order (malformed lines
     *                    are counted only up to where reading stopped)
     * @return the examples; label ids index {@link GlueTask#labelNames()}; unlabeled for test splits
     * @throws MalformedDataException for a format error (see the class comment)
     * @throws NoSuchFileException    naming both paths tried when the file is missing
     */
    public static Dataset read(GlueTask task, Path dataDir, String split, int maxExamples) throws IOException {
        return readFile(task, locate(task, dataDir, split), split, maxExamples);
    }

    /**
     * The file of a split: {@code <dataDir>/<dirName>/<split>.tsv} when it exists ({@code dataDir} is the GLUE root),
     * else {@code <dataDir>/<split>.tsv} when it exists ({@code dataDir} is the task's folder, whatever its name:
     * {@code spam/} with {@code spam/train.tsv} in the SST-2 layout).
     *
     * @throws IllegalArgumentException for an unknown split, listing the task's splits
     * @throws NoSuchFileException      when neither exists, naming both paths
     */
    public static Path locate(GlueTask task, Path dataDir, String split) throws NoSuchFileException {
        Path inRoot = task.file(dataDir, split), inTaskDir = dataDir.resolve(split + ".tsv");
        if (Files.isRegularFile(inRoot)) return inRoot;
        if (Files.isRegularFile(inTaskDir)) return inTaskDir;
        throw new NoSuchFileException(inRoot.toString(), inTaskDir.toString(), "GLUE " + task.dirName() + " " + split
                + " file not found: tried <dataDir>/" + task.dirName() + "/" + split + ".tsv (dataDir as the GLUE root)"
                + " and <dataDir>/" + split + ".tsv (dataDir as the " + task.dirName() + " folder, any name)");
    }

    /** As {@link #read}, from an explicit file (its name need not follow the GLUE layout). */
    public static Dataset readFile(GlueTask task, Path file, String split, int maxExamples) throws IOException {
        if (maxExamples < 0) throw new IllegalArgumentException("maxExamples " + maxExamples + " < 0 (0 = all)");
        boolean labeled = task.isLabeled(split);
        if (!labeled && !task.testSplits().contains(split))
            throw new IllegalArgumentException(task.dirName() + " has no split '" + split + "'; splits: "
                    + task.labeledSplits() + " (labeled), " + task.testSplits() + " (unlabeled)");
        if (!Files.isRegularFile(file))
            throw new NoSuchFileException(file.toString(), null, "GLUE " + task.dirName() + " " + split
                    + " file not found (expected <dataDir>/" + task.dirName() + "/" + split + ".tsv)");

        List<Example> examples = new ArrayList<>();
        List<Dataset.LineIssue> samples = new ArrayList<>();
        int malformed = 0, empty = 0;
        try (TsvLineReader r = new TsvLineReader(file)) {
            List<String> columns;
            if (task == GlueTask.COLA && labeled) {
                columns = GlueTask.COLA_COLUMNS;
            } else {
                String headerLine = r.readLine();
                if (headerLine == null)
                    throw new MalformedDataException(file, 0, "file is empty; expected a " + task.dirName() + " header");
                columns = Arrays.asList(TsvLineReader.split(headerLine));
                if (labeled && task.header() != null && !columns.equals(task.header()))
                    throw new MalformedDataException(file, 1, "header " + show(columns) + " is not the GLUE "
                            + task.dirName() + " header " + show(task.header()));
            }
            int ia = column(file, task, columns, task.textAColumn());
            int ib = task.isPair() ? column(file, task, columns, task.textBColumn()) : -1;
            int it = labeled ? column(file, task, columns, task.targetColumn()) : -1;

            String line;
            while ((maxExamples == 0 || examples.size() < maxExamples) && (line = r.readLine()) != null) {
                int n = r.lineNumber();
                String[] f = TsvLineReader.split(line);
                if (f.length != columns.size()) {
                    String reason = "expected " + columns.size() + " tab-separated fields " + show(columns) + ", found " + f.length;
                    if (task != GlueTask.QQP) throw new MalformedDataException(file, n, reason);
                    malformed++;
                    if (samples.size() < Dataset.MAX_SAMPLES) samples.add(new Dataset.LineIssue(n, reason));
                    continue;
                }
                String a = f[ia], b = ib >= 0 ? f[ib] : null;
                if (a.isEmpty() || (b != null && b.isEmpty())) empty++;
                Example e;
                if (!labeled) e = Example.unlabeled(a, b, n);
                else if (task.isRegression()) e = Example.regression(a, b, score(file, n, task, f[it]), n);
                else e = Example.classification(a, b, label(file, n, task, f[it]), n);
                examples.add(e);
            }
        }
        return new Dataset(task.dirName(), task.id(), split, examples, task.labelNames(), task.isRegression(),
                task.isPair(), file.toString(), malformed, samples, empty);
    }

    private static int column(Path file, GlueTask task, List<String> columns, String name) throws MalformedDataException {
        int i = columns.indexOf(name);
        if (i < 0) throw new MalformedDataException(file, 1, "header " + show(columns) + " has no column '" + name
                + "' needed for " + task.dirName());
        return i;
    }

    private static int label(Path file, int line, GlueTask task, String value) throws MalformedDataException {
        int id = task.labelNames().indexOf(value);
        if (id < 0) throw new MalformedDataException(file, line, "unknown " + task.dirName() + " label '" + value
                + "' in column '" + task.targetColumn() + "'; expected one of " + task.labelNames());
        return id;
    }

    /** A plain decimal: digits with an optional fraction, as GLUE writes scores (no sign, exponent or suffix). */
    private static final java.util.regex.Pattern PLAIN_DECIMAL = java.util.regex.Pattern.compile("[0-9]+(\\.[0-9]*)?|\\.[0-9]+");

    /**
     * An STS-B score: a plain decimal ({@link #PLAIN_DECIMAL}) in [0, 5]. Java literals that
     * {@link Double#parseDouble} would also take ({@code 0x1p2}, {@code 2.5f}, {@code 1e0}, {@code NaN},
     * surrounding spaces) are errors.
     */
    private static double score(Path file, int line, GlueTask task, String value) throws MalformedDataException {
        if (!PLAIN_DECIMAL.matcher(value).matches()) {
            throw new MalformedDataException(file, line, "score '" + value + "' in column '" + task.targetColumn()
                    + "' is not a plain decimal number such as 3.8");
        }
        double s = Double.parseDouble(value);
        if (!(s >= STSB_MIN_SCORE && s <= STSB_MAX_SCORE))
            throw new MalformedDataException(file, line, "score " + value + " in column '" + task.targetColumn()
                    + "' is outside [" + STSB_MIN_SCORE + ", " + STSB_MAX_SCORE + "]");
        return s;
    }

    /** Header columns as a readable list, tabs shown as separators: [a | b | c]. */
    private static String show(List<String> columns) {
        return "[" + String.join(" | ", columns) + "]";
    }
}

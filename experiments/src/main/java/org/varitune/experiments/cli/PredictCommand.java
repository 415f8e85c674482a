package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.varitune.experiments.data.DataFileOptions;
import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.experiments.data.GlueReader;
import org.varitune.experiments.data.GlueTask;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.export.ExportInfo;
import org.varitune.training.export.ModelExport;
import org.varitune.training.trainer.BatchPlan;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;

/**
 * Applies a trained model to new text: {@code --text} (and {@code --pair}) given on the command line, a data file
 * ({@code --input}, CSV/TSV/JSON Lines, read as a stream), or a GLUE test split ({@code --glue-task T --data DIR
 * --split test}, written as GLUE's submission files). One output row per input, in input order: {@code index},
 * {@code prediction} (the label name from the model's {@code id2label}) and {@code prob_<label>} (softmax of the
 * logits), or {@code index} and {@code score} for regression. Inputs are tokenized as in training ({@code encode(a,
 * b, maxLength)}) and run in chunks of {@value #CHUNK} rows, each cut into length-sorted batches as evaluation cuts
 * them, so a dev file gives the predictions that produced the run's {@code metrics.json}.
 */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Predict with a trained model (an export of train, or an HF ...ForSequenceClassification directory).")
public final class PredictCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    /** Rows read, predicted and written at a time (the memory bound of a streamed file). */
    static final int CHUNK = 4096;

    @Option(names = "--model", required = true, description = "Exported model directory (train's <out>/model) or an HF "
            + "...ForSequenceClassification directory of a supported architecture.")
    Path modelDir;
    @Option(names = "--text", description = "A text to classify; repeat for several.") List<String> texts;
    @Option(names = "--pair", description = "The second text of each --text (repeat as often as --text).") List<String> pairs;
    @Option(names = "--input", description = "A data file: .csv, .tsv or .jsonl, streamed.") Path input;
    @Option(names = "--text-column", description = "Column of the first text (default: sentence1 when sentence1 and "
            + "sentence2 exist, else the first column that is not the label column, as run_glue).") String textColumn;
    @Option(names = "--text-pair-column", description = "Column of the second text (with --text-column).") String pairColumn;
    @Option(names = "--label-column", description = "Column ignored as a text (default label).") String labelColumn = "label";
    @Option(names = "--glue-task", description = "Write GLUE submission files for this task's test split(s).") String glueTask;
    @Option(names = "--data", description = "With --glue-task: the GLUE directory or the task's folder.") Path data;
    @Option(names = "--split", description = "With --glue-task: test (default) or a dev split.") String split = "test";
    @Option(names = "--output", description = "Output .tsv or .jsonl (with --text/--input); a directory with --glue-task.")
    Path output;
    @Option(names = "--max-length", description = "Tokens per input (default: the length the model was trained with, "
            + "else 128 as run_glue).") Integer maxLength;
    @Option(names = "--batch-size", description = "Default ${DEFAULT-VALUE} (train's evaluation batch).") int batchSize = 64;
    @Option(names = "--threads", description = "Kernel threads (default all cores).") Integer threads;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        device.apply();
        int sources = (texts != null ? 1 : 0) + (input != null ? 1 : 0) + (glueTask != null ? 1 : 0);
        if (sources != 1) throw new IllegalArgumentException("give exactly one of --text, --input and --glue-task");
        if (pairs != null && (texts == null || pairs.size() != texts.size())) {
            throw new IllegalArgumentException("--pair given " + pairs.size() + " times for " + (texts == null ? 0 : texts.size()) + " --text");
        }
        Main.requireFlag(batchSize >= 1, "--batch-size", batchSize, ">= 1");
        if (threads != null) System.setProperty("varitune.threads", Integer.toString(threads));
        ExportInfo info = ModelExport.info(modelDir);
        SequenceClassifier model = ModelExport.load(modelDir, Kernels.fromSystemProperty());
        Tokenizer tok = Tokenizers.load(modelDir);
        int len = maxLength != null ? maxLength : ModelExport.trainedMaxLength(modelDir).orElse(128);
        Main.requireFlag(len >= 2, "--max-length", len, ">= 2");
        List<String> labels = labels(info, model);
        Predictor p = new Predictor(model, tok, len, batchSize, labels);
        if (glueTask != null) return glue(p);
        // progress: inputs given on the command line, else characters of the file read (records end there)
        long total = texts != null ? texts.size() : Files.size(input);
        try (ProgressBar bar = new ProgressBar(texts != null ? "predict" : "predict (chars of " + input.getFileName() + ")", total)) {
            if (output == null) {
                Writer w = new java.io.PrintWriter(System.out, false, StandardCharsets.UTF_8);
                write(p, rows(), w, Format.TSV, bar);
                w.flush();
            } else {
                try (Writer w = Files.newBufferedWriter(output, StandardCharsets.UTF_8)) {
                    write(p, rows(), w, Format.of(output), bar);
                }
            }
        }
        if (output != null) System.err.println("wrote " + output);
        return 0;
    }

    /** The label names by id: id2label of the model's config (HF's LABEL_i when it has none), none for regression. */
    private static List<String> labels(ExportInfo info, SequenceClassifier model) {
        int k = model.head().numLabels();
        if (k == 1) return List.of();
        if (info.labels().size() == k) return info.labels();
        List<String> l = new ArrayList<>();
        for (int i = 0; i < k; i++) l.add("LABEL_" + i);
        return l;
    }

    /** One input: its texts (null pair for a single text) and where it ends in its source (for the progress bar). */
    record Input(String a, String b, long end) {}

    private Iterator<Input> rows() throws IOException {
        if (texts != null) {
            List<Input> in = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) in.add(new Input(texts.get(i), pairs == null ? null : pairs.get(i), i + 1));
            return in.iterator();
        }
        DataFileOptions.Format f = DataFileOptions.Format.fromExtension(input);
        BufferedReader r = Files.newBufferedReader(input, StandardCharsets.UTF_8);
        return f == DataFileOptions.Format.JSONL ? jsonRows(r) : csvRows(r, f == DataFileOptions.Format.TSV ? '\t' : ',');
    }

    /** The text columns of a header: the flags', else run_glue's rule (the same rule as the training files'). */
    private String[] columns(List<String> header) {
        var d = DataFileOptions.DEFAULTS;
        String[] c = org.varitune.experiments.data.DataFileReader.textColumns(header,
                new DataFileOptions(textColumn, pairColumn, labelColumn, d.taskType(), null));
        if (c == null) throw new IllegalArgumentException(input + ": no text column; columns: " + header);
        for (String col : c) {
            if (col != null && !header.contains(col)) throw new IllegalArgumentException(input + ": no column '" + col + "'; columns: " + header);
        }
        return c;
    }

    private Iterator<Input> csvRows(BufferedReader r, char delimiter) throws IOException {
        CSVParser parser = CSVFormat.RFC4180.builder().setDelimiter(delimiter).setHeader().setSkipHeaderRecord(true)
                .get().parse(r);
        String[] cols = columns(parser.getHeaderNames());
        Iterator<CSVRecord> it = parser.iterator();
        return new Iterator<>() {
            @Override public boolean hasNext() { return it.hasNext(); }
            @Override public Input next() {
                CSVRecord rec = it.next();
                if (!rec.isConsistent()) {
                    throw new IllegalArgumentException(input + " line " + rec.getCharacterPosition() + ": " + rec.size()
                            + " fields, the header has " + parser.getHeaderNames().size());
                }
                return new Input(rec.get(cols[0]), cols[1] == null ? null : rec.get(cols[1]), rec.getCharacterPosition());
            }
        };
    }

    private Iterator<Input> jsonRows(BufferedReader r) throws IOException {
        return new Iterator<>() {
            int line = 0;
            long chars = 0;
            String[] cols;
            String next = advance();

            private String advance() {
                try {
                    String s;
                    do {
                        s = r.readLine();
                        line++;
                        if (s != null) chars += s.length() + 1;
                    } while (s != null && s.isBlank());
                    return s;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(input + ": " + e.getMessage(), e);
                }
            }

            @Override public boolean hasNext() { return next != null; }

            @Override public Input next() {
                if (next == null) throw new NoSuchElementException();
                JsonNode o;
                try {
                    o = JSON.readTree(next);
                } catch (IOException e) {
                    throw new IllegalArgumentException(input + " line " + line + ": not a JSON object: " + e.getMessage());
                }
                if (o == null || !o.isObject()) throw new IllegalArgumentException(input + " line " + line + ": not a JSON object");
                if (cols == null) {
                    List<String> keys = new ArrayList<>();
                    o.fieldNames().forEachRemaining(keys::add);
                    cols = columns(keys);
                }
                Input in = new Input(text(o, cols[0]), cols[1] == null ? null : text(o, cols[1]), chars);
                next = advance();
                return in;
            }

            private String text(JsonNode o, String key) {
                JsonNode v = o.get(key);
                if (v == null || !(v.isTextual() || v.isNumber())) {
                    throw new IllegalArgumentException(input + " line " + line + ": '" + key + "' is " + (v == null ? "missing" : v.getNodeType()) + ", expected a string");
                }
                return v.asText();
            }
        };
    }

    enum Format {
        TSV, JSONL;

        static Format of(Path p) {
            String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
            if (n.endsWith(".tsv")) return TSV;
            if (n.endsWith(".jsonl")) return JSONL;
            throw new IllegalArgumentException("--output " + p + ": expected a .tsv or .jsonl file");
        }
    }

    /** Predicts every input in chunks and writes one row per input, in input order. */
    private static void write(Predictor p, Iterator<Input> in, Writer w, Format f, ProgressBar bar) throws IOException {
        CSVPrinter tsv = f == Format.TSV ? new CSVPrinter(w, CSVFormat.TDF.builder().setRecordSeparator('\n').get()) : null;
        if (tsv != null) {
            List<String> header = new ArrayList<>(List.of("index"));
            if (p.labels.isEmpty()) header.add("score");
            else {
                header.add("prediction");
                for (String l : p.labels) header.add("prob_" + l);
            }
            tsv.printRecord(header);
        }
        long index = 0;
        while (in.hasNext()) {
            List<Input> chunk = new ArrayList<>();
            while (in.hasNext() && chunk.size() < CHUNK) chunk.add(in.next());
            float[] logits = p.logits(chunk);
            bar.set(chunk.get(chunk.size() - 1).end());
            int K = p.k;
            for (int i = 0; i < chunk.size(); i++, index++) {
                if (tsv != null) {
                    List<Object> row = new ArrayList<>(List.of(index));
                    if (p.labels.isEmpty()) row.add(logits[i]);
                    else {
                        double[] pr = softmax(logits, i, K);
                        row.add(p.labels.get(argmax(logits, i, K)));
                        for (double v : pr) row.add(String.format(Locale.ROOT, "%.6g", v));
                    }
                    tsv.printRecord(row);
                } else {
                    ObjectNode o = JSON.createObjectNode().put("index", index);
                    if (p.labels.isEmpty()) o.put("score", logits[i]);
                    else {
                        double[] pr = softmax(logits, i, K);
                        o.put("prediction", p.labels.get(argmax(logits, i, K)));
                        for (int k = 0; k < K; k++) o.put("prob_" + p.labels.get(k), pr[k]);
                    }
                    w.write(JSON.writeValueAsString(o));
                    w.write('\n');
                }
            }
        }
        if (tsv != null) tsv.flush();
        w.flush();
    }

    /** The evaluator's rule: the first of the largest logits. */
    static int argmax(float[] logits, int row, int K) {
        int best = 0;
        for (int k = 1; k < K; k++) if (logits[row * K + k] > logits[row * K + best]) best = k;
        return best;
    }

    static double[] softmax(float[] logits, int row, int K) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int k = 0; k < K; k++) max = Math.max(max, logits[row * K + k]);
        double[] p = new double[K];
        for (int k = 0; k < K; k++) sum += p[k] = Math.exp(logits[row * K + k] - max);
        for (int k = 0; k < K; k++) p[k] /= sum;
        return p;
    }

    /** GLUE's submission file of each test split: {@code index\tprediction}, STS-B scores clipped to [0, 5]. */
    private int glue(Predictor p) throws IOException {
        if (data == null) throw new IllegalArgumentException("--glue-task needs --data DIR");
        GlueTask task = GlueTask.fromName(glueTask);
        List<String> splits = split.equals("test") ? task.testSplits() : List.of(split);
        Path dir = output != null ? output : Path.of(".");
        Files.createDirectories(dir);
        for (String s : splits) {
            Dataset d = GlueReader.read(task, data, s, 0);
            List<Input> in = new ArrayList<>();
            for (Example e : d.examples()) in.add(new Input(e.textA(), e.textB(), 0));
            Path file = dir.resolve(submissionName(task, s));
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
                 CSVPrinter tsv = new CSVPrinter(w, CSVFormat.TDF.builder().setRecordSeparator('\n').get());
                 ProgressBar bar = new ProgressBar("predict " + s, in.size())) {
                tsv.printRecord("index", "prediction");
                for (int from = 0; from < in.size(); from += CHUNK) {
                    List<Input> chunk = in.subList(from, Math.min(in.size(), from + CHUNK));
                    float[] logits = p.logits(chunk);
                    for (int i = 0; i < chunk.size(); i++) {
                        String pred = p.labels.isEmpty()
                                ? String.format(Locale.ROOT, "%.3f", Math.max(0, Math.min(5, logits[i])))
                                : p.labels.get(argmax(logits, i, p.k));
                        tsv.printRecord(from + i, pred);
                    }
                    bar.set(from + chunk.size());
                }
            }
            System.out.println("wrote " + file + " (" + in.size() + " rows)");
        }
        if (task == GlueTask.MNLI && split.equals("test")) diagnostic(p, dir);
        return 0;
    }

    /**
     * GLUE's {@code AX.tsv}: the MNLI model's predictions on the diagnostic set ({@code diagnostic/diagnostic.tsv} or
     * {@code AX/test.tsv} of the GLUE directory, columns {@code index, sentence1, sentence2}). Skipped, with a note,
     * when the directory has neither.
     */
    private void diagnostic(Predictor p, Path dir) throws IOException {
        Path root = Files.isDirectory(data.resolve(GlueTask.MNLI.dirName())) ? data : data.toAbsolutePath().getParent();
        Path file = null;
        for (Path f : List.of(root.resolve("diagnostic/diagnostic.tsv"), root.resolve("AX/test.tsv"))) {
            if (Files.isRegularFile(f)) { file = f; break; }
        }
        if (file == null) {
            System.out.println("no diagnostic/diagnostic.tsv or AX/test.tsv under " + root + ": AX.tsv not written");
            return;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<String> header = List.of(lines.get(0).split("\t", -1));
        int a = header.indexOf("sentence1"), b = header.indexOf("sentence2");
        if (a < 0 || b < 0) throw new IllegalArgumentException(file + ": expected columns sentence1 and sentence2, got " + header);
        List<Input> in = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isEmpty()) continue;
            String[] f = lines.get(i).split("\t", -1);
            if (f.length != header.size()) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + f.length + " fields, the header has " + header.size());
            }
            in.add(new Input(f[a], f[b], i));
        }
        Path out = dir.resolve("AX.tsv");
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             CSVPrinter tsv = new CSVPrinter(w, CSVFormat.TDF.builder().setRecordSeparator('\n').get())) {
            tsv.printRecord("index", "prediction");
            for (int from = 0; from < in.size(); from += CHUNK) {
                List<Input> chunk = in.subList(from, Math.min(in.size(), from + CHUNK));
                float[] logits = p.logits(chunk);
                for (int i = 0; i < chunk.size(); i++) tsv.printRecord(from + i, p.labels.get(argmax(logits, i, p.k)));
            }
        }
        System.out.println("wrote " + out + " (" + in.size() + " rows)");
    }

    /** GLUE's file name of a split's submission: {@code SST-2.tsv}; MNLI {@code MNLI-m.tsv}, {@code MNLI-mm.tsv}. */
    static String submissionName(GlueTask task, String split) {
        if (task == GlueTask.MNLI) {
            return Map.of("test_matched", "MNLI-m", "test_mismatched", "MNLI-mm", "dev_matched", "MNLI-m-dev",
                    "dev_mismatched", "MNLI-mm-dev").getOrDefault(split, "MNLI-" + split) + ".tsv";
        }
        return task.dirName() + (split.equals("test") ? "" : "-" + split) + ".tsv";
    }

    /** The model, its tokenizer and the batching of evaluation. */
    static final class Predictor {
        final SequenceClassifier model;
        final Tokenizer tok;
        final int maxLength, batchSize, k;
        final List<String> labels;

        Predictor(SequenceClassifier model, Tokenizer tok, int maxLength, int batchSize, List<String> labels) {
            this.model = model;
            this.tok = tok;
            this.maxLength = maxLength;
            this.batchSize = batchSize;
            this.k = model.head().numLabels();
            this.labels = labels;
        }

        /** logits (N, K) of the inputs, in their order, batched as {@code Evaluator} batches a split. */
        float[] logits(List<Input> in) {
            List<TokenizedDataset.Row> rows = new ArrayList<>(in.size());
            for (Input i : in) rows.add(TokenizedDataset.Row.of(tok.encode(i.a(), i.b(), maxLength)));
            TokenizedDataset ds = TokenizedDataset.classification("predict", rows, new int[in.size()], Math.max(k, 2),
                    tok.padTokenId());
            float[] out = new float[in.size() * k];
            for (int[] idx : BatchPlan.sortedByLength(ds.lengths(), batchSize)) {
                float[] l = model.logits(ds.batch(idx));                   // l: (B, K)
                for (int r = 0; r < idx.length; r++) System.arraycopy(l, r * k, out, idx[r] * k, k);
            }
            return out;
        }
    }
}

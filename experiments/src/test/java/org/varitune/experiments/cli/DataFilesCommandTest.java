package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Users' data files through the commands: one task written as CSV (quoted commas, quotes, newlines, string labels),
 * as JSON Lines and as a GLUE SST-2 folder under another name gives the same nu at every layer in {@code analyze};
 * {@code train} on the files saves the train file's labels as id2label.
 */
class DataFilesCommandTest {
    /** nu of the same examples read three ways: the same numbers up to summation order; observed 0. */
    static final double SAME_NU_REL = 1e-9;

    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;

    private static String run(String... args) {
        PrintStream saved = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(buf, true));
        try {
            assertEquals(0, Main.commandLine().execute(args), "exit code of " + String.join(" ", args) + "; output:\n" + buf);
        } finally {
            System.setOut(saved);
            System.setErr(savedErr);
        }
        return buf.toString();
    }

    /** One example: its text with '\n' where GLUE's single-line TSV has a space, and its label 0/1. */
    private record Row(String text, int label) {}

    private static List<Row> rows(int n, long seed) {
        Random r = new Random(seed);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = i % 2;
            List<String> words = label == 1 ? TinySetup.POSITIVE : TinySetup.NEGATIVE;
            String text = TinySetup.NEUTRAL.get(r.nextInt(8)) + ", \"" + words.get(r.nextInt(8)) + "\"\n"
                    + TinySetup.NEUTRAL.get(r.nextInt(8)) + " " + words.get(r.nextInt(8));
            rows.add(new Row(text, label));
        }
        return rows;
    }

    private static final List<String> NAMES = List.of("negative", "positive");

    private static Path csv(Path file, List<Row> rows) throws Exception {
        StringBuilder sb = new StringBuilder("sentence,label\r\n");
        for (int i = 0; i < rows.size(); i++) {
            sb.append("\"").append(rows.get(i).text().replace("\"", "\"\"")).append("\",")
                    .append(NAMES.get(rows.get(i).label())).append("\r\n");
        }
        return Files.writeString(file, sb);
    }

    private static Path jsonl(Path file, List<Row> rows) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (Row row : rows) {
            ObjectNode o = JSON.createObjectNode().put("sentence", row.text()).put("label", NAMES.get(row.label()));
            sb.append(JSON.writeValueAsString(o)).append('\n');
        }
        return Files.writeString(file, sb);
    }

    private static void glue(Path dir, String split, List<Row> rows) throws Exception {
        List<String> lines = new ArrayList<>(List.of("sentence\tlabel"));
        for (Row row : rows) lines.add(row.text().replace('\n', ' ') + "\t" + row.label());
        Files.createDirectories(dir);
        Files.write(dir.resolve(split + ".tsv"), lines);
    }

    @Test
    void csvJsonLinesAndAGlueFolderOfAnyNameGiveTheSameNu() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        List<Row> train = rows(40, 1), dev = rows(12, 2);
        Path spam = tmp.resolve("spam");                                   // an SST-2 layout folder not named SST-2
        glue(spam, "train", train);
        glue(spam, "dev", dev);
        Path[][] files = {
                {csv(tmp.resolve("train.csv"), train), csv(tmp.resolve("dev.csv"), dev)},
                {jsonl(tmp.resolve("train.jsonl"), train), jsonl(tmp.resolve("dev.jsonl"), dev)}};
        List<double[]> nus = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path out = tmp.resolve("out" + i);
            List<String> args = new ArrayList<>(List.of("analyze", "--model", model.toString(), "--out", out.toString()));
            if (i < 2) args.addAll(List.of("--train-file", files[i][0].toString(), "--validation-file", files[i][1].toString()));
            else args.addAll(List.of("--glue-task", "sst2", "--data", spam.toString()));
            run(args.toArray(String[]::new));
            JsonNode v = JSON.readTree(out.resolve("variability.json").toFile());
            assertEquals(40, v.get("examples").asInt(), "run " + i);
            double[] nu = new double[v.get("layers").size()];
            for (int l = 0; l < nu.length; l++) nu[l] = v.get("layers").get(l).get("nu").asDouble();
            nus.add(nu);
        }
        for (int i = 1; i < 3; i++) {
            for (int l = 0; l < nus.get(0).length; l++) {
                double e = nus.get(0)[l], a = nus.get(i)[l];
                assertTrue(Math.abs(a - e) <= SAME_NU_REL * Math.abs(e), "source " + i + " layer " + l + ": nu " + a + " vs CSV " + e);
            }
        }
    }

    @Test
    void trainOnFilesSavesTheTrainFilesLabelsWithTheModel() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path out = tmp.resolve("run");
        run("train", "--model", model.toString(), "--train-file", csv(tmp.resolve("train.csv"), rows(24, 1)).toString(),
                "--validation-file", jsonl(tmp.resolve("dev.jsonl"), rows(8, 2)).toString(), "--mode", "partial",
                "--head-layer", "2", "--epochs", "1", "--batch-size", "8", "--max-length", "16", "--out", out.toString());
        JsonNode config = JSON.readTree(out.resolve("model/config.json").toFile());
        assertEquals("negative", config.get("id2label").get("0").asText());
        assertEquals("positive", config.get("id2label").get("1").asText());
        assertEquals(1, config.get("label2id").get("positive").asInt());
    }

    /**
     * The acceptance of {@code predict}: the exported model, given the dev file, predicts exactly what the evaluation
     * that wrote metrics.json predicted, so the accuracy is identical; probabilities sum to 1; text given on the
     * command line gets the same prediction as the same text in the file.
     */
    @Test
    void predictOnTheDevFileReproducesTheRunsDevAccuracy() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        List<Row> dev = rows(30, 2);
        Path devFile = jsonl(tmp.resolve("dev.jsonl"), dev);
        Path out = tmp.resolve("run");
        run("train", "--model", model.toString(), "--train-file", csv(tmp.resolve("train.csv"), rows(40, 1)).toString(),
                "--validation-file", devFile.toString(), "--mode", "full", "--epochs", "2", "--lr", "1e-3",
                "--batch-size", "8", "--max-length", "24", "--out", out.toString());
        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        double accuracy = metrics.get("best").get("dev").get("accuracy").asDouble();
        Path predictions = tmp.resolve("pred.tsv");
        run("predict", "--model", out.resolve("model").toString(), "--input", devFile.toString(), "--output",
                predictions.toString());
        List<String> lines = Files.readAllLines(predictions);
        assertEquals("index\tprediction\tprob_negative\tprob_positive", lines.get(0));
        assertEquals(dev.size() + 1, lines.size());
        int correct = 0;
        for (int i = 0; i < dev.size(); i++) {
            String[] f = lines.get(i + 1).split("\t");
            assertEquals(Integer.toString(i), f[0], "input order");
            if (f[1].equals(NAMES.get(dev.get(i).label()))) correct++;
            assertEquals(1.0, Double.parseDouble(f[2]) + Double.parseDouble(f[3]), 1e-5, "row " + i);
        }
        assertEquals(accuracy, correct / (double) dev.size(), 0.0, "predict's accuracy on the dev file is the run's");
        Path one = tmp.resolve("one.jsonl");
        run("predict", "--model", out.resolve("model").toString(), "--text", dev.get(3).text(), "--output", one.toString());
        JsonNode p = JSON.readTree(Files.readAllLines(one).get(0));
        assertEquals(lines.get(4).split("\t")[1], p.get("prediction").asText(), "the same text, the same prediction");
        assertEquals(24, JSON.readTree(out.resolve("model/config.json").toFile()).get("varitune").get("max_length").asInt(),
                "the trained length, predict's default");
    }

    @Test
    void trainWithHeadLayerAutoPicksAnalyzesLayerAndReusesItsAnalysis() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path train = csv(tmp.resolve("train.csv"), rows(40, 1)), dev = jsonl(tmp.resolve("dev.jsonl"), rows(12, 2));
        Path analysis = tmp.resolve("analysis");
        run("analyze", "--model", model.toString(), "--train-file", train.toString(), "--validation-file", dev.toString(),
                "--max-length", "24", "--out", analysis.toString());
        int lStar = JSON.readTree(analysis.resolve("variability.json").toFile()).get("recommendation").get("head_layer").asInt();
        String[] common = {"train", "--model", model.toString(), "--train-file", train.toString(), "--validation-file",
                dev.toString(), "--mode", "partial", "--head-layer", "auto", "--tune-layers", "1", "--epochs", "1",
                "--batch-size", "8", "--max-length", "24"};
        String reused = run(concat(common, "--analysis", analysis.toString(), "--out", tmp.resolve("a").toString()));
        assertTrue(reused.contains("l* = " + lStar + " (read from"), reused);
        String computed = run(concat(common, "--out", tmp.resolve("b").toString()));
        assertTrue(computed.contains("l* = " + lStar + " (computed into"), computed);
        for (String r : List.of("a", "b")) {
            JsonNode m = JSON.readTree(tmp.resolve(r).resolve("metrics.json").toFile());
            assertEquals(Integer.toString(lStar), m.get("l_star").asText(), r);
            assertEquals(lStar, m.get("config").get("headLayer").asInt(), r);
        }
        // an analysis of other inputs (another max length) is refused, naming what changed
        PrintStream saved = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(buf, true));
        int rc;
        try {
            String[] other = concat(common, "--analysis", analysis.toString(), "--out", tmp.resolve("c").toString());
            other[other.length - 5] = "16";                                        // --max-length 16
            rc = Main.commandLine().execute(other);
        } finally {
            System.setOut(saved);
            System.setErr(savedErr);
        }
        assertTrue(rc != 0 && buf.toString().contains("max_length"), buf.toString());
    }

    @Test
    void aSweepReadsADatasetFromItsFiles() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path train = csv(tmp.resolve("train.csv"), rows(24, 1)), dev = jsonl(tmp.resolve("dev.jsonl"), rows(8, 2));
        Path config = Files.writeString(tmp.resolve("files.yaml"), String.join("\n",
                "name: files", "model: " + model, "tasks: [reviews]", "seeds: [1]", "device: cpu",
                "datasets:", "  reviews: {train_file: " + train + ", validation_file: " + dev + ", text_column: sentence}",
                "methods:", "  - {name: guided, mode: partial, head_layer: auto, k: [1]}",
                "train: {epochs: 1, batch_size: 8, max_length: 24}", ""));
        Path out = tmp.resolve("sweep");
        run("sweep", config.toString(), "--out", out.toString());
        JsonNode r = JSON.readTree(out.resolve("runs/reviews/guided-k1/seed-1/result.json").toFile());
        assertEquals("done", r.get("status").asText(), r.toString());
    }

    @Test
    void aCudaDeviceThatCannotOpenIsAnErrorNamingItAndAMalformedOneListsTheChoices() {
        for (String[] c : List.of(new String[] {"cuda:0", "cuda:0"}, new String[] {"gpu", "expected cpu, cuda or cuda:N"})) {
            PrintStream saved = System.out, savedErr = System.err;
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            System.setOut(new PrintStream(buf, true));
            System.setErr(new PrintStream(buf, true));
            int rc;
            try {
                rc = Main.commandLine().execute("encode", "--device", c[0], "--text", "hello");
            } finally {
                System.setOut(saved);
                System.setErr(savedErr);
            }
            if (c[0].startsWith("cuda") && rc == 0) continue;                    // a machine with a GPU: it opened
            assertTrue(rc != 0 && buf.toString().contains(c[1]), c[0] + ": " + buf);
        }
    }

    @Test
    void predictWritesGlueSubmissionFilesInTheTestFilesOrder() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 24, 8, 3);
        List<String> test = new ArrayList<>(List.of("index\tsentence"));
        for (int i = 0; i < 9; i++) test.add(i + "\t" + TinySetup.NEUTRAL.get(i % 8) + " " + TinySetup.POSITIVE.get(i % 8));
        Files.write(glue.resolve("SST-2/test.tsv"), test);
        Path out = tmp.resolve("run");
        run("train", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(), "--mode", "full",
                "--head-pooling", "first-token", "--epochs", "1", "--batch-size", "8", "--max-length", "16", "--out", out.toString());
        Path sub = tmp.resolve("submission");
        run("predict", "--model", out.resolve("model").toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--output", sub.toString());
        List<String> lines = Files.readAllLines(sub.resolve("SST-2.tsv"));
        assertEquals("index\tprediction", lines.get(0));
        assertEquals(10, lines.size());
        for (int i = 0; i < 9; i++) assertTrue(lines.get(i + 1).matches(i + "\t[01]"), lines.get(i + 1));
        assertEquals("MNLI-m.tsv", PredictCommand.submissionName(org.varitune.experiments.data.GlueTask.MNLI, "test_matched"));
        assertEquals("MNLI-mm.tsv", PredictCommand.submissionName(org.varitune.experiments.data.GlueTask.MNLI, "test_mismatched"));
        assertEquals("STS-B.tsv", PredictCommand.submissionName(org.varitune.experiments.data.GlueTask.STSB, "test"));
    }

    @Test
    void predictWritesMnlisMatchedMismatchedAndDiagnosticSubmissions() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 24, 12, 9);
        for (String split : List.of("test_matched", "test_mismatched")) {
            List<String> lines = new ArrayList<>(List.of("index\tpromptID\tpairID\tgenre\tsentence1\tsentence2"));
            for (int i = 0; i < 5; i++) lines.add(i + "\t" + i + "\t" + i + "e\tfiction\tthe movie is good\tthe plot is " + TinySetup.NEGATIVE.get(i));
            Files.write(glue.resolve("MNLI").resolve(split + ".tsv"), lines);
        }
        Files.createDirectories(glue.resolve("diagnostic"));
        Files.write(glue.resolve("diagnostic/diagnostic.tsv"), List.of("index\tsentence1\tsentence2", "0\tthe cast\tthe film",
                "1\ta story\tthe plot", "2\tgood\tbad"));
        Path out = tmp.resolve("run");
        run("train", "--model", model.toString(), "--glue-task", "mnli", "--data", glue.toString(), "--mode", "full",
                "--epochs", "1", "--batch-size", "8", "--max-length", "16", "--out", out.toString());
        Path sub = tmp.resolve("submission");
        run("predict", "--model", out.resolve("model").toString(), "--glue-task", "mnli", "--data", glue.toString(),
                "--output", sub.toString());
        java.util.Map<String, Integer> rows = java.util.Map.of("MNLI-m.tsv", 5, "MNLI-mm.tsv", 5, "AX.tsv", 3);
        for (var e : rows.entrySet()) {
            List<String> lines = Files.readAllLines(sub.resolve(e.getKey()));
            assertEquals("index\tprediction", lines.get(0), e.getKey());
            assertEquals(e.getValue() + 1, lines.size(), e.getKey());
            for (int i = 1; i < lines.size(); i++) {
                assertTrue(lines.get(i).matches((i - 1) + "\t(contradiction|entailment|neutral)"), e.getKey() + ": " + lines.get(i));
            }
        }
    }

    @Test
    void aChangedTrainFileIsNotResumedAsTheSameRun() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        List<Row> rows = rows(24, 1);
        Path train = csv(tmp.resolve("train.csv"), rows), dev = jsonl(tmp.resolve("dev.jsonl"), rows(8, 2));
        String[] args = {"train", "--model", model.toString(), "--train-file", train.toString(), "--validation-file",
                dev.toString(), "--mode", "partial", "--head-layer", "2", "--epochs", "1", "--batch-size", "8",
                "--max-length", "16", "--out", tmp.resolve("run").toString()};
        run(args);
        JsonNode m = JSON.readTree(tmp.resolve("run/metrics.json").toFile());
        assertTrue(m.get("data").asText().startsWith("files: " + train), m.get("data").asText());
        List<Row> flipped = new ArrayList<>(rows);
        flipped.set(5, new Row(rows.get(5).text(), 1 - rows.get(5).label()));   // one label changed in place
        csv(train, flipped);
        PrintStream saved = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(buf, true));
        int rc;
        try {
            rc = Main.commandLine().execute(args);
        } finally {
            System.setOut(saved);
            System.setErr(savedErr);
        }
        assertTrue(rc != 0 && buf.toString().contains("examples"), buf.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.training.export.ModelExport;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.tensor.Parameter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --mode bitfit} through the commands on the tiny BERT (hidden 16, intermediate 24, 3 layers): what trains and
 * its share, the export (a plain HF checkpoint where only the tuned biases and the head moved, loaded back and used by
 * {@code predict}), a sweep with bitfit methods and its report rows, and the option's errors.
 */
class BitFitCommandsTest {
    /** The head of the tiny BERT: pooler.dense 16·16 + 16, classifier 16·2 + 2. */
    static final long HEAD = 16 * 16 + 16 + 16 * 2 + 2;
    /** One layer's biases: query, key, value, attention-output 4·16; two LayerNorms 2·16; intermediate 24; output 16. */
    static final long LAYER_BIASES = 4 * 16 + 2 * 16 + 24 + 16;

    /**
     * Every parameter of the tiny BERT with its head: embeddings 50·16 + 20·16 + 2·16 + 2·16, three layers of
     * 4·(16·16 + 16) + 2·2·16 + (16·24 + 24) + (24·16 + 16), and the head.
     */
    static final long WHOLE_MODEL = 50 * 16 + 20 * 16 + 2 * 16 + 2 * 16
            + 3 * (4 * (16 * 16 + 16) + 2 * 2 * 16 + (16 * 24 + 24) + (24 * 16 + 16)) + HEAD;

    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;

    /** Runs the CLI capturing stdout and stderr; asserts the exit code. */
    private static String run(int expectedRc, String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(err, true));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = cl.execute(args);
            assertEquals(expectedRc, rc, "exit code; output:\n" + buf + "\nstderr:\n" + err);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return buf + err.toString();
    }

    private static List<String> train(Path model, Path glue, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--glue-task", "sst2", "--data",
                glue.toString(), "--mode", "bitfit", "--head-layer", "2", "--tune-layers", "1", "--epochs", "1",
                "--batch-size", "8", "--max-length", "16", "--head-pooling", "first-token", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void trainTunesTheBiasesOfTheBlockAndExportsAPlainCheckpointWhereOnlyTheyAndTheHeadMoved() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 40, 16, 3);
        Path out = tmp.resolve("out");
        String text = run(0, train(model, glue, out).toArray(String[]::new));
        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals("bitfit", metrics.get("mode").asText());
        assertEquals("biases=all", metrics.get("config").get("bitfit").asText(), "the resolved option is recorded");
        assertEquals(1e-3, metrics.get("config").get("lr").asDouble(), "BitFit's default learning rate");
        assertEquals(HEAD + LAYER_BIASES, metrics.get("trainable_parameters").asLong(), "layer 2's biases and the head");
        Matcher share = Pattern.compile("trainable parameters: (\\d+) of (\\d+) \\(([0-9.]+)%\\)").matcher(text);
        assertTrue(share.find(), text);
        assertEquals(HEAD + LAYER_BIASES, Long.parseLong(share.group(1)));
        assertEquals(100.0 * (HEAD + LAYER_BIASES) / Long.parseLong(share.group(2)), Double.parseDouble(share.group(3)), 0.005);

        // the export: every weight as in the source, the biases of layer 2 and the head as trained (the checkpoint)
        Path export = out.resolve("model");
        JsonNode config = JSON.readTree(export.resolve("config.json").toFile());
        assertEquals("BertForSequenceClassification", config.get("architectures").get(0).asText(), "HF's class: first-token pooling");
        assertEquals("bitfit", config.get("varitune").get("mode").asText());
        for (var kind : org.varitune.training.method.TuningMethods.exportedModules()) {
            assertFalse(Files.exists(export.resolve(kind.file())), "no module file beside the checkpoint: " + kind.file());
        }
        Set<String> moved = new TreeSet<>(), expected = new TreeSet<>();
        for (String b : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm")) {
            expected.add("bert.encoder.layer.1." + b + ".bias");
        }
        try (WeightSource src = Safetensors.open(model.resolve("model.safetensors"));
             WeightSource exp = Safetensors.open(export.resolve("model.safetensors"));
             WeightSource ck = Safetensors.open(out.resolve("checkpoints/last/weights.safetensors"))) {
            for (String n : exp.names()) {
                if (!n.startsWith("bert.encoder.") && !n.startsWith("bert.embeddings.")) continue;     // the head
                float[] e = exp.readFloat(n);
                if (!java.util.Arrays.equals(src.readFloat(n), e)) moved.add(n);
                if (expected.contains(n)) {
                    assertArrayEquals(ck.readFloat(n.substring("bert.".length())), e, n + ": the trained value");
                }
            }
        }
        assertEquals(expected, moved, "only layer 2's biases moved in the encoder");

        // it loads back as a classifier whose parameters are the exported tensors, and predict runs on it
        var back = ModelExport.load(export, new CpuKernels());
        try (WeightSource exp = Safetensors.open(export.resolve("model.safetensors"))) {
            Parameter q = back.encoder().parameterMap().get("encoder.layer.1.attention.self.query.bias");
            assertArrayEquals(exp.readFloat("bert.encoder.layer.1.attention.self.query.bias"), q.data());
        }
        Path preds = tmp.resolve("preds.jsonl");
        run(0, "predict", "--model", export.toString(), "--text", "a good film", "--text", "a dull plot", "--output", preds.toString());
        List<String> rows = Files.readAllLines(preds);
        assertEquals(2, rows.size(), rows.toString());
        for (String r : rows) {
            JsonNode j = JSON.readTree(r);
            double sum = 0;
            for (var it = j.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (f.startsWith("prob_")) sum += j.get(f).asDouble();
            }
            assertEquals(1.0, sum, 1e-6, r);
        }
    }

    @Test
    void theSmallVariantTrainsTheQueryAndIntermediateBiasesOnly() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 24, 8, 3);
        Path out = tmp.resolve("out");
        run(0, train(model, glue, out, "--bitfit-biases", "query,intermediate").toArray(String[]::new));
        JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(HEAD + 16 + 24, metrics.get("trainable_parameters").asLong());
        assertEquals("biases=query+intermediate", metrics.get("config").get("bitfit").asText());
    }

    @Test
    void aSweepRunsBitFitMethodsAndTheReportHasTheirRows() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 5);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 24, 8, 9);
        Path config = Files.writeString(tmp.resolve("bitfit.yaml"), String.join("\n",
                "name: bitfit",
                "model: " + model,
                "glue_dir: " + glue,
                "tasks: [sst2]",
                "seeds: [1]",
                "methods:",
                "  - {name: top-bitfit, mode: bitfit, head_layer: top, k: [1]}",
                "  - {name: small-bitfit, mode: bitfit, head_layer: 2, k: [1], train: {bitfit_biases: [query, intermediate]}}",
                "train: {epochs: 1, batch_size: 8, max_length: 16}",
                ""));
        Path out = tmp.resolve("sweep");
        run(0, "sweep", config.toString(), "--out", out.toString());
        JsonNode top = JSON.readTree(out.resolve("runs/sst2/top-bitfit-k1/seed-1/result.json").toFile());
        assertEquals("done", top.get("status").asText(), top.toString());
        assertEquals(HEAD + LAYER_BIASES, top.get("trainable_parameters").asLong());
        JsonNode small = JSON.readTree(out.resolve("runs/sst2/small-bitfit-k1/seed-1/result.json").toFile());
        assertEquals(HEAD + 16 + 24, small.get("trainable_parameters").asLong());
        assertEquals("biases=query+intermediate", JSON.readTree(out.resolve("runs/sst2/small-bitfit-k1/seed-1/metrics.json")
                .toFile()).get("config").get("bitfit").asText());
        String report = Files.readString(out.resolve("report.md"));
        // method | k | head layer | ... | trainable % of the whole model's parameters
        String topRow = "| top-bitfit | 1 | 3 | ", smallRow = "| small-bitfit | 1 | 2 | ";
        String topShare = String.format(java.util.Locale.ROOT, "| %.2f |", 100.0 * (HEAD + LAYER_BIASES) / WHOLE_MODEL);
        String smallShare = String.format(java.util.Locale.ROOT, "| %.2f |", 100.0 * (HEAD + 16 + 24) / WHOLE_MODEL);
        assertTrue(report.lines().anyMatch(l -> l.contains(topRow) && l.contains(topShare)), topShare + " in:\n" + report);
        assertTrue(report.lines().anyMatch(l -> l.contains(smallRow) && l.contains(smallShare)), smallShare + " in:\n" + report);
    }

    @Test
    void aBadValueAndTheOptionGivenToAnotherModeAreErrorsNamingTheOption() throws IOException {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        String out = tmp.resolve("o").toString();
        String text = run(2, "train", "--model", model.toString(), "--mode", "bitfit", "--bitfit-biases", "weights", "--out", out);
        assertTrue(text.contains("--bitfit-biases (bitfit_biases) 'weights'") && text.contains("is not one of query, key,"), text);
        text = run(2, "train", "--model", model.toString(), "--mode", "lora", "--bitfit-biases", "all", "--out", out);
        assertTrue(text.contains("--bitfit-biases (bitfit_biases) is an option of bitfit, not of lora"), text);
        assertTrue(Files.notExists(tmp.resolve("o")), "rejected before any file is written");
        String help = run(0, "train", "--help");
        assertTrue(help.contains("--bitfit-biases=all|BIAS[,BIAS...]"), help);

        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.parse("name: x\nmodel: m\ntasks: [rte]\n"
                + "methods:\n  - {name: p, mode: partial, k: [1], train: {bitfit_biases: all}}\n", Path.of("c.yaml"), Map.of()));
        assertTrue(e.getMessage().contains("--bitfit-biases (bitfit_biases) is an option of bitfit, not of partial"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.parse("name: x\nmodel: m\ntasks: [rte]\n"
                + "methods:\n  - {name: b, mode: bitfit, k: [1], train: {bitfit_biases: [query, query]}}\n", Path.of("c.yaml"), Map.of()));
        assertTrue(e.getMessage().contains("bitfit_biases 'query,query': names a bias twice") && e.getMessage().contains("line 5"),
                e.getMessage());
    }
}

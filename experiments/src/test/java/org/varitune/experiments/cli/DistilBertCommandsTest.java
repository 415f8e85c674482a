package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.TuningMode;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands on a DistilBERT directory as HF writes it: {@code encode} and {@code analyze} give the numbers of the
 * BERT model it was renamed from (single texts: DistilBERT is BERT without token types), and {@code train} runs in
 * every mode and exports in DistilBERT's layout.
 */
class DistilBertCommandsTest {
    /**
     * nu of the renamed model against the BERT one, relative per layer. The hidden states differ only in the rounding
     * of the embedding sum. Worst observed over OpenBLAS unset/Haswell/SkylakeX and the pure-Java GEMM: 1.04e-6
     * (layer 3, pure-Java GEMM; 1.6e-7 with OpenBLAS).
     */
    static final double NU_REL = 1e-5;
    /**
     * Hidden states as {@code encode --output} writes them, max|a-e|/max|e| per layer. Worst observed over the same
     * four configurations: 5.8e-7 (hidden_states.3).
     */
    static final double HIDDEN_REL = 5e-6;

    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path tmp;

    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, Main.commandLine().execute(args), "exit code of " + String.join(" ", args) + "; output:\n" + buf);
        } finally {
            System.setOut(saved);
        }
        return buf.toString();
    }

    @Test
    void encodeGivesTheHiddenStatesOfTheBertModelItWasRenamedFrom() throws Exception {
        Path bert = TinySetup.model(tmp.resolve("bert"), 7), distil = TinySetup.distilBertModel(tmp.resolve("distil"), 7);
        String[] texts = {"--text", "the movie is good", "--text", "a dull plot", "--text", "superb"};
        Path eb = tmp.resolve("bert.safetensors"), ed = tmp.resolve("distil.safetensors");
        run(concat(new String[] {"encode", "--model", bert.toString(), "--output", eb.toString()}, texts));
        run(concat(new String[] {"encode", "--model", distil.toString(), "--output", ed.toString()}, texts));
        try (WeightSource b = Safetensors.open(eb); WeightSource d = Safetensors.open(ed)) {
            assertEquals(b.names().stream().filter(n -> n.startsWith("hidden_states")).count(), 4, "hidden_states 0..3");
            StringBuilder report = new StringBuilder();
            double worst = 0;
            for (String n : b.names()) {
                if (!n.startsWith("hidden_states")) continue;
                float[] e = b.readFloat(n), a = d.readFloat(n);
                double maxErr = 0, maxE = 0;
                for (int i = 0; i < e.length; i++) {
                    maxErr = Math.max(maxErr, Math.abs(a[i] - e[i]));
                    maxE = Math.max(maxE, Math.abs(e[i]));
                }
                worst = Math.max(worst, maxErr / maxE);
                report.append(" ").append(n).append(": ").append(maxErr / maxE).append(";");
            }
            assertTrue(worst <= HIDDEN_REL, "max|a-e|/max|e|:" + report);
        }
    }

    @Test
    void analyzeGivesTheBertModelsNuAtEveryLayer() throws Exception {
        Path bert = TinySetup.model(tmp.resolve("bert"), 7), distil = TinySetup.distilBertModel(tmp.resolve("distil"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        JsonNode[] nu = new JsonNode[2];
        Path[] models = {bert, distil};
        for (int i = 0; i < 2; i++) {
            Path out = tmp.resolve("out" + i);
            run("analyze", "--model", models[i].toString(), "--glue-task", "sst2", "--data", glue.toString(),
                    "--max-examples", "40", "--out", out.toString());
            nu[i] = JSON.readTree(out.resolve("variability.json").toFile());
        }
        assertEquals(4, nu[1].get("layers").size());
        StringBuilder report = new StringBuilder();
        double worst = 0;
        for (int l = 0; l < 4; l++) {
            double e = nu[0].get("layers").get(l).get("nu").asDouble(), a = nu[1].get("layers").get(l).get("nu").asDouble();
            worst = Math.max(worst, Math.abs(a - e) / Math.abs(e));
            report.append(String.format(" layer %d: nu %.12g vs BERT %.12g;", l, a, e));
        }
        assertTrue(worst <= NU_REL, "worst relative nu error " + worst + ":" + report);
        assertEquals(nu[0].get("recommendation").get("head_layer"), nu[1].get("recommendation").get("head_layer"));
    }

    @Test
    void trainRunsInEveryModeAndExportsDistilBertTensors() throws Exception {
        Path distil = TinySetup.distilBertModel(tmp.resolve("distil"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 40, 16, 3);
        for (TuningMode m : TuningMode.values()) {
            Path out = tmp.resolve("run-" + m.spelling());
            int head = m == TuningMode.TOP_K ? 3 : 2;                          // top-k: the head is on the top layer
            run("train", "--model", distil.toString(), "--glue-task", "sst2", "--data", glue.toString(), "--mode",
                    m.spelling(), "--head-layer", m == TuningMode.TOP_K ? "top" : "2", "--tune-layers", "1", "--epochs",
                    "1", "--batch-size", "8", "--max-length", "16", "--out", out.toString());
            JsonNode metrics = JSON.readTree(out.resolve("metrics.json").toFile());
            double loss = metrics.get("epochs").get(0).get("train_loss").asDouble();
            assertTrue(loss > 0 && Double.isFinite(loss), m + ": train loss " + loss);
            Path export = out.resolve("model");
            JsonNode config = JSON.readTree(export.resolve("config.json").toFile());
            assertEquals("distilbert", config.get("model_type").asText(), m.toString());
            assertEquals(head, config.get("n_layers").asInt(), m + ": the layers up to the head");
            try (WeightSource w = Safetensors.open(export.resolve("model.safetensors"))) {
                assertTrue(w.contains("distilbert.transformer.layer." + (head - 1) + ".attention.q_lin.weight"), m + ": " + w.names());
                assertTrue(w.contains("pre_classifier.weight") && w.contains("classifier.weight"), m + ": " + w.names());
                assertTrue(w.names().stream().noneMatch(n -> n.contains("encoder.layer") || n.contains("pooler")), m + ": " + w.names());
            }
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

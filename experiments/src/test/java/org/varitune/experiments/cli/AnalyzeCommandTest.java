package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.Variant;

import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code varitune analyze} end to end on a tiny model and a GLUE-format SST-2 directory. */
class AnalyzeCommandTest {
    @TempDir Path tmp;

    private String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            int rc = Main.commandLine().execute(args);
            assertEquals(0, rc, "exit code; output:\n" + buf);
        } finally {
            System.setOut(saved);
        }
        return buf.toString();
    }

    @Test
    void writesTableJsonCsvAndPlotForAGlueDirectory() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        Path out = tmp.resolve("out");
        String text = run("analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--max-examples", "40", "--out", out.toString());
        assertTrue(text.contains("<- l*"), text);
        JsonNode j = new ObjectMapper().readTree(out.resolve("variability.json").toFile());
        assertEquals("sst2", j.get("task").asText());
        assertEquals(40, j.get("examples").asInt());
        assertEquals("paper", j.get("variant").asText());
        assertEquals("mean", j.get("pooling").asText());
        assertEquals(4, j.get("layers").size(), "hidden_states 0..3 of the 3-layer model");
        assertEquals(40, j.get("reservoir_examples").asInt(), "the default reservoir holds every example");
        for (JsonNode l : j.get("layers")) {
            double nu = l.get("nu").asDouble();
            assertTrue(nu > 0 && Double.isFinite(nu), "layer " + l.get("layer") + " nu " + nu);
            assertEquals(nu, l.get("nu_reservoir").asDouble(), 1e-9 * nu, "same examples, same plug-in");
            assertTrue(l.get("ci_lo").asDouble() <= l.get("nu_bias_corrected").asDouble()
                    && l.get("nu_bias_corrected").asDouble() <= l.get("ci_hi").asDouble(), l.toString());
            assertEquals("nu_bias_corrected", l.get("ci_of").asText());
            assertTrue(l.has("probe_test_accuracy") && l.has("probe_majority_rate") && l.has("probe_l2"));
        }
        assertTrue(text.contains("nu (bias-corr.)") && text.contains("95% CI of bias-corr.") && text.contains("majority"), text);
        int head = j.get("recommendation").get("head_layer").asInt();
        assertTrue(head >= 1 && head <= 3, "head layer " + head);
        List<String> csv = Files.readAllLines(out.resolve("variability.csv"));
        assertEquals(5, csv.size(), "header + 4 layers");
        assertEquals("layer,nu,nu_reservoir,nu_bias_corrected,ci_lo,ci_hi,probe_accuracy,probe_majority_rate,probe_l2,"
                + "nu_undefined_reason", csv.get(0));
        byte[] png = Files.readAllBytes(out.resolve("variability.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
    }

    @Test
    void rerunOverAFinishedCheckpointReusesItAndGivesTheSameNumbers() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        Path a = tmp.resolve("a");
        String[] args = {"analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--out", a.toString()};
        run(args);
        assertTrue(Files.exists(a.resolve("variability.acc")), "checkpoint of the streaming statistics");
        JsonNode first = new ObjectMapper().readTree(a.resolve("variability.json").toFile());
        run(args);
        JsonNode second = new ObjectMapper().readTree(a.resolve("variability.json").toFile());
        assertEquals(first.get("layers").toString(), second.get("layers").toString());
    }

    static Stream<Arguments> variantsAndPoolings() {
        return Arrays.stream(Variant.values()).flatMap(v -> Arrays.stream(Pooling.values()).map(p -> Arguments.of(v, p)));
    }

    @ParameterizedTest
    @MethodSource("variantsAndPoolings")
    void everyVariantAndPoolingRunsEndToEnd(Variant variant, Pooling pooling) throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        Path out = tmp.resolve("out");
        String text = run("analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--max-examples", "40", "--variant", variant.spelling(), "--pooling", pooling.spelling(), "--out", out.toString());
        JsonNode j = new ObjectMapper().readTree(out.resolve("variability.json").toFile());
        assertEquals(variant.spelling(), j.get("variant").asText());
        assertEquals(pooling.spelling(), j.get("pooling").asText());
        assertFalse(j.toString().contains("NaN"));
        for (JsonNode l : j.get("layers")) {
            int layer = l.get("layer").asInt();
            if (pooling == Pooling.FIRST_TOKEN && layer == 0) {
                // the embedding output at position 0 is [CLS] + position 0 + type 0 for every input
                assertTrue(l.get("nu").isNull(), l.toString());
                assertEquals("Sb = 0: every class has exactly the same mean at this layer", l.get("nu_undefined_reason").asText());
                assertFalse(l.has("ci_lo"));
                assertEquals(l.get("probe_majority_rate").asDouble(), l.get("probe_test_accuracy").asDouble(), 1e-12);
                continue;
            }
            assertTrue(l.get("nu").asDouble() > 0, l.toString());
            assertTrue(l.get("ci_lo").asDouble() <= l.get("nu_bias_corrected").asDouble()
                    && l.get("nu_bias_corrected").asDouble() <= l.get("ci_hi").asDouble(), l.toString());
        }
        assertTrue(j.get("recommendation").get("head_layer").asInt() >= 1);
        if (pooling == Pooling.FIRST_TOKEN) assertTrue(text.contains("undefined") && text.contains("Sb = 0"), text);
    }

    @Test
    void thePassRefusesACheckpointWrittenWithAnotherPooling() throws Exception {
        // the command refuses earlier (its fingerprint guard); the pass itself must not resume foreign statistics either
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        org.varitune.transformer.model.Encoder enc = org.varitune.transformer.model.Encoder.load(model,
                org.varitune.transformer.kernels.Kernels.fromSystemProperty());
        var tok = org.varitune.transformer.tokenize.Tokenizers.load(model);
        var train = org.varitune.experiments.data.TaskData.glue(org.varitune.experiments.data.GlueTask.fromName("sst2"),
                glue, 20).train();
        Path acc = tmp.resolve("out").resolve("variability.acc");
        var mean = new org.varitune.experiments.analysis.VariabilityPass.Options(32, 8, Pooling.MEAN_NON_SPECIAL,
                Variant.PAPER_CLASS_BALANCED, 50, 17L, acc, 1);
        org.varitune.experiments.analysis.VariabilityPass.run(enc, tok, train, mean, null);
        var first = new org.varitune.experiments.analysis.VariabilityPass.Options(32, 8, Pooling.FIRST_TOKEN,
                Variant.PAPER_CLASS_BALANCED, 50, 17L, acc, 1);
        IOException e = assertThrows(IOException.class,
                () -> org.varitune.experiments.analysis.VariabilityPass.run(enc, tok, train, first, null));
        assertTrue(e.getMessage().contains(acc.toString()) && e.getMessage().contains("pooling=" + Pooling.MEAN_NON_SPECIAL)
                && e.getMessage().contains("pooling=" + Pooling.FIRST_TOKEN), e.getMessage());
    }

    @Test
    void rejectsAnUnknownGlueTaskNamingIt() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        PrintStream savedErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var cl = Main.commandLine();
        cl.setErr(new java.io.PrintWriter(err, true));
        int rc = cl.execute("analyze", "--model", model.toString(), "--glue-task", "sts", "--data", tmp.toString(),
                "--out", tmp.resolve("o").toString());
        assertEquals(2, rc);
        assertTrue(err.toString().contains("sts"), err.toString());
    }

    @Test
    void anotherPoolingIntoTheSameOutIsRefusedNamingItAndRecomputedWithRerunChanged() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 40, 10, 3);
        Path out = tmp.resolve("out");
        String[] base = {"analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--out", out.toString()};
        run(base);
        JsonNode first = new ObjectMapper().readTree(out.resolve("variability.json").toFile());
        assertEquals("mean", first.get("fingerprint").get("pooling").asText());
        byte[] acc = Files.readAllBytes(out.resolve("variability.acc"));

        var cl = Main.commandLine();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cl.setErr(new java.io.PrintWriter(err, true));
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
        int rc;
        try {
            rc = cl.execute(concat(base, "--pooling", "mean-with-special"));
        } finally {
            System.setOut(saved);
        }
        assertEquals(2, rc, err.toString());
        assertTrue(err.toString().contains("pooling: mean -> mean-with-special"), err.toString());
        assertTrue(err.toString().contains("--rerun-changed"), err.toString());
        assertTrue(java.util.Arrays.equals(acc, Files.readAllBytes(out.resolve("variability.acc"))),
                "the old statistics are neither resumed nor touched");

        run(concat(base, "--pooling", "mean-with-special", "--rerun-changed"));
        JsonNode now = new ObjectMapper().readTree(out.resolve("variability.json").toFile());
        assertEquals("mean-with-special", now.get("pooling").asText());
        assertEquals("mean-with-special", now.get("fingerprint").get("pooling").asText());
        assertTrue(!now.get("layers").toString().equals(first.get("layers").toString()), "recomputed, not resumed");
        JsonNode old = new ObjectMapper().readTree(out.resolve("stale/1/variability.json").toFile());
        assertEquals(first.get("layers").toString(), old.get("layers").toString(), "the old analysis is kept aside");
        assertTrue(java.util.Arrays.equals(acc, Files.readAllBytes(out.resolve("stale/1/variability.acc"))));
    }

    @Test
    void aCheckpointWithoutAFingerprintIsNotResumed() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 40, 10, 3);
        Path out = tmp.resolve("out");
        String[] args = {"analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--out", out.toString()};
        run(args);
        Files.delete(out.resolve("fingerprint.json"));                 // as written before fingerprints were kept
        var cl = Main.commandLine();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cl.setErr(new java.io.PrintWriter(err, true));
        PrintStream saved = System.out;
        System.setOut(new PrintStream(new ByteArrayOutputStream(), true));
        try {
            assertEquals(2, cl.execute(args), err.toString());
        } finally {
            System.setOut(saved);
        }
        assertTrue(err.toString().contains("no fingerprint.json"), err.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

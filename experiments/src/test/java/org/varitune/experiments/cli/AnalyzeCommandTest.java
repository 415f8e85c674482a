package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
        for (JsonNode l : j.get("layers")) {
            double nu = l.get("nu").asDouble();
            assertTrue(nu > 0 && Double.isFinite(nu), "layer " + l.get("layer") + " nu " + nu);
            assertTrue(l.get("ci").get(0).asDouble() <= l.get("ci").get(1).asDouble());
            assertTrue(l.has("probe_accuracy"));
        }
        int head = j.get("recommendation").get("head_layer").asInt();
        assertTrue(head >= 1 && head <= 3, "head layer " + head);
        assertEquals(5, Files.readAllLines(out.resolve("variability.csv")).size(), "header + 4 layers");
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
}

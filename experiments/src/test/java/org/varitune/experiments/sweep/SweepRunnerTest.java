package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.cli.TinySetupAccess;
import org.varitune.experiments.report.SweepReport;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paper configs end to end on a tiny random model and a synthetic GLUE directory in the exact file layouts (all
 * eight tasks), shrunk to one seed and one epoch; and a sweep that resumes without redoing finished runs.
 */
class SweepRunnerTest {
    @TempDir Path tmp;

    private ExperimentConfig shrunk(String file, Path model, Path glue) throws Exception {
        ExperimentConfig c = ExperimentConfig.read(ExperimentConfigTest.configs().resolve(file),
                Map.of("MODEL_DIR", model.toString(), "GLUE_DIR", glue.toString()));
        ExperimentConfig.Train t = c.train().overriddenBy(new ExperimentConfig.Train(1, 1e-3, 8, 16, null, null, null,
                8, null, null));
        return new ExperimentConfig(c.name(), c.model(), c.glueDir(), c.tasks(), List.of(1L), c.methods(),
                new ExperimentConfig.Variability(c.variability().pooling(), c.variability().variant(), 0), t, Map.of());
    }

    @Test
    void paperConfigsRunEndToEndOnATinyModel() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 24, 12, 9);
        for (String file : List.of("paper/roberta-base-finetune.yaml", "paper/roberta-base-adapters.yaml")) {
            ExperimentConfig c = shrunk(file, model, glue);
            Path out = tmp.resolve(c.name());
            List<JsonNode> res = new SweepRunner(c, out, List.of("test"), new PrintStream(new ByteArrayOutputStream()),
                    null, null).run(0, 1);
            assertEquals(RunSpec.expand(c).size(), res.size(), file);
            int done = 0;
            for (JsonNode r : res) {
                String st = r.get("status").asText();
                assertTrue(st.equals("done") || st.equals("skipped"), r.get("id") + ": " + st);
                if (st.equals("done")) {
                    done++;
                    assertTrue(Double.isFinite(r.get("score").asDouble()), r.get("id") + " score");
                    assertTrue(Files.exists(out.resolve("runs").resolve(r.get("id").asText()).resolve("run.json")));
                } else {
                    assertTrue(r.get("k").asInt() > r.get("head_layer").asInt(), r.get("id") + " skipped: " + r.get("reason"));
                }
            }
            assertTrue(done >= 8 * 5, file + ": " + done + " runs done");
            SweepReport rep = SweepReport.read(List.of(out.resolve("runs")));
            assertEquals(8, rep.tasks().size(), "all eight GLUE tasks in the table");
            String md = rep.write(out);
            assertTrue(md.contains("| full | - |"), md);
            assertTrue(Files.exists(out.resolve("report.csv")) && Files.exists(out.resolve("score-vs-compute.png")));
            for (String task : c.tasks()) {
                assertTrue(Files.isDirectory(out.resolve("variability")) , "variability computed once per task");
            }
        }
    }

    @Test
    void theAuthorsConfigsRunEndToEndOnATinyModelWithTheirSettingsResolved() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);            // 3 layers: head 24 -> 3, M 18 -> 2
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 24, 12, 9);
        ExperimentConfig.AdapterSite small = new ExperimentConfig.AdapterSite(4, null, null, null);
        ExperimentConfig.Train tiny = new ExperimentConfig.Train(1, 1e-3, 8, 16, null, null, null, null, null, null,
                null, null, null, null, small, small);
        for (String file : List.of("authors/roberta-large-finetune.yaml", "authors/roberta-large-ef-adapters.yaml")) {
            ExperimentConfig c = ExperimentConfig.read(ExperimentConfigTest.configs().resolve(file),
                    Map.of("MODEL_DIR", model.toString(), "GLUE_DIR", glue.toString()));
            List<ExperimentConfig.Method> methods = new ArrayList<>();
            for (ExperimentConfig.Method m : c.methods()) {
                ExperimentConfig.Train mt = m.train() == null ? null : new ExperimentConfig.Train(null, null, null, null,
                        null, null, null, null, null, null, null, m.train().tuneLastLayer() == null ? null : 2, null, null,
                        null, null);
                methods.add(new ExperimentConfig.Method(m.name(), m.mode(), m.headLayer(), m.mode().equals("full") ? null
                        : List.of(1), mt));
            }
            ExperimentConfig shrunk = new ExperimentConfig(c.name(), c.model(), c.glueDir(), c.tasks(), c.seeds(), methods,
                    c.variability(), c.train().overriddenBy(tiny), Map.of());
            Path out = tmp.resolve(c.name());
            List<JsonNode> res = new SweepRunner(shrunk, out, List.of("test"), new PrintStream(new ByteArrayOutputStream()),
                    null, null).run(0, 1);
            assertEquals(1, res.size(), file);
            JsonNode r = res.get(0);
            assertEquals("done", r.get("status").asText(), file + ": " + r);
            assertEquals(3, r.get("head_layer").asInt(), "head on the top layer");
            JsonNode resolved = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(out.resolve("runs").resolve(r.get("id").asText()).resolve("run.json").toFile()).get("resolved");
            assertEquals("FIRST_TOKEN", resolved.get("pooling").asText(), file);
            assertEquals("AUTHORS_DROPOUT", resolved.get("cache").asText(), file);
            assertEquals(0.0, resolved.get("weightDecay").asDouble(), file);
            assertEquals(0.0, resolved.get("maxGradNorm").asDouble(), file);
            assertEquals(20, resolved.get("initSeed").asInt(), file);
            if (file.contains("adapters")) {
                assertEquals(2, resolved.get("tuneLastLayer").asInt(), "the tuned block ends below the head");
                assertEquals("size=4,init=bert,position=before-dropout,dropout=0.1", resolved.get("attentionAdapter").asText());
                assertEquals("size=4,init=bert,position=after-dropout,dropout=0.1", resolved.get("outputAdapter").asText());
                assertEquals(1, r.get("tune_layers").asInt());
            }
        }
    }

    @Test
    void aResumedSweepSkipsFinishedRunsAndShardsCoverEverything() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 24, 12, 9);
        ExperimentConfig full = shrunk("paper/roberta-base-finetune.yaml", model, glue);
        ExperimentConfig c = new ExperimentConfig(full.name(), full.model(), full.glueDir(), List.of("rte", "sst2"),
                List.of(1L, 2L), full.methods(), full.variability(), full.train(), Map.of());
        Path out = tmp.resolve("sweep");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        // the "killed" sweep: only shard 0 of 2 finished
        List<JsonNode> first = new SweepRunner(c, out, List.of("test"), quiet, null, null).run(0, 2);
        Map<String, FileTime> stamps = new HashMap<>();
        for (JsonNode r : first) {
            Path f = out.resolve("runs").resolve(r.get("id").asText()).resolve("result.json");
            stamps.put(r.get("id").asText(), Files.getLastModifiedTime(f));
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<JsonNode> all = new SweepRunner(c, out, List.of("test"), new PrintStream(log, true), null, null).run(0, 1);
        assertEquals(RunSpec.expand(c).size(), all.size());
        for (var e : stamps.entrySet()) {
            Path f = out.resolve("runs").resolve(e.getKey()).resolve("result.json");
            assertEquals(e.getValue(), Files.getLastModifiedTime(f), e.getKey() + " was redone");
            assertTrue(log.toString().contains(e.getKey() + ": already"), log.toString());
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode r : all) ids.add(r.get("id").asText());
        assertEquals(RunSpec.expand(c).stream().map(RunSpec::id).toList(), ids);
    }
}

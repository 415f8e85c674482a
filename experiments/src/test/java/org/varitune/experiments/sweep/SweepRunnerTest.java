package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.cli.TinySetupAccess;
import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.GlueTask;
import org.varitune.experiments.data.TaskData;
import org.varitune.experiments.report.AtomicFiles;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paper configs end to end on a tiny random model and a synthetic GLUE directory in the exact file layouts (all
 * eight tasks), shrunk to one seed and one epoch; a sweep that resumes without redoing finished runs; and run
 * identity: results of other inputs (data, nu settings, no fingerprint) are refused, or redone on request, and the
 * reuse of an equivalent run goes by fingerprint.
 */
class SweepRunnerTest {
    @TempDir Path tmp;

    private ExperimentConfig shrunk(String file, Path model, Path glue) throws Exception {
        ExperimentConfig c = ExperimentConfig.read(ExperimentConfigTest.configs().resolve(file),
                Map.of("MODEL_DIR", model.toString(), "GLUE_DIR", glue.toString()));
        ExperimentConfig.Train t = c.train().overriddenBy(new ExperimentConfig.Train(1, 1e-3, 8, 16, null, null, null,
                null, null, null, null, null, null, null, Map.of("adapter_size", "8")));
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
            // guided k = 1 always runs (l* >= 1): one guided − top-k pair per task, within the method's family
            assertTrue(rep.paired().size() >= 8, file + ": " + rep.paired().size() + " pairs");
            for (SweepReport.Paired p : rep.paired()) assertEquals(p.guided().replace("guided", "top-k"), p.baseline(), file);
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
        ExperimentConfig.Train tiny = new ExperimentConfig.Train(1, 1e-3, 8, 16, null, null, null, null, null, null,
                null, null, null, null, Map.of("attention_adapter", "size=4", "output_adapter", "size=4"));
        for (String file : List.of("authors/roberta-large-finetune.yaml", "authors/roberta-large-ef-adapters.yaml")) {
            ExperimentConfig c = ExperimentConfig.read(ExperimentConfigTest.configs().resolve(file),
                    Map.of("MODEL_DIR", model.toString(), "GLUE_DIR", glue.toString()));
            List<ExperimentConfig.Method> methods = new ArrayList<>();
            for (ExperimentConfig.Method m : c.methods()) {
                ExperimentConfig.Train mt = m.train() == null ? null : new ExperimentConfig.Train(null, null, null, null,
                        null, null, null, null, null, null, null, null, null,
                        m.train().tuneLastLayer() == null ? null : 2, Map.of());
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
            assertEquals("first-token", resolved.get("headPooling").asText(), file);
            assertEquals("authors-dropout", resolved.get("prefixPolicy").asText(), file);
            assertEquals(0.0, resolved.get("weightDecay").asDouble(), file);
            assertEquals(0.0, resolved.get("maxGradNorm").asDouble(), file);
            assertEquals(20, resolved.get("initSeed").asInt(), file);
            if (file.contains("adapters")) {
                assertEquals(2, resolved.get("tuneLastLayer").asInt(), "the tuned block ends below the head");
                assertEquals("attention(size=4,init=bert,position=before-dropout,dropout=0.1) output(size=4,init=bert,"
                        + "position=after-dropout,dropout=0.1) activation=relu", resolved.get("adapters").asText(),
                        "the config's sites, their size 4 merged over them key by key");
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

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** One task, the given methods, one seed, one epoch of batch 8 on 16 tokens. */
    private static ExperimentConfig tiny(Path model, Path glue, List<ExperimentConfig.Method> methods,
                                         ExperimentConfig.Variability v) {
        return new ExperimentConfig("identity", model.toString(), glue.toString(), List.of("rte"), List.of(1L), methods,
                v, new ExperimentConfig.Train(1, 1e-3, 8, 16, null, null, null, null, null, null, null, null, null, null,
                Map.of("adapter_size", "8")), Map.of());
    }

    private static final ExperimentConfig.Method FULL = new ExperimentConfig.Method("full", "full", null, null, null);

    @Test
    void aChangedTrainingFileIsRefusedNamingTheExamplesAndRerunFromScratchWhenAsked() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 16, 8, 9);
        ExperimentConfig c = tiny(model, glue, List.of(FULL), null);
        Path out = tmp.resolve("sweep");
        JsonNode first = new SweepRunner(c, out, List.of("test"), QUIET, null, null).run(0, 1).get(0);
        assertEquals("done", first.get("status").asText());
        String oldExamples = first.get("fingerprint").get("examples").asText();
        Path runDir = out.resolve("runs/rte/full-k0/seed-1");
        String firstResult = Files.readString(runDir.resolve("result.json"));

        Path train = glue.resolve("RTE/train.tsv");                      // one label of one training example flips
        List<String> lines = new ArrayList<>(Files.readAllLines(train));
        String row = lines.get(1);
        String label = row.substring(row.lastIndexOf('\t') + 1);
        List<String> names = GlueTask.RTE.labelNames();
        lines.set(1, row.substring(0, row.lastIndexOf('\t') + 1) + names.get(1 - names.indexOf(label)));
        Files.write(train, lines);
        TaskData now = TaskData.glue(GlueTask.RTE, glue, 0);
        List<Dataset> splits = new ArrayList<>(List.of(now.train()));
        splits.addAll(now.devs());
        String newExamples = RunIdentity.examples(splits);
        assertFalse(newExamples.equals(oldExamples), "the examples hash sees one label");

        ResultGuard.ChangedResultsException e = assertThrows(ResultGuard.ChangedResultsException.class,
                () -> new SweepRunner(c, out, List.of("test"), QUIET, null, null).run(0, 1));
        assertTrue(e.getMessage().contains("rte/full-k0/seed-1: examples: " + oldExamples + " -> " + newExamples + "\n"),
                e.getMessage());
        assertTrue(e.getMessage().contains("--rerun-changed"), e.getMessage());
        assertEquals(firstResult, Files.readString(runDir.resolve("result.json")), "a refused sweep touches nothing");

        JsonNode again = new SweepRunner(c, out, List.of("test"), QUIET, null, null, true).run(0, 1).get(0);
        assertEquals("done", again.get("status").asText());
        assertEquals(newExamples, again.get("fingerprint").get("examples").asText());
        assertEquals(again.get("fingerprint_sha256").asText(), ResultGuard.recorded(runDir).sha256());
        Path stale = out.resolve("stale/1/runs/rte/full-k0/seed-1");
        assertEquals(firstResult, Files.readString(stale.resolve("result.json")), "the old result is kept, moved aside");
        assertTrue(Files.isDirectory(stale.resolve("checkpoints")), "with its checkpoints");
        try (var files = Files.walk(out.resolve("runs"))) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().equals("result.json")).count(),
                    "reports walk runs/: only the current result is there");
        }
    }

    @Test
    void aRunWithoutAFingerprintCountsAsChangedAndAnUnchangedRerunSkips() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 16, 8, 9);
        ExperimentConfig c = tiny(model, glue, List.of(FULL), null);
        Path out = tmp.resolve("sweep");
        new SweepRunner(c, out, List.of("test"), QUIET, null, null).run(0, 1);
        Path result = out.resolve("runs/rte/full-k0/seed-1/result.json");
        FileTime stamp = Files.getLastModifiedTime(result);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        new SweepRunner(c, out, List.of("test"), new PrintStream(log, true), null, null).run(0, 1);
        assertTrue(log.toString().contains("rte/full-k0/seed-1: already done"), log.toString());
        assertEquals(stamp, Files.getLastModifiedTime(result));

        Files.delete(out.resolve("runs/rte/full-k0/seed-1").resolve(ResultGuard.FILE));   // as written before this change
        ResultGuard.ChangedResultsException e = assertThrows(ResultGuard.ChangedResultsException.class,
                () -> new SweepRunner(c, out, List.of("test"), QUIET, null, null).run(0, 1));
        assertTrue(e.getMessage().contains("rte/full-k0/seed-1: no fingerprint.json"), e.getMessage());
    }

    @Test
    void guidedAtTheTopLayerReusesTopKByFingerprintButNotUnderAnotherLearningRate() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 16, 8, 9);
        ExperimentConfig.Method topK = new ExperimentConfig.Method("top-k", "top-k", "top", List.of(1), null);
        ExperimentConfig.Method guided = new ExperimentConfig.Method("guided", "partial", "3", List.of(1), null);
        List<JsonNode> res = new SweepRunner(tiny(model, glue, List.of(topK, guided), null), tmp.resolve("a"),
                List.of("test"), QUIET, null, null).run(0, 1);
        assertEquals(List.of("rte/guided-k1/seed-1", "rte/top-k-k1/seed-1"), res.stream().map(r -> r.get("id").asText()).toList());
        assertFalse(res.get(0).has("equivalent_to"), "the first of the two trains");
        assertEquals("rte/guided-k1/seed-1", res.get(1).get("equivalent_to").asText());
        assertEquals(res.get(0).get("score").asDouble(), res.get(1).get("score").asDouble());
        Fingerprint g = Fingerprint.fromJson(res.get(0).get("fingerprint"), "guided");
        Fingerprint t = Fingerprint.fromJson(res.get(1).get("fingerprint"), "top-k");
        assertEquals(List.of("method: guided -> top-k"), t.changesSince(g));

        ExperimentConfig.Method fasterTopK = new ExperimentConfig.Method("top-k", "top-k", "top", List.of(1),
                new ExperimentConfig.Train(null, 2e-3, null, null, null, null, null, null, null));
        List<JsonNode> other = new SweepRunner(tiny(model, glue, List.of(fasterTopK, guided), null), tmp.resolve("b"),
                List.of("test"), QUIET, null, null).run(0, 1);
        assertFalse(other.get(1).has("equivalent_to"), "another lr is another training: " + other.get(1));
        assertEquals("done", other.get(1).get("status").asText());
    }

    @Test
    void nuOfOtherSettingsIsRefusedNamingThem() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 16, 8, 9);
        List<ExperimentConfig.Method> guided = List.of(new ExperimentConfig.Method("guided", "partial", "auto", List.of(1), null));
        ExperimentConfig c = tiny(model, glue, guided, null);
        assertEquals(16, c.variability().maxLength(), "nu's max_length defaults to the shared train.max_length");
        Path out = tmp.resolve("sweep");
        SweepRunner first = new SweepRunner(c, out, List.of("test"), QUIET, null, null);
        JsonNode nu = first.variability("rte").json();
        assertEquals(16, nu.get("fingerprint").get("max_length").asInt());
        first.run(0, 1);
        ExperimentConfig shorter = tiny(model, glue, guided, new ExperimentConfig.Variability(null, null, 12, 10));
        ResultGuard.ChangedResultsException e = assertThrows(ResultGuard.ChangedResultsException.class,
                () -> new SweepRunner(shorter, out, List.of("test"), QUIET, null, null).run(0, 1));
        assertTrue(e.getMessage().contains("variability/rte-mean-paper: examples: "), e.getMessage());
        assertTrue(e.getMessage().contains("; max_examples: 0 -> 12; max_length: 16 -> 10"), e.getMessage());
    }
}

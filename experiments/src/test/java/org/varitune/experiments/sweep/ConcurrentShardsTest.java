package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.cli.Main;
import org.varitune.experiments.cli.TinySetupAccess;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.experiments.report.SweepReport;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job array on one machine: three {@code varitune sweep --shard i/3} processes (separate JVMs, started together)
 * into one output directory, then the report over it, equal to a single-process sweep of the same config: the same
 * runs with the same scores, the same nu, the same table; nu of each task computed by exactly one shard.
 */
class ConcurrentShardsTest {
    @TempDir Path tmp;

    private static final String CONFIG = """
            name: shards
            model: ${MODEL_DIR}
            glue_dir: ${GLUE_DIR}
            tasks: [rte, sst2]
            seeds: [1, 2]
            variability:
              pooling: mean
              variant: paper
            methods:
              - {name: full, mode: full}
              - {name: top-k, mode: top-k, head_layer: top, k: [1]}
              - {name: guided, mode: partial, head_layer: auto, k: [1]}
            train: {epochs: 1, lr: 0.001, batch_size: 8, max_length: 16}
            """;

    /** The child JVM: the CLI's main class on the test classpath, with this JVM's backend and varitune flags. */
    private static List<String> sweepCommand(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-modules") || a.startsWith("-Dkernels") || a.startsWith("-Dvaritune.")) cmd.add(a);
        }
        cmd.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "sweep"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void threeShardProcessesIntoOneDirectoryGiveTheReportOfOneProcess() throws Exception {
        Path model = TinySetupAccess.model(tmp.resolve("model"), 5);
        Path glue = TinySetupAccess.glueAll(tmp.resolve("glue"), 24, 12, 9);
        Path cfg = Files.writeString(tmp.resolve("shards.yaml"), CONFIG);
        Map<String, String> vars = Map.of("MODEL_DIR", model.toString(), "GLUE_DIR", glue.toString());
        ExperimentConfig c = ExperimentConfig.read(cfg, vars);
        int n = 3;
        assertEquals(12, RunSpec.expand(c).size(), "2 tasks x 3 methods x 2 seeds: 4 runs per shard");

        Path shared = tmp.resolve("shared");
        List<Process> shards = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            shards.add(new ProcessBuilder(sweepCommand(cfg.toString(), "--out", shared.toString(), "--shard", i + "/" + n,
                    "--set", "MODEL_DIR=" + model, "--set", "GLUE_DIR=" + glue))
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("shard-" + i + ".log").toFile()).start());
        }
        StringBuilder logs = new StringBuilder();
        for (int i = 0; i < n; i++) {
            Process p = shards.get(i);
            assertTrue(p.waitFor(600, TimeUnit.SECONDS), "shard " + i + " did not finish");
            String log = Files.readString(tmp.resolve("shard-" + i + ".log"));
            assertEquals(0, p.exitValue(), "shard " + i + ":\n" + log);
            logs.append(log);
        }
        Matcher m = Pattern.compile("variability of \\S+ on (\\w+) \\(").matcher(logs);
        List<String> computed = new ArrayList<>();
        while (m.find()) computed.add(m.group(1));
        assertEquals(List.of("rte", "sst2"), computed.stream().sorted().toList(),
                "each task's nu computed by one shard, read by the others");

        Path single = tmp.resolve("single");
        List<JsonNode> one = new SweepRunner(c, single, List.of("test"), new PrintStream(new ByteArrayOutputStream()),
                null, null).run(0, 1);
        String expected = SweepReport.read(List.of(single.resolve("runs"))).write(single);
        String merged = SweepReport.read(List.of(shared.resolve("runs"))).write(shared);
        assertEquals(expected, merged, "the report table");

        for (JsonNode r : one) {
            String id = r.get("id").asText();
            JsonNode s = AtomicFiles.JSON.readTree(shared.resolve("runs").resolve(id).resolve("result.json").toFile());
            for (String key : List.of("status", "head_layer", "tune_layers", "score", "best_dev", "best_epoch")) {
                assertEquals(r.get(key), s.get(key), id + ": " + key);
            }
        }
        for (String task : c.tasks()) {
            Path rel = Path.of("variability", task + "-mean-paper", "variability.json");
            JsonNode a = AtomicFiles.JSON.readTree(single.resolve(rel).toFile());
            JsonNode b = AtomicFiles.JSON.readTree(shared.resolve(rel).toFile());
            assertEquals(a.get("layers"), b.get("layers"), task + ": nu per layer");
            assertEquals(a.get("recommendation"), b.get("recommendation"), task + ": recommendation");
        }
    }
}

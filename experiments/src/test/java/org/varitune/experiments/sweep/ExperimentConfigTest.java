package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentConfigTest {
    @TempDir Path tmp;

    static Path configs() {
        Path p = Path.of("configs");                      // surefire runs in the module directory
        return Files.isDirectory(p) ? p : Path.of("experiments/configs");
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(tmp.resolve("c.yaml"), yaml);
    }

    @Test
    void everyShippedConfigParsesAndExpands() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(configs())) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 5, "paper configs and demo: " + files);
        for (Path f : files) {
            ExperimentConfig c = ExperimentConfig.read(f, Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
            assertTrue(RunSpec.expand(c).size() >= 3, f.toString());
        }
        ExperimentConfig paper = ExperimentConfig.read(configs().resolve("paper/roberta-base-finetune.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        // 8 tasks x (full + 4 top-k + 4 guided) x 3 seeds
        assertEquals(8 * 9 * 3, RunSpec.expand(paper).size());
        assertEquals(3, paper.trainFor("mnli", "full").epochs());
        assertEquals(10, paper.trainFor("rte", "guided").epochs());
        assertEquals(128, paper.trainFor("rte", "guided").maxLength());
        ExperimentConfig adapters = ExperimentConfig.read(configs().resolve("paper/roberta-base-adapters.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        assertEquals(1e-4, adapters.trainFor("rte", "guided-adapters").lr());
        assertEquals(2e-5, adapters.trainFor("rte", "full").lr());
    }

    @Test
    void rejectsAnUnknownKeyNamingItAndTheLine() throws IOException {
        Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\ntrain:\n  epochz: 3\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("unknown key 'epochz'") && e.getMessage().contains("line 7"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void rejectsAWrongTypeNamingTheKey() throws IOException {
        Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\ntrain:\n  epochs: three\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("train.epochs"), e.getMessage());
    }

    @Test
    void rejectsMissingRequiredKeysAndBadMethods() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> ExperimentConfig.read(write("name: x\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n"), Map.of()));
        assertTrue(e.getMessage().contains("model"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: partial}\n"), Map.of()));
        assertTrue(e.getMessage().contains("method 'g' (partial) needs k"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: sideways}\n"), Map.of()));
        assertTrue(e.getMessage().contains("mode 'sideways'"), e.getMessage());
    }

    @Test
    void nuMaxLengthDefaultsToTheSharedTrainMaxLengthNotAMethods() throws IOException {
        String base = "name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: partial, head_layer: auto, k: [1],"
                + " train: {max_length: 32}}\ntrain: {max_length: 96}\n";
        assertEquals(96, ExperimentConfig.read(write(base), Map.of()).variability().maxLength());
        ExperimentConfig c = ExperimentConfig.read(write(base + "variability: {max_length: 64}\n"), Map.of());
        assertEquals(64, c.variability().maxLength());
        assertEquals("MEAN_NON_SPECIAL", c.variability().pooling());
        assertEquals(128, ExperimentConfig.read(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: f, mode: full}\n"),
                Map.of()).variability().maxLength(), "the default train.max_length");
    }

    @Test
    void unsetPlaceholderIsAnError() throws IOException {
        Path f = write("name: x\nmodel: ${NO_SUCH_VARITUNE_VAR}\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("${NO_SUCH_VARITUNE_VAR}"), e.getMessage());
    }

    @Test
    void shardsCoverEveryRunExactlyOnce() throws IOException {
        ExperimentConfig c = ExperimentConfig.read(configs().resolve("paper/roberta-base-finetune.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        List<RunSpec> all = RunSpec.expand(c);
        for (int n : new int[] {1, 3, 7, 1000}) {
            Set<String> seen = new HashSet<>();
            int total = 0;
            for (int i = 0; i < n; i++) {
                for (RunSpec r : RunSpec.shard(all, i, n)) {
                    assertTrue(seen.add(r.id()), "run " + r.id() + " in two shards of " + n);
                    total++;
                }
            }
            assertEquals(all.size(), total, "n = " + n);
        }
        assertEquals(RunSpec.shard(all, 2, 7), RunSpec.shard(RunSpec.expand(c), 2, 7), "deterministic");
        assertThrows(IllegalArgumentException.class, () -> RunSpec.parseShard("3"));
        assertThrows(IllegalArgumentException.class, () -> RunSpec.shard(all, 3, 3));
    }
}

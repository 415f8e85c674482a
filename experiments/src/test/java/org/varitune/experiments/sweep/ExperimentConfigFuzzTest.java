package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.testing.FuzzCampaign;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link ExperimentConfig#read} with the shipped configs and a small one under text, line and value edits. An
 * accepted config must be usable as loaded: it expands to runs, and every run's hyperparameters and numeric
 * head layer resolve without error (what used to fail only when the run started). A rejected one must raise an
 * {@link IOException} naming the file.
 */
@Tag("fuzz")
class ExperimentConfigFuzzTest extends TestBase {
    private static final Map<String, String> VARS = Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g");
    private static final String[] VALUES = {"~", "[~]", "[]", "{}", "0", "-1", "1", "3", "2147483648", "1e400", ".nan",
            ".inf", "-.inf", "0x10", "1.5", "\"\"", "top", "auto", "mean", "bogus", "[1, ~]", "[0]", "[-2, 1]", "yes", "2e-5", "!!str 3",
            "&a 1", "*a", "[[[[1]]]]", "'", "\"", "\t1"};

    @TempDir Path dir;

    @Test
    void everyExperimentFileLoadsUsablyOrIsRejectedWithAnErrorNamingTheFile() throws Exception {
        List<String> bases = new ArrayList<>();
        try (Stream<Path> s = Files.walk(ExperimentConfigTest.configs())) {
            for (Path p : s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) bases.add(Files.readString(p));
        }
        bases.add(ExperimentConfigLoadErrorTest.VALID + "seeds: [1]\ntrain:\n  epochs: 2\n  lr: 1e-3\n");
        FuzzCampaign c = new FuzzCampaign("experiment-yaml", IOException.class).run(FuzzCampaign.cases(3000), k -> {
            Random r = k.random();
            String text = bases.get(r.nextInt(bases.size()));
            int edits = 1 + r.nextInt(2);
            for (int i = 0; i < edits; i++) text = edit(k, r, text);
            Path f = k.file(dir.resolve("c" + k.index() % 8 + ".yaml"));
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            if (r.nextInt(20) == 0) {                                  // a byte that is not UTF-8
                bytes = bytes.clone();
                bytes[r.nextInt(bytes.length)] = (byte) (0x80 | r.nextInt(0x80));
                k.note("invalid UTF-8 byte");
            }
            Files.write(f, bytes);
            checkUsable(ExperimentConfig.read(f, VARS));
        });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    /** Replaces a value after a "key:" or "- ", removes or duplicates a line, or applies a text mutation. */
    private static String edit(FuzzCampaign.Case k, Random r, String text) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        int li = r.nextInt(lines.size());
        String line = lines.get(li);
        switch (r.nextInt(5)) {
            case 0, 1 -> {
                int colon = line.indexOf(": ");
                int at = colon >= 0 ? colon + 2 : line.indexOf("- ") >= 0 ? line.indexOf("- ") + 2 : -1;
                if (at < 0) return text;
                String v = VALUES[r.nextInt(VALUES.length)];
                k.note("line " + (li + 1) + " value = " + v);
                lines.set(li, line.substring(0, at) + v);
            }
            case 2 -> { k.note("line " + (li + 1) + " removed"); lines.remove(li); }
            case 3 -> { k.note("line " + (li + 1) + " duplicated"); lines.add(li, line); }
            default -> { return FuzzCampaign.mutateText(k, text); }
        }
        return String.join("\n", lines);
    }

    /** What a sweep does with a loaded config before any model is read: expand, resolve hyperparameters and layers. */
    private static void checkUsable(ExperimentConfig c) {
        for (RunSpec run : RunSpec.expand(c)) {
            TuningMode mode = Spelled.parse(TuningMode.class, run.mode(), "mode");
            TrainConfig.Builder b = c.trainFor(run.task(), run.method()).applyTo(TrainConfig.builder().mode(mode));
            if (mode != TuningMode.FULL && mode != TuningMode.PROBE) b.tuneLayers(run.k());
            b.seed(run.seed()).build();
            if (!run.headLayer().equals("top") && !run.headLayer().equals("auto")) {
                assertTrue(Integer.parseInt(run.headLayer()) >= 1, "head layer " + run.headLayer());
            }
        }
    }
}

package org.varitune.experiments.cli;

import org.junit.jupiter.api.Test;
import org.varitune.experiments.data.BuiltinTasks;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.experiments.sweep.ExperimentConfig.Method;
import org.varitune.transformer.models.BuiltinModels;
import org.varitune.transformer.testing.TestBase;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code varitune demo} runs: the config it reads from the classpath. */
class DemoConfigTest extends TestBase {

    private static ExperimentConfig demo() throws Exception {
        try (InputStream in = DemoCommand.class.getResourceAsStream(DemoCommand.RESOURCE)) {
            assertNotNull(in, DemoCommand.RESOURCE);
            return ExperimentConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    Path.of("experiments/configs/demo.yaml"), Map.of());
        }
    }

    /**
     * A demo over results of other inputs (another backend, say) refuses with "recompute it with --rerun-changed", as
     * sweep and analyze do: each of them must accept that flag.
     */
    @Test
    void commandsThatRefuseChangedResultsAcceptTheFlagTheRefusalNames() {
        for (Object cmd : List.of(new DemoCommand(), new SweepCommand(), new AnalyzeCommand())) {
            var spec = new picocli.CommandLine(cmd).getCommandSpec();
            assertNotNull(spec.findOption("--rerun-changed"), spec.name() + " has no --rerun-changed");
        }
    }

    @Test
    void demoRunsABuiltinModelAndTaskOverThreeSeeds() throws Exception {
        ExperimentConfig c = demo();
        assertTrue(BuiltinModels.names().contains(c.model()), c.model());
        assertEquals(List.of(BuiltinTasks.BIGRAM_SHIFT), c.tasks());
        assertEquals(List.of(1L, 2L, 3L), c.seeds());
    }

    @Test
    void demoComparesGuidedAndTopKAtTheSameKWithFullFineTuning() throws Exception {
        List<Method> m = demo().methods();
        assertEquals(List.of("full", "top-k", "guided"), m.stream().map(Method::name).toList());
        assertEquals(List.of("full", "top-k", "partial"), m.stream().map(Method::mode).toList());
        assertEquals(List.of("top", "top", "auto"), m.stream().map(Method::headLayer).toList());
        assertEquals(m.get(1).k(), m.get(2).k(), "top-k and guided tune the same number of layers");
    }
}

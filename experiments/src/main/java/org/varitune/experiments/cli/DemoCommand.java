package org.varitune.experiments.cli;

import org.varitune.experiments.analysis.Analysis;
import org.varitune.experiments.report.SweepReport;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.experiments.sweep.SweepRunner;
import org.varitune.training.LayerPlan;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.TuningMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.Callable;

/**
 * {@code varitune demo}: the main job on the built-in model and task ({@code experiments/configs/demo.yaml}):
 * measure the variability of every layer, recommend l* and k, then train variability-guided partial tuning, top-k
 * tuning and full fine-tuning with the same budget, and print the comparison table with the paths of the plots and
 * report. A second run reuses what is finished.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the method end to end on the built-in model and task (experiments/configs/demo.yaml).")
public final class DemoCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Option(names = "--out", defaultValue = "runs/demo", description = "Output directory (default: ${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--rerun-changed",
            description = "Results in --out computed from other inputs (e.g. another kernels backend) are moved to "
                    + "OUT/stale/<n>/ and computed again. Without it the demo refuses and lists what changed.")
    boolean rerunChanged;

    static final String RESOURCE = "/configs/demo.yaml";

    @Override
    public Integer call() throws Exception {
        device.apply();
        long t0 = System.nanoTime();
        String text;
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("demo config " + RESOURCE + " is missing from the classpath");
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ExperimentConfig c = ExperimentConfig.parse(text, Path.of("experiments/configs/demo.yaml"), Map.of());
        String task = c.tasks().get(0);
        System.out.printf("varitune demo: %s on %s; methods %s; %d epochs each; seeds %s; output in %s%n", c.model(),
                task, c.methods().stream().map(m -> m.name() + (m.k().get(0) > 0 ? " k=" + m.k() : "")).toList(),
                c.train().epochs(), c.seeds(), out.toAbsolutePath());
        List<String> argv = rerunChanged ? List.of("demo", "--out", out.toString(), "--rerun-changed")
                : List.of("demo", "--out", out.toString());
        SweepRunner runner = new SweepRunner(c, out, argv, System.out, new TrainCommand.Printer(),
                (label, total) -> { ProgressBar b = new ProgressBar(label, total); return b::set; }, rerunChanged);
        System.out.println("\n== 1. variability of every layer on the training set");
        Analysis.Stored v = runner.variability(task);
        int L = org.varitune.transformer.model.EncoderConfig.read(
                org.varitune.transformer.models.ModelResolver.resolve(c.model())).numHiddenLayers();
        LayerPlan guided = LayerPlan.of(L, TuningMode.PARTIAL, OptionalInt.of(v.headLayer()), v.tuneLayers(),
                OptionalInt.empty(), PrefixCachePolicy.CACHED);
        System.out.printf(Locale.ROOT, "l* = %d, k = %d (variability-guided partial tuning: head on layer %d, tune layers"
                        + " %d..%d)%n", v.headLayer(), v.tuneLayers(), guided.headLayer(), guided.firstTuned(),
                guided.lastTuned());
        if (guided.droppedLayers().isEmpty()) {
            System.out.println("l* is the top layer for this model and task: guided tuning coincides with top-k tuning "
                    + "(the run is reused, not repeated)");
        }
        System.out.println("\n== 2. training: full fine-tuning, top-k, variability-guided (same epochs, lr, batch)");
        runner.run(0, 1);
        System.out.println("\n== 3. comparison (dev accuracy x100)");
        SweepReport report = SweepReport.read(List.of(out.resolve("runs")));
        System.out.print(report.write(out));
        // only the current analyses: results moved to OUT/stale/ by --rerun-changed stay out of the plot
        Path nu = out.resolve("variability");
        if (java.nio.file.Files.isDirectory(nu)) SweepReport.nuPerLayer(List.of(nu), out.resolve("nu-per-layer.png"));
        System.out.printf(Locale.ROOT, "%nplots: %s, %s, %s%nreport: %s (also .csv, .json)%ntotal %.1f s%n",
                out.resolve("variability").toAbsolutePath(), out.resolve("nu-per-layer.png").toAbsolutePath(),
                out.resolve("score-vs-compute.png").toAbsolutePath(), out.resolve("report.md").toAbsolutePath(),
                (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}

package org.varitune.experiments.cli;

import org.varitune.experiments.report.SweepReport;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.experiments.sweep.RunSpec;
import org.varitune.experiments.sweep.SweepRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code varitune sweep CONFIG --out DIR [--shard i/n] [--set KEY=VALUE ...] [--rerun-changed]}: runs an experiment
 * config (see {@link SweepRunner} for what is skipped, resumed or refused).
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Run every run of an experiment config (or one shard of it); finished runs with the same "
                + "inputs are skipped, interrupted ones resume, runs of other inputs are refused (see --rerun-changed). "
                + "Then write the report of what is done.")
public final class SweepCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Parameters(index = "0", description = "Experiment YAML, e.g. experiments/configs/paper/roberta-base-finetune.yaml")
    Path config;

    @Option(names = "--out", required = true, description = "Sweep directory (runs/, variability/, report.*).")
    Path out;

    @Option(names = "--shard", defaultValue = "0/1",
            description = "i/n: run only the runs at positions i, i+n, i+2n, ... of the sorted run list (job arrays).")
    String shard;

    /** Picocli splits each value at its first '=' (the value may hold more) and refuses one without '='. */
    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "A value for ${KEY} placeholders in the config (repeatable; the last one of a KEY wins).")
    Map<String, String> sets = new LinkedHashMap<>();

    @Spec CommandSpec spec;

    @Option(names = "--dry-run", description = "List this shard's runs and exit.")
    boolean dryRun;

    @Option(names = "--rerun-changed",
            description = "Runs (and nu analyses) in --out that were computed from other inputs (config values, data, "
                    + "model, backend) are moved to DIR/stale/<n>/ and run again. Without it the sweep refuses and "
                    + "lists what changed.")
    boolean rerunChanged;

    @Override
    public Integer call() throws Exception {
        for (String key : sets.keySet()) {
            if (key.isEmpty()) {
                throw new ParameterException(spec.commandLine(), "--set expects KEY=VALUE, got an empty KEY in '="
                        + sets.get(key) + "'");
            }
        }
        int[] sh = RunSpec.parseShard(shard);                 // a bad --shard fails before the config is read
        ExperimentConfig c = ExperimentConfig.read(config, sets);
        device.apply(c.device());
        List<RunSpec> mine = RunSpec.shard(RunSpec.expand(c), sh[0], sh[1]);
        System.out.printf("experiment %s: %d runs in all, %d in shard %s%n", c.name(), RunSpec.expand(c).size(),
                mine.size(), shard);
        if (dryRun) {
            for (RunSpec r : mine) System.out.println("  " + r.id());
            return 0;
        }
        List<String> argv = new ArrayList<>(List.of("sweep", config.toString(), "--out", out.toString(), "--shard", shard));
        sets.forEach((k, v) -> argv.addAll(List.of("--set", k + "=" + v)));
        if (rerunChanged) argv.add("--rerun-changed");
        SweepRunner runner = new SweepRunner(c, out, argv, System.out, new TrainCommand.Printer(),
                (label, total) -> { ProgressBar b = new ProgressBar(label, total); return b::set; }, rerunChanged);
        runner.run(sh[0], sh[1]);
        SweepReport report = SweepReport.read(List.of(out.resolve("runs")));
        System.out.println();
        System.out.print(report.write(out));
        // only the current analyses: results moved to DIR/stale/ by --rerun-changed stay out of the plot
        Path nu = out.resolve("variability");
        if (Files.isDirectory(nu)) SweepReport.nuPerLayer(List.of(nu), out.resolve("nu-per-layer.png"));
        System.out.println("wrote " + out.resolve("report.md") + ", report.csv, report.json, score-vs-compute.png, nu-per-layer.png");
        return 0;
    }
}

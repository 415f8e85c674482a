package org.varitune.experiments.cli;

import org.varitune.experiments.report.SweepReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code varitune report DIR... [--out DIR]}: merges result directories (shards, or the sweeps of several models and
 * experiments) into one report: rows per (model, method, k), each run counted once, and the paired guided − baseline
 * comparison (see {@link SweepReport}).
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Merge the results under one or more sweep directories into the paper-style table, one row per "
                + "(model, method, k), each run counted once, and the paired guided - baseline comparison "
                + "(Markdown, CSV, JSON) with plots.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", description = "Sweep or result directories (searched recursively for result.json).")
    List<Path> dirs;

    @Option(names = "--out", description = "Where to write report.* (default: the first directory).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path target = out != null ? out : dirs.get(0);
        SweepReport r = SweepReport.read(dirs);
        System.out.print(r.write(target));
        int n = SweepReport.nuPerLayer(dirs, target.resolve("nu-per-layer.png"));
        System.out.println("wrote " + target.resolve("report.md") + ", report.csv, report-paired.csv, report.json, "
                + "score-vs-compute.png"
                + (n > 0 ? ", nu-per-layer.png (" + n + " analyses)" : ""));
        return 0;
    }
}

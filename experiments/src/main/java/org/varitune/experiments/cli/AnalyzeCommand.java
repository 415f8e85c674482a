package org.varitune.experiments.cli;

import org.varitune.experiments.analysis.Analysis;
import org.varitune.experiments.analysis.VariabilityPass;
import org.varitune.experiments.data.TaskData;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.experiments.sweep.Fingerprint;
import org.varitune.experiments.sweep.ResultGuard;
import org.varitune.experiments.sweep.RunIdentity;
import org.varitune.experiments.sweep.SweepRunner;
import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.io.IOException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;

/**
 * {@code varitune analyze}: variability of every layer on a task's training set, and the layer recommendation. The
 * analysis is fingerprinted ({@link RunIdentity#variability}) in {@code OUT/fingerprint.json}: a rerun into the same
 * {@code --out} resumes or recomputes it only under the same fingerprint, and refuses otherwise (see
 * {@code --rerun-changed}).
 */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "Compute the variability ratio nu of every layer, its bootstrap CI and a linear probe, "
                + "recommend the head layer l* and k, and write variability.{json,csv,png}.")
public final class AnalyzeCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Built-in name or HF model directory.")
    String model;

    @Mixin TaskOptions task = new TaskOptions();

    @Option(names = "--max-length", defaultValue = "128") int maxLength;
    @Option(names = "--batch-size", defaultValue = "32") int batchSize;
    @Option(names = "--pooling", description = "How a text's token states become the vector nu is measured on: "
            + "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}). mean = text tokens, specials excluded; "
            + "mean-with-special = every non-pad token; first-token = [CLS] / <s>.")
    Pooling pooling = ExperimentConfig.Variability.DEFAULTS.pooling();
    @Option(names = "--variant", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}): paper = Xie et al. "
            + "eq. 3, classes weigh equally; papyan = Papyan et al.'s NC1, examples weigh equally.")
    Variant variant = ExperimentConfig.Variability.DEFAULTS.variant();
    @Option(names = "--head-pooling", hidden = true, description = "Not an analyze option (train's head pooling).")
    String headPooling;
    @Option(names = "--out", required = true, description = "Output directory (a killed pass resumes from it).")
    Path out;
    @Option(names = "--rerun-changed",
            description = "When --out holds an analysis of other inputs (model, data, pooling, variant, max length, "
                    + "...), move it to OUT/stale/<n>/ and compute afresh. Without it analyze refuses and lists what "
                    + "changed.")
    boolean rerunChanged;

    /** The files of an analysis in --out; any of them present means the directory holds (part of) one. */
    static final List<String> OUTPUTS = List.of("variability.acc", "variability.acc.settings", "variability.json",
            "variability.csv", "variability.png");

    /**
     * The variability analysis of {@code data} into {@code out}, fingerprinted: computed (or resumed from its
     * checkpoint) under the same fingerprint, refused under another unless {@code rerunChanged} (the old files are
     * moved to {@code out/stale/<n>/}). Prints the table.
     */
    static Analysis.Result analyze(String model, Path dir, Kernels kernels, TaskOptions task, TaskData data,
                                   VariabilityPass.Options o, Path out, boolean rerunChanged) throws IOException {
        Tokenizer tok = Tokenizers.load(dir);
        Encoder enc = Encoder.load(dir, kernels);
        System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d; task %s: %d training examples, %d classes%n",
                model, enc.numLayers(), enc.config().hiddenSize(), task.name(), data.train().examples().size(),
                TaskData.metricClassCount(data.train()));
        Fingerprint fp = fingerprint(model, dir, kernels, task, data, o);
        List<Path> outputs = OUTPUTS.stream().map(out::resolve).toList();
        ResultGuard.Check check = ResultGuard.check(out, fp, outputs);
        if (check.state() == ResultGuard.State.CHANGED) {
            if (!rerunChanged) {
                throw new ResultGuard.ChangedResultsException(ResultGuard.describe(out, "variability analysis",
                        "variability analyses",
                        List.of(check), "recompute it with --rerun-changed"));
            }
            List<Path> old = new ArrayList<>(outputs);
            old.add(out.resolve(ResultGuard.FILE));
            System.out.println("inputs changed (" + String.join("; ", check.changes()) + "): the old analysis is now in "
                    + ResultGuard.moveAside(out, old));
        }
        ResultGuard.record(out, fp);                       // before the pass writes its checkpoint (variability.acc)
        Analysis.Result r;
        try (ProgressBar bar = new ProgressBar("variability pass", data.train().examples().size())) {
            r = Analysis.run(model, task.name(), enc, tok, data, o, out, bar::set);
        }
        SweepRunner.stamp(r.json(), fp);
        Analysis.printTable(System.out, r.report(), r.recommendation());
        return r;
    }

    /** What decides an analysis: model, tokenizer, the examples read, the pass options, numerics. */
    static Fingerprint fingerprint(String model, Path dir, Kernels kernels, TaskOptions task, TaskData data,
                                   VariabilityPass.Options o) throws IOException {
        return RunIdentity.variability(RunIdentity.model(model, dir), task.name(), data.train(), task.maxExamples, o,
                o.variant(), kernels);
    }

    /**
     * The analysis in {@code out} when it was made from exactly these inputs (its fingerprint), else empty.
     */
    static java.util.Optional<Analysis.Stored> reusable(Path out, Fingerprint fp) throws IOException {
        Path json = out.resolve("variability.json");
        if (!Files.isRegularFile(json)) return java.util.Optional.empty();
        JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        if (!fp.sha256().equals(j.path("fingerprint_sha256").asText())) return java.util.Optional.empty();
        return java.util.Optional.of(Analysis.Stored.of(json, j));
    }

    @Override
    public Integer call() throws Exception {
        device.apply();
        if (headPooling != null) {
            throw new IllegalArgumentException("analyze has no --head-pooling (that is train's head); the pooling of "
                    + "nu is --pooling");
        }
        Main.requireFlag(maxLength >= 2, "--max-length", maxLength, ">= 2");
        Main.requireFlag(batchSize >= 1, "--batch-size", batchSize, ">= 1");
        Main.requireFlag(task.maxExamples >= 0, "--max-examples", task.maxExamples, ">= 0 (0 = all)");
        Path dir = ModelSpec.directory(model);
        Kernels kernels = Kernels.fromSystemProperty();
        TaskData data = task.load();
        VariabilityPass.Options o = new VariabilityPass.Options(maxLength, batchSize, pooling, variant,
                VariabilityPass.DEFAULT_RESERVOIR_PER_CLASS, 17L, null, 20);
        Analysis.Result r = analyze(model, dir, kernels, task, data, o, out, rerunChanged);
        System.out.println("config snippet:\n" + r.recommendation().yaml().indent(2).stripTrailing());
        System.out.println("wrote " + r.json() + ", " + r.csv() + ", " + r.png());
        return 0;
    }
}

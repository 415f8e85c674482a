package org.varitune.experiments.cli;

import org.varitune.experiments.analysis.Analysis;
import org.varitune.experiments.analysis.VariabilityPass;
import org.varitune.experiments.data.TaskData;
import org.varitune.metrics.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code varitune analyze}: variability of every layer on a task's training set, and the layer recommendation. */
@Command(name = "analyze", mixinStandardHelpOptions = true,
        description = "Compute the variability ratio nu of every layer, its bootstrap CI and a linear probe, "
                + "recommend the head layer l* and k, and write variability.{json,csv,png}.")
public final class AnalyzeCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Built-in name or HF model directory.")
    String model;

    @Mixin TaskOptions task = new TaskOptions();

    @Option(names = "--max-length", defaultValue = "128") int maxLength;
    @Option(names = "--batch-size", defaultValue = "32") int batchSize;
    @Option(names = "--pooling", defaultValue = "MEAN_NON_SPECIAL",
            description = "MEAN_NON_SPECIAL (default), CLS, MEAN_NON_PAD.")
    Pooling pooling;
    @Option(names = "--variant", defaultValue = "PAPER_CLASS_BALANCED",
            description = "PAPER_CLASS_BALANCED (default, Xie et al. eq. 3) or PAPYAN_SAMPLE_WEIGHTED.")
    Variant variant;
    @Option(names = "--out", required = true, description = "Output directory (a killed pass resumes from it).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path dir = ModelSpec.directory(model);
        Tokenizer tok = Tokenizers.load(dir);
        Encoder enc = Encoder.load(dir, Kernels.fromSystemProperty());
        TaskData data = task.load();
        System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d; task %s: %d training examples, %d classes%n",
                model, enc.numLayers(), enc.config().hiddenSize(), task.name(), data.train().examples().size(),
                TaskData.metricClassCount(data.train()));
        VariabilityPass.Options o = new VariabilityPass.Options(maxLength, batchSize, pooling, variant,
                VariabilityPass.DEFAULT_RESERVOIR_PER_CLASS, 17L, null, 20);
        Analysis.Result r;
        try (ProgressBar bar = new ProgressBar("variability pass", data.train().examples().size())) {
            r = Analysis.run(model, task.name(), enc, tok, data, o, out, bar::set);
        }
        Analysis.printTable(System.out, r.report(), r.recommendation());
        System.out.println("config snippet:\n" + r.recommendation().yaml().indent(2).stripTrailing());
        System.out.println("wrote " + r.json() + ", " + r.csv() + ", " + r.png());
        return 0;
    }
}

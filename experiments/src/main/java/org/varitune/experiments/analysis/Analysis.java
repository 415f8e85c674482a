package org.varitune.experiments.analysis;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.experiments.data.TaskData;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.experiments.report.Plots;
import org.varitune.metrics.LayerSelection;
import org.varitune.metrics.VariabilityAccumulator;
import org.varitune.metrics.VariabilityReport;
import org.varitune.metrics.Variant;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tokenize.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * The {@code analyze} job: a variability pass over the training set, the report (nu per layer, bootstrap CI, probe
 * accuracy), the layer recommendation, and the files {@code variability.json}, {@code variability.csv},
 * {@code variability.png} in the output directory.
 */
public final class Analysis {
    /** Relative tolerance of the pseudo-inverse of Sb (see {@code RatioMath}). */
    public static final double PINV_TOLERANCE = 1e-8;

    public record Result(VariabilityReport report, LayerSelection.Recommendation recommendation, long examples,
                         Path json, Path csv, Path png) {}

    private Analysis() {}

    public static Result run(String modelName, String taskName, Encoder encoder, Tokenizer tokenizer, TaskData data,
                             VariabilityPass.Options o, Variant variant, Path outDir, LongConsumer progress)
            throws IOException {
        VariabilityAccumulator acc = VariabilityPass.run(encoder, tokenizer, data.train(),
                new VariabilityPass.Options(o.maxLength(), o.batchSize(), o.pooling(), o.reservoirPerClass(), o.seed(),
                        outDir.resolve("variability.acc"), o.checkpointEvery()),
                variant == Variant.PAPYAN_SAMPLE_WEIGHTED, progress);
        VariabilityReport report = VariabilityReport.of(acc, variant, PINV_TOLERANCE, o.pooling(), true);
        int numLabels = data.numLabels();
        LayerSelection.Recommendation rec = LayerSelection.recommend(report.nu(), encoder.config(),
                numLabels, LayerSelection.Options.defaults());
        Path json = outDir.resolve("variability.json"), csv = outDir.resolve("variability.csv"),
                png = outDir.resolve("variability.png");
        AtomicFiles.writeJson(json, toJson(modelName, taskName, report, rec, acc.totalCount()));
        AtomicFiles.writeString(csv, toCsv(report));
        Plots.variability(png, "variability per layer: " + modelName + " on " + taskName, report.nu(),
                report.bootstrap() == null ? null : report.bootstrap().lo(),
                report.bootstrap() == null ? null : report.bootstrap().hi(), probe(report), rec.headLayer());
        return new Result(report, rec, acc.totalCount(), json, csv, png);
    }

    static double[] probe(VariabilityReport r) {
        if (r.probe() == null) return null;
        return r.probe().stream().mapToDouble(p -> p.testAccuracy()).toArray();
    }

    /** The run's JSON: the documented fields first, then the metrics report in full under "report". */
    public static ObjectNode toJson(String model, String task, VariabilityReport r, LayerSelection.Recommendation rec,
                                    long examples) {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        o.put("model", model);
        o.put("task", task);
        o.put("variant", r.variant().spelling());
        o.put("pseudo_inverse_relative_tolerance", r.relativeTolerance());
        o.put("pooling", r.pooling().spelling());
        o.put("examples", examples);
        o.put("layer_indexing", "layer = HF hidden_states index; 0 = embeddings output, l = output of layer l");
        ArrayNode ls = o.putArray("layers");
        double[] probe = probe(r);
        for (int l = 0; l < r.layers().size(); l++) {
            ObjectNode n = ls.addObject();
            n.put("layer", l);
            n.put("nu", r.layers().get(l).nu());
            if (r.bootstrap() != null) {
                n.putArray("ci").add(r.bootstrap().lo()[l]).add(r.bootstrap().hi()[l]);
            }
            if (probe != null) n.put("probe_accuracy", probe[l]);
        }
        ObjectNode rc = o.putObject("recommendation");
        rc.put("head_layer", rec.headLayer());
        rc.put("tune_layers", rec.tuneLayers());
        rc.put("argmin_layer", rec.argminLayer());
        rc.put("forward_fraction", rec.forwardFraction());
        rc.put("backward_fraction", rec.backwardFraction());
        rc.put("train_step_fraction", rec.trainStepFraction());
        rc.put("trainable_parameters", rec.trainableParams());
        rc.put("full_finetune_parameters", rec.fullParams());
        rc.put("config_snippet", rec.yaml());
        if (!Double.isNaN(r.spearmanNuProbe())) o.put("spearman_nu_probe", r.spearmanNuProbe());
        o.set("report", r.toJson());
        return o;
    }

    public static String toCsv(VariabilityReport r) {
        StringBuilder sb = new StringBuilder("layer,nu,ci_lo,ci_hi,probe_accuracy\n");
        double[] probe = probe(r);
        for (int l = 0; l < r.layers().size(); l++) {
            sb.append(l).append(',').append(r.layers().get(l).nu()).append(',')
                    .append(r.bootstrap() == null ? "" : r.bootstrap().lo()[l]).append(',')
                    .append(r.bootstrap() == null ? "" : r.bootstrap().hi()[l]).append(',')
                    .append(probe == null ? "" : probe[l]).append('\n');
        }
        return sb.toString();
    }

    /** The terminal table. */
    public static void printTable(PrintStream out, VariabilityReport r, LayerSelection.Recommendation rec) {
        double[] probe = probe(r);
        out.printf("%5s  %12s  %27s  %8s%n", "layer", "nu", "95% CI (basic bootstrap)", "probe");
        for (int l = 0; l < r.layers().size(); l++) {
            String ci = r.bootstrap() == null ? "" : String.format(Locale.ROOT, "[%11.4g, %11.4g]",
                    r.bootstrap().lo()[l], r.bootstrap().hi()[l]);
            out.printf(Locale.ROOT, "%5d  %12.5g  %27s  %8s%s%n", l, r.layers().get(l).nu(), ci,
                    probe == null ? "" : String.format(Locale.ROOT, "%.3f", probe[l]),
                    l == rec.headLayer() ? "   <- l*" : "");
        }
        out.printf(Locale.ROOT, "recommendation: head on layer %d of %d, tune %d layers (%d..%d); forward %.0f%%, "
                        + "backward %.0f%% of full fine-tuning; %,d trainable parameters vs %,d%n",
                rec.headLayer(), rec.numHiddenLayers(), rec.tuneLayers(), rec.headLayer() - rec.tuneLayers() + 1,
                rec.headLayer(), 100 * rec.forwardFraction(), 100 * rec.backwardFraction(), rec.trainableParams(),
                rec.fullParams());
        if (!Double.isNaN(r.spearmanNuProbe())) {
            out.printf(Locale.ROOT, "Spearman(nu, probe accuracy) over layers 1..L = %.3f%n", r.spearmanNuProbe());
        }
        out.println("(the CI corrects the plug-in nu's small-sample bias, so it can lie above nu; probe = held-out "
                + "accuracy of a logistic regression on the pooled states)");
    }
}

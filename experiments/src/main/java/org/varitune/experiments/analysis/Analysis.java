package org.varitune.experiments.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.experiments.data.TaskData;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.experiments.report.Csv;
import org.varitune.experiments.report.Plots;
import org.varitune.metrics.LayerSelection;
import org.varitune.metrics.LinearProbe;
import org.varitune.metrics.Uncertainty;
import org.varitune.metrics.VariabilityAccumulator;
import org.varitune.metrics.VariabilityReport;
import org.varitune.metrics.VariabilityResult;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tokenize.Tokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.LongConsumer;

/**
 * The {@code analyze} job: a variability pass over the training set, the report (nu per layer on all examples, its
 * bootstrap bias-corrected value with a 95% interval, probe accuracy beside the majority-class rate), the layer
 * recommendation, and the files {@code variability.json}, {@code variability.csv}, {@code variability.png} in the
 * output directory. A layer whose nu is undefined (Sb = 0) is reported as such, with the reason, and never ends the run.
 */
public final class Analysis {
    /** Relative tolerance of the pseudo-inverse of Sb (see {@code RatioMath}). */
    public static final double PINV_TOLERANCE = 1e-8;

    public record Result(VariabilityReport report, LayerSelection.Recommendation recommendation, long examples,
                         Path json, Path csv, Path png) {}

    /**
     * An analysis as stored in {@code variability.json}, its recommendation typed: what the sweep and the demo read
     * l* and k from (never by a JSON path of their own).
     *
     * @param file       the {@code variability.json} it was read from
     * @param json       its whole content
     * @param headLayer  l*, the recommended head layer, a hidden_states index in 1..L ({@code recommendation.head_layer})
     * @param tuneLayers k, the recommended tuned-layer count ({@code recommendation.tune_layers})
     */
    public record Stored(Path file, JsonNode json, int headLayer, int tuneLayers) {
        /** The analysis in {@code json}, read from {@code file}; fails naming the file and key of a missing or bad value. */
        public static Stored of(Path file, JsonNode json) {
            return new Stored(file, json, positiveInt(file, json, "head_layer"), positiveInt(file, json, "tune_layers"));
        }

        private static int positiveInt(Path file, JsonNode json, String key) {
            JsonNode v = json.path("recommendation").path(key);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 1) {
                throw new IllegalArgumentException(file + ": recommendation." + key + " must be a layer count >= 1, got "
                        + (v.isMissingNode() ? "nothing" : v.toString()));
            }
            return v.asInt();
        }
    }

    private Analysis() {}

    /** Runs the pass with {@code o} (its variant is the one reported), checkpointing into {@code outDir}. */
    public static Result run(String modelName, String taskName, Encoder encoder, Tokenizer tokenizer, TaskData data,
                             VariabilityPass.Options o, Path outDir, LongConsumer progress) throws IOException {
        VariabilityAccumulator acc = VariabilityPass.run(encoder, tokenizer, data.train(),
                o.withCheckpoint(outDir.resolve("variability.acc")), progress);
        VariabilityReport report = VariabilityReport.of(acc, o.variant(), PINV_TOLERANCE, o.pooling(), true);
        LayerSelection.Recommendation rec = LayerSelection.recommend(report.layers(), encoder.config(),
                data.numLabels(), LayerSelection.Options.defaults());
        Path json = outDir.resolve("variability.json"), csv = outDir.resolve("variability.csv"),
                png = outDir.resolve("variability.png");
        AtomicFiles.writeJson(json, toJson(modelName, taskName, report, rec, acc.totalCount()));
        AtomicFiles.writeString(csv, toCsv(report));
        List<Plots.VariabilityPoint> points = new ArrayList<>();
        for (VariabilityResult r : report.layers()) {
            Optional<Uncertainty.Interval> ci = interval(report, r.layer());
            points.add(new Plots.VariabilityPoint(r.layer(), r.nu(),
                    ci.map(i -> OptionalDouble.of(i.biasCorrected())).orElse(OptionalDouble.empty()),
                    ci.map(i -> OptionalDouble.of(i.lo())).orElse(OptionalDouble.empty()),
                    ci.map(i -> OptionalDouble.of(i.hi())).orElse(OptionalDouble.empty()),
                    report.probe() == null ? OptionalDouble.empty() : OptionalDouble.of(report.probe().get(r.layer()).testAccuracy())));
        }
        Plots.variability(png, "variability per layer: " + modelName + " on " + taskName, points, rec.headLayer());
        return new Result(report, rec, acc.totalCount(), json, csv, png);
    }

    private static Optional<Uncertainty.Interval> interval(VariabilityReport r, int layer) {
        return r.bootstrap() == null ? Optional.empty() : r.bootstrap().at(layer);
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
        if (r.bootstrap() != null) {
            o.put("reservoir_examples", r.bootstrap().reservoirExamples());
            o.put("fields", "nu: plug-in on all examples; nu_reservoir, nu_bias_corrected, ci_lo, ci_hi: on the "
                    + "reservoir_examples (the same examples when reservoir_examples = examples); ci is the basic "
                    + "bootstrap interval of nu_bias_corrected");
        }
        ArrayNode ls = o.putArray("layers");
        for (int l = 0; l < r.layers().size(); l++) {
            ObjectNode n = ls.addObject();
            n.put("layer", l);
            VariabilityReport.putLayer(n, r, l);
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
        if (r.spearmanNuProbe().isPresent()) o.put("spearman_nu_probe", r.spearmanNuProbe().getAsDouble());
        o.set("report", r.toJson());
        return o;
    }

    /**
     * One row per layer (RFC 4180 fields, "\n" lines); empty cells where a value does not exist (or is NaN), and the
     * reason in the last column.
     */
    public static String toCsv(VariabilityReport r) {
        Csv t = new Csv("\n", "layer", "nu", "nu_reservoir", "nu_bias_corrected", "ci_lo", "ci_hi", "probe_accuracy",
                "probe_majority_rate", "probe_l2", "nu_undefined_reason");
        for (VariabilityResult res : r.layers()) {
            int l = res.layer();
            Uncertainty.Interval ci = interval(r, l).orElse(null);
            LinearProbe.Result p = r.probe() == null ? null : r.probe().get(l);
            t.row(l, res.nu().isPresent() ? res.nu().getAsDouble() : null,
                    ci == null ? null : ci.reservoirNu(), ci == null ? null : ci.biasCorrected(),
                    ci == null ? null : ci.lo(), ci == null ? null : ci.hi(),
                    p == null ? null : p.testAccuracy(), p == null ? null : p.majorityRate(), p == null ? null : p.l2(),
                    res.defined() ? null : res.undefinedReason());
        }
        return t.toString();
    }

    /** The terminal table, with one explanation line per kind of number. */
    public static void printTable(PrintStream out, VariabilityReport r, LayerSelection.Recommendation rec) {
        boolean boot = r.bootstrap() != null, whole = r.reservoirHoldsAll(), probe = r.probe() != null;
        String nuHead = whole || !boot ? "nu" : "nu (all N)";
        out.printf(Locale.ROOT, "%5s  %12s%s  %15s  %24s  %7s  %8s%n", "layer", nuHead,
                whole || !boot ? "" : String.format(Locale.ROOT, "  %14s", "nu (reservoir)"), "nu (bias-corr.)",
                "95% CI of bias-corr.", "probe", "majority");
        for (VariabilityResult res : r.layers()) {
            int l = res.layer();
            Optional<Uncertainty.Interval> ci = interval(r, l);
            String note = "";
            String nu = res.nu().isPresent() ? String.format(Locale.ROOT, "%12.5g", res.nu().getAsDouble()) : String.format("%12s", "undefined");
            String resv = "", bc = "", band = "";
            if (ci.isPresent()) {
                Uncertainty.Interval i = ci.get();
                resv = String.format(Locale.ROOT, "%14.5g", i.reservoirNu());
                bc = String.format(Locale.ROOT, "%15.5g", i.biasCorrected());
                band = String.format(Locale.ROOT, "[%10.4g, %10.4g]", i.lo(), i.hi());
            } else if (!res.defined()) {
                note = "   nu undefined: " + res.undefinedReason();
            } else if (boot) {
                note = "   no interval: " + r.bootstrap().skipped().get(l);
            }
            LinearProbe.Result p = probe ? r.probe().get(l) : null;
            out.printf(Locale.ROOT, "%5d  %s%s  %15s  %24s  %7s  %8s%s%s%n", l, nu,
                    whole || !boot ? "" : String.format("  %14s", resv), bc, band,
                    p == null ? "" : String.format(Locale.ROOT, "%.3f", p.testAccuracy()),
                    p == null ? "" : String.format(Locale.ROOT, "%.3f", p.majorityRate()),
                    l == rec.headLayer() ? "   <- l*" : "", note);
        }
        out.printf(Locale.ROOT, "recommendation: head on layer %d of %d, tune %d layers (%d..%d); forward %.0f%%, "
                        + "backward %.0f%% of full fine-tuning; %,d trainable parameters vs %,d%n",
                rec.headLayer(), rec.numHiddenLayers(), rec.tuneLayers(), rec.headLayer() - rec.tuneLayers() + 1,
                rec.headLayer(), 100 * rec.forwardFraction(), 100 * rec.backwardFraction(), rec.trainableParams(),
                rec.fullParams());
        if (r.spearmanNuProbe().isPresent()) {
            out.printf(Locale.ROOT, "Spearman(nu, probe accuracy) over layers 1..L with a defined nu = %.3f%n",
                    r.spearmanNuProbe().getAsDouble());
        }
        out.printf(Locale.ROOT, "(nu: plug-in ratio on all %,d training examples", r.examples());
        if (boot) {
            Uncertainty.Bootstrap b = r.bootstrap();
            out.printf(Locale.ROOT, "; nu (bias-corr.) = 2 nu - mean of %d bootstrap replicates, correcting the plug-in's "
                            + "small-sample bias (low for hidden states), with the basic bootstrap %.0f%% interval of that corrected value, "
                            + "both %s)%n", b.replicates(), 100 * b.level(),
                    whole ? "on the same examples"
                            : String.format(Locale.ROOT, "on a uniform reservoir of %,d of the %,d examples, whose own "
                                    + "plug-in is nu (reservoir)", b.reservoirExamples(), r.examples()));
        } else {
            out.println(")");
        }
        if (probe) {
            LinearProbe.Options po = LinearProbe.Options.defaults();
            out.printf(Locale.ROOT, "(probe: held-out accuracy of an L2 multinomial logistic regression on the pooled "
                    + "states, penalty chosen by %d-fold CV on the training split; majority: the held-out split's "
                    + "majority-class rate)%n", po.folds());
        }
    }
}

package org.varitune.metrics;

import org.varitune.transformer.layers.Pooling;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Everything measured for one task and encoder: the exact per-layer ratios with the variant, tolerance and pooling
 * that produced them, and optionally the bootstrap (bias-corrected nu and its interval, on the reservoir), the
 * sample-size curve and the probe. Layers whose nu is undefined are carried with their reason and left out of the
 * bootstrap, the curve and the rank correlation.
 *
 * @param examples        N, examples behind the exact ratios
 * @param bootstrap       null when not computed (or when no layer has a defined nu)
 * @param curve           null when not computed (or when no layer has a defined nu)
 * @param probe           null when not computed
 * @param spearmanNuProbe rank correlation of nu and probe test accuracy over layers ≥ 1 with a defined nu; empty
 *                        without probe, with fewer than 2 such layers, or when either series is constant
 */
public record VariabilityReport(Variant variant, double relativeTolerance, Pooling pooling, int[] classCounts,
                                long examples, List<VariabilityResult> layers, Uncertainty.Bootstrap bootstrap,
                                Uncertainty.SampleSizeCurve curve, List<LinearProbe.Result> probe,
                                OptionalDouble spearmanNuProbe) {

    /** Bootstrap replicates of {@link #of}. */
    public static final int REPLICATES = 200;
    /** Coverage of the intervals of {@link #of}. */
    public static final double LEVEL = 0.95;

    public VariabilityReport {
        for (VariabilityResult r : layers) {
            if (r.variant() != variant || r.relativeTolerance() != relativeTolerance) {
                throw new IllegalArgumentException("layer " + r.layer() + " was computed with " + r.variant() + ", tol "
                        + r.relativeTolerance() + " but the report says " + variant + ", tol " + relativeTolerance);
            }
        }
    }

    /**
     * Builds the report from a finished accumulator: exact nu per layer, and with a reservoir, the bias-corrected
     * bootstrap ({@link #REPLICATES} replicates, {@link #LEVEL}), the sample-size curve (default sizes, 5 repeats) and
     * the probe ({@link LinearProbe.Options#defaults()}). Layer 0 (embeddings) is excluded from argmin frequencies and
     * the rank correlation.
     */
    public static VariabilityReport of(VariabilityAccumulator acc, Variant v, double relTol, Pooling pooling, boolean uncertainty) {
        List<VariabilityResult> res = acc.compute(v, relTol);
        if (!uncertainty || acc.reservoirs == null) {
            return new VariabilityReport(v, relTol, pooling, acc.classCounts(), acc.totalCount(), res, null, null, null,
                    OptionalDouble.empty());
        }
        List<LayerSamples> samples = acc.allSamples();
        List<LayerSamples> defined = samples.stream().filter(s -> res.get(s.layer()).defined()).toList();
        int minLayer = acc.layers() > 1 ? 1 : 0;
        Uncertainty.Bootstrap boot = null;
        Uncertainty.SampleSizeCurve curve = null;
        if (!defined.isEmpty()) {
            boot = Uncertainty.bootstrap(defined, v, relTol, REPLICATES, LEVEL, acc.options().seed(), minLayer);
            int smallest = Integer.MAX_VALUE;
            for (int y = 0; y < acc.numClasses(); y++) smallest = Math.min(smallest, samples.get(0).count(y));
            curve = Uncertainty.sampleSizeCurve(defined, v, relTol, Uncertainty.defaultSizes(smallest), 5,
                    acc.options().seed(), minLayer);
        }
        List<LinearProbe.Result> probe = LinearProbe.probeLayers(samples, LinearProbe.Options.defaults());
        List<Double> nu = new ArrayList<>(), accu = new ArrayList<>();
        for (int l = minLayer; l < acc.layers(); l++) {
            if (!res.get(l).defined()) continue;
            nu.add(res.get(l).nuOrThrow());
            accu.add(probe.get(l).testAccuracy());
        }
        OptionalDouble rho = Uncertainty.spearman(nu.stream().mapToDouble(Double::doubleValue).toArray(),
                accu.stream().mapToDouble(Double::doubleValue).toArray());
        return new VariabilityReport(v, relTol, pooling, acc.classCounts(), acc.totalCount(), res, boot, curve, probe, rho);
    }

    /** nu per layer, hidden_states order; empty where undefined. */
    public OptionalDouble[] nu() {
        return layers.stream().map(VariabilityResult::nu).toArray(OptionalDouble[]::new);
    }

    /** Whether the bootstrap ran on every example (the reservoir held all N), so nu and nu_bc come from the same data. */
    public boolean reservoirHoldsAll() {
        return bootstrap != null && bootstrap.reservoirExamples() == examples;
    }

    /** A JSON tree of the report (for the run directory). Undefined values are null with a reason, never NaN. */
    public ObjectNode toJson() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode o = om.createObjectNode();
        o.put("variant", variant.spelling());
        o.put("relative_tolerance", relativeTolerance);
        o.put("pooling", pooling == null ? null : pooling.spelling());
        o.put("layer_indexing", "hidden_states[l]; 0 = embeddings");
        o.put("examples", examples);
        ArrayNode counts = o.putArray("class_counts");
        for (int c : classCounts) counts.add(c);
        ArrayNode ls = o.putArray("layers");
        for (VariabilityResult r : layers) {
            ObjectNode n = ls.addObject();
            n.put("layer", r.layer());
            putLayer(n, this, r.layer());
            n.put("rank", r.rank());
            n.put("trace_sw", r.traceSw());
            n.put("trace_sb", r.traceSb());
            n.put("dropped_eigenvalues", r.droppedEigenvalues());
        }
        if (bootstrap != null) {
            ObjectNode b = o.putObject("bootstrap");
            b.put("method", "bias-corrected nu_bc = 2 nu_reservoir - mean(nu*), basic interval of nu_bc, resampling within classes");
            b.put("level", bootstrap.level());
            b.put("replicates", bootstrap.replicates());
            b.put("seed", bootstrap.seed());
            b.put("reservoir_examples", bootstrap.reservoirExamples());
            b.put("reservoir_holds_all_examples", reservoirHoldsAll());
        }
        if (curve != null) {
            ObjectNode c = o.putObject("sample_size_curve");
            ArrayNode cl = c.putArray("layers");
            for (int l : curve.layers()) cl.add(l);
            putSkipped(c, curve.skipped());
            ArrayNode pts = c.putArray("points");
            for (int p = 0; p < curve.perClass().length; p++) {
                ObjectNode pt = pts.addObject();
                pt.put("per_class", curve.perClass()[p]);
                if (curve.argminLayer()[p].isPresent()) pt.put("argmin_layer", curve.argminLayer()[p].getAsInt());
                else pt.putNull("argmin_layer");
                putOptional(pt, "spearman_with_all", curve.spearmanWithAll()[p]);
                ArrayNode m = pt.putArray("mean_nu");
                for (double v : curve.meanNu()[p]) m.add(v);
            }
        }
        putOptional(o, "spearman_nu_probe", spearmanNuProbe);
        return o;
    }

    /**
     * The per-layer fields shared by this report's JSON and the analysis JSON: {@code nu} (all N examples; null with
     * {@code nu_undefined_reason} when undefined), the bootstrap fields {@code nu_reservoir}, {@code nu_bootstrap_mean},
     * {@code nu_bias_corrected}, {@code ci_lo}, {@code ci_hi}, {@code ci_of}, {@code argmin_frequency} (or
     * {@code ci_undefined_reason}), and the probe fields {@code probe_test_accuracy}, {@code probe_majority_rate},
     * {@code probe_l2}, {@code probe_inverse_l2_c}, {@code probe_converged}.
     */
    public static void putLayer(ObjectNode n, VariabilityReport r, int l) {
        VariabilityResult res = r.layers().get(l);
        putOptional(n, "nu", res.nu());
        if (!res.defined()) n.put("nu_undefined_reason", res.undefinedReason());
        if (r.bootstrap() != null && res.defined()) {
            var at = r.bootstrap().at(l);
            if (at.isPresent()) {
                Uncertainty.Interval i = at.get();
                n.put("nu_reservoir", i.reservoirNu());
                n.put("nu_bootstrap_mean", i.replicateMean());
                n.put("nu_bias_corrected", i.biasCorrected());
                n.put("ci_lo", i.lo());
                n.put("ci_hi", i.hi());
                n.put("ci_of", "nu_bias_corrected");
                n.put("argmin_frequency", i.argminFrequency());
            } else {
                n.put("ci_undefined_reason", r.bootstrap().skipped().get(l));
            }
        }
        if (r.probe() != null) {
            LinearProbe.Result p = r.probe().get(l);
            n.put("probe_test_accuracy", p.testAccuracy());
            n.put("probe_majority_rate", p.majorityRate());
            n.put("probe_l2", p.l2());
            n.put("probe_inverse_l2_c", p.inverseL2());
            n.put("probe_converged", p.converged());
        }
    }

    private static void putOptional(ObjectNode n, String key, OptionalDouble v) {
        if (v.isPresent()) n.put(key, v.getAsDouble()); else n.putNull(key);
    }

    private static void putSkipped(ObjectNode n, Map<Integer, String> skipped) {
        ObjectNode s = n.putObject("skipped_layers");
        skipped.forEach((l, why) -> s.put(Integer.toString(l), why));
    }
}

package org.varitune.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;

/**
 * Everything measured for one task and encoder: the exact per-layer ratios with the variant, tolerance and pooling
 * that produced them, and optionally the bootstrap intervals, the sample-size curve and the probe.
 *
 * @param bootstrap       null when not computed
 * @param curve           null when not computed
 * @param probe           null when not computed
 * @param spearmanNuProbe rank correlation of nu and probe test accuracy over layers ≥ 1 (NaN without probe, or
 *                        when the accuracy is the same at every layer)
 */
public record VariabilityReport(Variant variant, double relativeTolerance, Pooling pooling, int[] classCounts,
                                List<VariabilityResult> layers, Uncertainty.Bootstrap bootstrap,
                                Uncertainty.SampleSizeCurve curve, List<LinearProbe.Result> probe,
                                double spearmanNuProbe) {

    public VariabilityReport {
        for (VariabilityResult r : layers) {
            if (r.variant() != variant || r.relativeTolerance() != relativeTolerance) {
                throw new IllegalArgumentException("layer " + r.layer() + " was computed with " + r.variant() + ", tol "
                        + r.relativeTolerance() + " but the report says " + variant + ", tol " + relativeTolerance);
            }
        }
    }

    /**
     * Builds the report from a finished accumulator: exact nu per layer, and with a reservoir, bootstrap (200
     * replicates, 95%), the sample-size curve (default sizes, 5 repeats) and the probe. Layer 0 (embeddings) is
     * excluded from argmin frequencies and the rank correlation.
     */
    public static VariabilityReport of(VariabilityAccumulator acc, Variant v, double relTol, Pooling pooling, boolean uncertainty) {
        List<VariabilityResult> res = acc.compute(v, relTol);
        if (!uncertainty || acc.reservoirs == null) {
            return new VariabilityReport(v, relTol, pooling, acc.classCounts(), res, null, null, null, Double.NaN);
        }
        List<LayerSamples> samples = acc.allSamples();
        int minLayer = acc.layers() > 1 ? 1 : 0;
        Uncertainty.Bootstrap boot = Uncertainty.bootstrap(samples, v, relTol, 200, 0.95, acc.options().seed(), minLayer);
        int smallest = Integer.MAX_VALUE;
        for (int y = 0; y < acc.numClasses(); y++) smallest = Math.min(smallest, samples.get(0).count(y));
        Uncertainty.SampleSizeCurve curve = Uncertainty.sampleSizeCurve(samples, v, relTol,
                Uncertainty.defaultSizes(smallest), 5, acc.options().seed(), minLayer);
        List<LinearProbe.Result> probe = LinearProbe.probeLayers(samples, LinearProbe.Options.defaults());
        double rho = Double.NaN;
        if (acc.layers() - minLayer >= 2) {
            double[] nu = new double[acc.layers() - minLayer], accu = new double[nu.length];
            for (int l = minLayer; l < acc.layers(); l++) {
                nu[l - minLayer] = res.get(l).nu();
                accu[l - minLayer] = probe.get(l).testAccuracy();
            }
            rho = LinearProbe.rankCorrelation(nu, accu);
        }
        return new VariabilityReport(v, relTol, pooling, acc.classCounts(), res, boot, curve, probe, rho);
    }

    /** nu per layer, hidden_states order. */
    public double[] nu() {
        return layers.stream().mapToDouble(VariabilityResult::nu).toArray();
    }

    /** A JSON tree of the report (for the run directory). */
    public ObjectNode toJson() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode o = om.createObjectNode();
        o.put("variant", variant.spelling());
        o.put("relative_tolerance", relativeTolerance);
        o.put("pooling", pooling == null ? null : pooling.spelling());
        o.put("layer_indexing", "hidden_states[l]; 0 = embeddings");
        ArrayNode counts = o.putArray("class_counts");
        for (int c : classCounts) counts.add(c);
        ArrayNode ls = o.putArray("layers");
        for (VariabilityResult r : layers) {
            ObjectNode n = ls.addObject();
            n.put("layer", r.layer());
            n.put("nu", r.nu());
            n.put("rank", r.rank());
            n.put("trace_sw", r.traceSw());
            n.put("trace_sb", r.traceSb());
            n.put("dropped_eigenvalues", r.droppedEigenvalues());
            int l = r.layer();
            if (bootstrap != null) {
                n.put("ci_lo", bootstrap.lo()[l]);
                n.put("ci_hi", bootstrap.hi()[l]);
                n.put("argmin_frequency", bootstrap.argminFrequency()[l]);
            }
            if (probe != null) n.put("probe_test_accuracy", probe.get(l).testAccuracy());
        }
        if (bootstrap != null) {
            ObjectNode b = o.putObject("bootstrap");
            b.put("level", bootstrap.level());
            b.put("replicates", bootstrap.replicates());
            b.put("seed", bootstrap.seed());
        }
        if (curve != null) {
            ObjectNode c = o.putObject("sample_size_curve");
            ArrayNode pts = c.putArray("points");
            for (int p = 0; p < curve.perClass().length; p++) {
                ObjectNode pt = pts.addObject();
                pt.put("per_class", curve.perClass()[p]);
                pt.put("argmin_layer", curve.argminLayer()[p]);
                pt.put("spearman_with_all", curve.spearmanWithAll()[p]);
                ArrayNode m = pt.putArray("mean_nu");
                for (double v : curve.meanNu()[p]) m.add(v);
            }
        }
        if (!Double.isNaN(spearmanNuProbe)) o.put("spearman_nu_probe", spearmanNuProbe);
        return o;
    }
}

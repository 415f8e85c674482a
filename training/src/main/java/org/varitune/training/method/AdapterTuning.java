package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.LayerWiring;
import org.varitune.transformer.tensor.Parameter;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/**
 * {@code adapters}: bottleneck adapters ({@link Adapter}) at the attention and/or FFN sites of each tuned layer;
 * they and the tuned layers' LayerNorms train (Houlsby et al. 2019; the authors' code).
 *
 * @param attention  the site after {@code attention.output.dense}, or null for none there
 * @param output     the site after {@code output.dense}, or null for none there (not both null)
 * @param activation the adapters' nonlinearity
 */
public record AdapterTuning(Adapter.Site attention, Adapter.Site output, Adapter.Activation activation) implements TuningMethod {

    /** The default peak learning rate of adapters runs: 1e-4, this project's choice (freshly initialised modules). */
    public static final double DEFAULT_LR = 1e-4;

    public AdapterTuning {
        if (attention == null && output == null) throw new IllegalArgumentException("adapters: no site (attention and output both none)");
        java.util.Objects.requireNonNull(activation, "activation");
    }

    @Override
    public void insert(Encoder encoder, LayerPlan plan, Random rng) {
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) {
            encoder.layers().get(l - 1).addAdapters(attention, output, activation, rng);
        }
    }

    @Override
    public Set<Parameter> trainable(Encoder encoder, LayerPlan plan) {
        Set<Parameter> t = new HashSet<>();
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) {
            EncoderLayer layer = encoder.layers().get(l - 1);
            if (!layer.hasAdapters()) {
                throw new IllegalStateException("adapters: layer " + l + " (" + layer.wiring().query() + "...) has no "
                        + "adapters; insert them first");
            }
            if (layer.attentionAdapter() != null) t.addAll(layer.attentionAdapter().parameters());
            if (layer.outputAdapter() != null) t.addAll(layer.outputAdapter().parameters());
            LayerWiring wiring = layer.wiring();                                   // the family names its LayerNorms
            for (Parameter p : layer.parameters()) if (wiring.isNorm(p.name())) t.add(p);
        }
        return t;
    }

    @Override
    public String describe() {
        return "adapters (attention " + (attention == null ? "none" : attention.spec()) + ", output "
                + (output == null ? "none" : output.spec()) + ", " + activation + ")";
    }
}

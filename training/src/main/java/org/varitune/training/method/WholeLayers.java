package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;

import java.util.HashSet;
import java.util.Set;

/**
 * {@code full}, {@code top-k}, {@code partial} and {@code probe}: every parameter of the tuned layers trains (the
 * embeddings when the plan tunes layer 0); the modes differ only in their {@link LayerPlan} (probe: no layer).
 */
public final class WholeLayers implements TuningMethod {
    public static final WholeLayers INSTANCE = new WholeLayers();

    /** The default peak learning rate of full, top-k and partial runs: 2e-5, in RoBERTa's GLUE grid {1e-5, 2e-5, 3e-5}. */
    public static final double DEFAULT_LR = 2e-5;

    /** The default peak learning rate of probe runs: 1e-3, this project's choice (only a fresh head trains). */
    public static final double PROBE_LR = 1e-3;

    private WholeLayers() {}

    @Override
    public Set<Parameter> trainable(Encoder encoder, LayerPlan plan) {
        Set<Parameter> t = new HashSet<>();
        if (plan.tunes(0)) t.addAll(encoder.embeddings().parameters());
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) t.addAll(encoder.layers().get(l - 1).parameters());
        return t;
    }

    @Override public String describe() { return "whole layers"; }
}

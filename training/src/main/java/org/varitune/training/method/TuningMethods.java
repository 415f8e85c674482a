package org.varitune.training.method;

import org.varitune.training.trainer.TrainConfig;

/** The tuning method of a run: one line per method. */
public final class TuningMethods {
    private TuningMethods() {}

    /** The method of {@code mode} with its default options. */
    public static TuningMethod defaults(org.varitune.training.TuningMode mode) {
        return of(TrainConfig.builder().mode(mode).build());
    }

    /** The method {@code config} describes (its mode and that mode's options). */
    public static TuningMethod of(TrainConfig config) {
        return switch (config.mode()) {
            case FULL, TOP_K, PARTIAL, PROBE -> WholeLayers.INSTANCE;
            case ADAPTERS -> new AdapterTuning(config.attentionAdapter(), config.outputAdapter(), config.adapterActivation());
            case LORA -> new LoraTuning(config.lora());
        };
    }
}

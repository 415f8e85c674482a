package org.varitune.training.trainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The outcome of a {@link Trainer} run.
 *
 * @param epochs              every evaluated epoch, in order (restored from the checkpoint on resume)
 * @param bestEpoch           1-based epoch with the best main dev metric (ties keep the earlier), or −1
 * @param bestDev             that epoch's flat dev metrics ({@link EpochResult#flatDev()}), empty when none
 * @param mainMetric          the metric that selected the best epoch (on the first dev split)
 * @param trainableParameters number of trainable scalars
 * @param stoppedEarly        true when early stopping ended the run
 * @param metricsFile         {@code <run>/metrics.json}
 */
public record TrainResult(List<EpochResult> epochs, int bestEpoch, Map<String, Double> bestDev, String mainMetric,
                          long trainableParameters, boolean stoppedEarly, Path metricsFile) {
    public TrainResult {
        epochs = List.copyOf(epochs);
        bestDev = Map.copyOf(bestDev);
    }
}

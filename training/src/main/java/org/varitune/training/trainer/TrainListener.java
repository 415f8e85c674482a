package org.varitune.training.trainer;

import org.varitune.training.SequenceClassifier;

/**
 * Callbacks of a {@link Trainer} run, all on the training thread, all optional. Progress bars, logs and the export
 * hook ({@link #onFinish}) hang here; a listener must not modify the model except in {@link #onFinish}.
 */
public interface TrainListener {
    /** No callbacks. */
    TrainListener NONE = new TrainListener() {};

    /**
     * Before the first step (after a resume's state is restored).
     *
     * @param trainableParameters number of trainable scalars
     * @param totalParameters     number of scalars of the model (embeddings, layers 1..l, head)
     * @param stepsPerEpoch       optimizer updates per epoch
     * @param totalSteps          updates of the whole run (the schedule's length)
     * @param warmupSteps         linear warmup updates
     * @param fromLayer           the plan's {@link org.varitune.training.LayerPlan#prefixEnd()}: the step starts from this
     *                            hidden state (0 = from the token ids)
     * @param cache               how the frozen prefix is handled, in words
     * @param resumedAtStep       the global step a resume starts from, or −1 for a fresh run
     */
    record Start(long trainableParameters, long totalParameters, int stepsPerEpoch, long totalSteps, long warmupSteps,
                 int fromLayer, String cache, long resumedAtStep) {}

    /**
     * After an optimizer update (and after the checkpoint of that step, if any, is written).
     *
     * @param epoch             1-based
     * @param step              1-based update within the epoch
     * @param loss              mean training loss of this update's batch
     * @param examplesPerSecond training throughput of the epoch so far
     * @param epochSeconds      training wall time of the epoch so far
     */
    record Step(int epoch, int epochs, int step, int stepsPerEpoch, long globalStep, long totalSteps, double loss,
                double lr, double gradNorm, double examplesPerSecond, double epochSeconds) {}

    default void onStart(Start start) {}

    /** Building a prefix cache: {@code done} of {@code total} examples of split {@code split}. */
    default void onCacheProgress(String split, int done, int total) {}

    default void onStep(Step step) {}

    /** After an epoch's evaluation, with the epoch's result (also written to metrics.json). */
    default void onEpoch(EpochResult result) {}

    /** A checkpoint ({@link Checkpoints#LAST} or {@link Checkpoints#BEST}) was written at this global step. */
    default void onCheckpoint(String which, long globalStep) {}

    /** Free-text notices (resume, early stopping, thread-count changes). */
    default void onMessage(String message) {}

    /**
     * At the end of a finished run (also when a finished run is opened again), with the best weights loaded when
     * {@link TrainConfig#loadBestAtEnd()}: the export hook.
     */
    default void onFinish(SequenceClassifier model, TrainResult result) throws java.io.IOException {}
}

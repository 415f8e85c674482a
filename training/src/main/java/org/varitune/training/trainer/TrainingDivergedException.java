package org.varitune.training.trainer;

/**
 * A non-finite loss or gradient norm stopped the run before the offending update; {@code checkpoints/last} still
 * holds the last good state. The message names the epoch, step and value.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch, step;
    private final long globalStep;

    public TrainingDivergedException(String message, int epoch, int step, long globalStep) {
        super(message);
        this.epoch = epoch;
        this.step = step;
        this.globalStep = globalStep;
    }

    /** 1-based epoch of the failed update. */
    public int epoch() { return epoch; }
    /** 1-based update within the epoch. */
    public int step() { return step; }
    /** Updates completed before the failure. */
    public long globalStep() { return globalStep; }
}

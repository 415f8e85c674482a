package org.varitune.training;

/**
 * A learning-rate schedule: {@link #lr(long)} is the rate of the optimizer step that follows {@code step} completed
 * steps (HF: the scheduler is stepped after the optimizer, so the first update uses {@code lr(0)}).
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate for the update after {@code step} completed updates (step = 0, 1, ...). */
    double lr(long step);

    /** A constant rate (HF {@code constant}). */
    static LrSchedule constant(double peak) { return step -> peak; }

    /**
     * HF {@code get_linear_schedule_with_warmup}: {@code peak·step/warmup} for {@code step < warmup}, then
     * {@code peak·max(0, (total − step)/max(1, total − warmup))}. With {@code warmup > 0} the first update uses 0.
     */
    static LrSchedule linearWarmupDecay(double peak, long warmupSteps, long totalSteps) {
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warmup " + warmupSteps + " and total " + totalSteps + " must be >= 0");
        }
        return step -> step < warmupSteps
                ? peak * (double) step / Math.max(1, warmupSteps)
                : peak * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }

    /** HF {@code get_constant_schedule_with_warmup}: linear warmup, then constant {@code peak}. */
    static LrSchedule constantWithWarmup(double peak, long warmupSteps) {
        return step -> step < warmupSteps ? peak * (double) step / Math.max(1, warmupSteps) : peak;
    }

    /** HF {@code TrainingArguments.get_warmup_steps}: {@code ceil(ratio·total)} for a warmup ratio in [0, 1]. */
    static long warmupSteps(double ratio, long totalSteps) {
        if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("warmup ratio " + ratio + " outside [0, 1]");
        return (long) Math.ceil(ratio * totalSteps);
    }
}

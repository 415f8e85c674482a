package org.varitune.transformer.layers;

/**
 * Whether a training forward applies dropout, and the randomness it uses. A dropout mask is a pure function of
 * {@code (seed, step, site, element index)} (see {@link Dropout}), so the same context reproduces the same masks
 * without storing them: a resumed run at step s draws exactly the masks of the original run at step s.
 *
 * @param seed    the run's dropout seed
 * @param step    the optimizer step (or any counter unique per forward pass; micro-batches of one step must differ)
 * @param enabled false = every dropout is the identity (evaluation, or reference tests)
 */
public record DropoutContext(long seed, long step, boolean enabled) {
    /** Dropout off: every dropout is the identity. */
    public static final DropoutContext OFF = new DropoutContext(0, 0, false);

    /** Dropout on with this seed and step. */
    public static DropoutContext training(long seed, long step) { return new DropoutContext(seed, step, true); }

    /** The 64-bit key of the mask stream of one dropout site for this (seed, step). */
    long key(long site) {
        return Dropout.mix64(Dropout.mix64(Dropout.mix64(seed) ^ step) + site * Dropout.GOLDEN);
    }
}

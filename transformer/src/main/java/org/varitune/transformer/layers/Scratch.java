package org.varitune.transformer.layers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reused buffers for the intermediate activations of one {@link EncoderLayer} forward that keeps nothing for backward
 * (inference, the variability pass, a frozen prefix): the Q, K, V and context, the attention output, the first
 * LayerNorm, the intermediate and output dense. A layer's output is never one of them: the caller may keep it.
 * {@link StepActivations} uses the same mechanism for the activations a training step keeps and for the gradients
 * that live inside one layer's backward ({@link #zeros} for those that kernels accumulate into).
 *
 * <p>Why: a new Java array is zeroed by the allocating thread alone (~5.8 GB/s here), and such a forward allocated
 * ~75 MB per layer of e5-small at B32 × T128 that its kernels overwrite anyway.
 *
 * <p>One per thread, used by one layer call at a time; {@link #begin()} hands the calling thread's instance back with
 * every buffer free again, and
 * {@link #take} gives the buffers out in order, each of exactly the requested length (a buffer of another length is
 * replaced). Their contents are whatever the last user left, so only outputs that a kernel overwrites entirely may
 * come from here; a new buffer is filled with NaN, so that one read before being written shows up in the tests.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> CURRENT = ThreadLocal.withInitial(Scratch::new);

    private final List<float[]> buffers = new ArrayList<>();
    private int next;

    Scratch() {}

    /** The calling thread's scratch with all its buffers free (those handed out before must no longer be used). */
    static Scratch begin() {
        Scratch s = CURRENT.get();
        s.reset();
        return s;
    }

    /** Frees every buffer for the next {@link #take} calls (those handed out before must no longer be used). */
    void reset() { next = 0; }

    /** The next buffer, of exactly n floats, contents undefined (NaN when new). */
    float[] take(int n) {
        if (next == buffers.size()) buffers.add(null);
        float[] b = buffers.get(next);
        if (b == null || b.length != n) {
            b = new float[n];
            Arrays.fill(b, Float.NaN);
            buffers.set(next, b);
        }
        next++;
        return b;
    }

    /** The next buffer, of exactly n floats, set to 0 (in parallel): for outputs that kernels accumulate into. */
    float[] zeros(int n) {
        float[] b = take(n);
        org.varitune.transformer.kernels.Parallel.parallelForRange(n, 1 << 16, (lo, hi) -> Arrays.fill(b, lo, hi, 0f));
        return b;
    }

    /** A zeroed buffer of n floats from {@code scratch}, or a new (zeroed) array when scratch is null. */
    static float[] zeros(Scratch scratch, int n) { return scratch == null ? new float[n] : scratch.zeros(n); }

    /** A copy of x from {@code scratch}, or a new one when scratch is null. */
    static float[] copy(Scratch scratch, float[] x) {
        if (scratch == null) return x.clone();
        float[] b = scratch.take(x.length);
        System.arraycopy(x, 0, b, 0, x.length);
        return b;
    }

    /** Buffers handed out since the last reset (for tests). */
    int taken() { return next; }

    /** A buffer of n floats from {@code scratch}, or a new zeroed array when scratch is null. */
    static float[] floats(Scratch scratch, int n) { return scratch == null ? new float[n] : scratch.take(n); }
}

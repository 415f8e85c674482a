package org.varitune.transformer.layers;

/**
 * The scope of one training step's forward and backward on the calling thread: while it is open, the activations an
 * {@link EncoderLayer} keeps for backward (Q, K, V, the attention probabilities and context, the dense outputs, the
 * first LayerNorm's output, the GELU output) come from buffers that are reused step after step instead of new arrays,
 * which the JVM zeroes on the allocating thread alone (~5.8 GB/s here; an e5-small step at B32 × T128 keeps ~1.5 GB).
 * A layer's output (the hidden state its caller may hold) is never one of them. The gradients inside one layer's
 * backward (all but the dX it returns) likewise come from per-thread buffers, zeroed in parallel where kernels
 * accumulate into them ({@link #layerGradients()}: ~130 MB per e5-small layer at B32 × T128, which new arrays had the
 * allocating thread zero alone).
 *
 * <pre>
 *   try (StepActivations step = StepActivations.open()) {
 *       var trace = model.forwardTrain(batch, drop);
 *       model.backward(trace, dLogits);
 *   }                                        // the trace's activations are reused by the next step: do not keep them
 * </pre>
 * Everything taken stays valid until {@link #close()}; the next {@link #open()} on the thread hands the same buffers
 * out again in the same order (a step of other shapes gets new ones). Kernels overwrite every element of these
 * outputs, so reuse changes no result: {@code StepActivationsTest} checks a step inside the scope against the same
 * step outside it bit for bit. Without an open scope layers allocate as usual.
 */
public final class StepActivations implements AutoCloseable {
    private static final ThreadLocal<StepActivations> OPEN = new ThreadLocal<>();
    private static final ThreadLocal<Scratch> BUFFERS = ThreadLocal.withInitial(Scratch::new);

    private final Scratch buffers;

    private StepActivations(Scratch buffers) { this.buffers = buffers; }

    /**
     * Opens the calling thread's scope, with every buffer free again (the previous step's activations are dead).
     *
     * @throws IllegalStateException when one is already open on this thread
     */
    public static StepActivations open() {
        if (OPEN.get() != null) throw new IllegalStateException("a step's activations are already open on this thread");
        Scratch b = BUFFERS.get();
        b.reset();
        StepActivations s = new StepActivations(b);
        OPEN.set(s);
        return s;
    }

    /** Ends the scope; the activations handed out must no longer be used. */
    @Override
    public void close() {
        if (OPEN.get() == this) OPEN.remove();
    }

    /**
     * While a scope is open on this thread: the thread's buffers for the gradients that live within one
     * {@link EncoderLayer#backward} call (every one but the dX it returns), all free again; else null (new arrays).
     * The previous layer's (the one above) are dead by then: only its returned dX lives on, and that is a new array.
     */
    static Scratch layerGradients() {
        if (OPEN.get() == null) return null;
        Scratch g = GRADIENTS.get();
        g.reset();
        return g;
    }

    private static final ThreadLocal<Scratch> GRADIENTS = ThreadLocal.withInitial(Scratch::new);

    /** Buffers the last layer backward on this thread took from {@link #layerGradients()} (for tests). */
    static int layerGradientsTaken() { return GRADIENTS.get().taken(); }

    /** The buffers of the scope open on this thread, or null when none is open. */
    static Scratch current() {
        StepActivations s = OPEN.get();
        return s == null ? null : s.buffers;
    }
}

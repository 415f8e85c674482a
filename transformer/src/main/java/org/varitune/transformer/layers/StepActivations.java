package org.varitune.transformer.layers;

/**
 * The scope of one training step's forward and backward on the calling thread: while it is open, the activations an
 * {@link EncoderLayer} keeps for backward (Q, K, V, the attention probabilities and context, the dense outputs, the
 * first LayerNorm's output, the GELU output) come from buffers that are reused step after step instead of new arrays,
 * which the JVM zeroes on the allocating thread alone (~5.8 GB/s here; an e5-small step at B32 × T128 keeps ~1.5 GB).
 * A layer's output (the hidden state its caller may hold) is never one of them.
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

    /** The buffers of the scope open on this thread, or null when none is open. */
    static Scratch current() {
        StepActivations s = OPEN.get();
        return s == null ? null : s.buffers;
    }
}

package org.varitune.transformer.layers;

/**
 * Inverted dropout, HF {@code nn.Dropout(p)} in training mode: {@code y = x·mask/(1 − p)} with {@code mask ~
 * Bernoulli(1 − p)}; the identity when dropout is off (evaluation, {@link DropoutContext#OFF}, or {@code p = 0}).
 *
 * <p>The mask is <b>counter-based</b>: element {@code i} is kept iff {@code u(key, i) >= p}, where {@code u} is the
 * SplitMix64 output number {@code i} of the stream {@code key = hash(seed, step, site)} mapped to [0, 1) with 53
 * bits. So a mask costs nothing to save ({@link Mask} holds the key), backward regenerates it, and a run resumed at
 * step s draws the same masks. {@code site} names where this dropout sits in the model ({@link #site(int, int)}).
 */
public final class Dropout {
    static final long GOLDEN = 0x9E3779B97F4A7C15L;

    /** Site slots within a layer (see {@link #site(int, int)}). */
    public static final int EMBEDDINGS = 0, ATTENTION_PROBS = 1, ATTENTION_OUTPUT = 2, OUTPUT = 3,
            HEAD_FIRST = 4, HEAD_SECOND = 5, ATTENTION_ADAPTER = 6, OUTPUT_ADAPTER = 7;
    /** Layer index used for the embeddings' and the head's sites. */
    public static final int EMBEDDINGS_LAYER = -1, HEAD_LAYER = -2;

    private final float p;
    private final long site;

    /**
     * The saved form of one mask: its stream key, the rate and the element count. {@link #keep(int)} regenerates
     * element i.
     */
    public record Mask(long key, float p, int n) {
        /** Whether element i is kept (not zeroed). */
        public boolean keep(int i) { return uniform(key, i) >= p; }
        /** The inverted-dropout scale 1/(1 − p) applied to kept elements. */
        public float scale() { return 1f / (1f - p); }
        /** The mask as multipliers: {@code scale()} where kept, 0 where dropped; (n). For tests and oracles. */
        public float[] multipliers() {
            float[] m = new float[n];
            float s = scale();
            for (int i = 0; i < n; i++) m[i] = keep(i) ? s : 0f;
            return m;
        }
    }

    /**
     * @param p    drop probability in [0, 1)
     * @param site where this dropout sits, from {@link #site(int, int)}; distinct sites draw independent masks
     */
    public Dropout(double p, long site) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("dropout probability " + p + " outside [0, 1)");
        this.p = (float) p;
        this.site = site;
    }

    /** A site id for slot {@code slot} of layer {@code layer} (0-based; or EMBEDDINGS_LAYER / HEAD_LAYER). */
    public static long site(int layer, int slot) { return ((long) layer << 8) | slot; }

    public float p() { return p; }
    public long site() { return site; }

    /** Whether this dropout changes anything under {@code ctx}. */
    public boolean active(DropoutContext ctx) { return ctx != null && ctx.enabled() && p > 0f; }

    /** The mask this dropout draws for n elements under ctx, or null when inactive. */
    public Mask mask(DropoutContext ctx, int n) { return active(ctx) ? new Mask(ctx.key(site), p, n) : null; }

    /**
     * {@code x ← x⊙mask/(1 − p)} in place over the first n elements. Modifies x. Returns the mask, or null when
     * inactive (x unchanged).
     */
    public Mask forwardInPlace(float[] x, int n, DropoutContext ctx) {
        Mask m = mask(ctx, n);
        if (m != null) applyInPlace(x, m);
        return m;
    }

    /**
     * Applies a mask in place: {@code a ← a⊙mask/(1 − p)}. This is both the forward ({@code a = x}) and the backward
     * ({@code a = dY}, since {@code dX = dY⊙mask/(1 − p)}). Modifies a; a null mask is the identity.
     */
    public static void applyInPlace(float[] a, Mask m) {
        if (m == null) return;
        if (a.length < m.n()) throw new IllegalArgumentException("dropout mask of " + m.n() + " elements applied to " + a.length);
        float s = m.scale();
        // each element's keep/drop is a pure function of (key, i): chunks in parallel give the same bits
        org.varitune.transformer.kernels.Parallel.parallelForRange(m.n(), 1 << 15, (lo, hi) -> {
            for (int i = lo; i < hi; i++) a[i] = m.keep(i) ? a[i] * s : 0f;
        });
    }

    /** {@code out = x⊙mask/(1 − p)}; out (n) overwritten, x not modified. */
    public static void apply(float[] out, float[] x, Mask m) {
        float s = m.scale();
        org.varitune.transformer.kernels.Parallel.parallelForRange(m.n(), 1 << 15, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = m.keep(i) ? x[i] * s : 0f;
        });
    }

    /** u in [0, 1): the SplitMix64 output number {@code i} of the stream {@code key}, top 53 bits. */
    static double uniform(long key, long i) {
        return (mix64(key + (i + 1) * GOLDEN) >>> 11) * 0x1.0p-53;
    }

    /** The SplitMix64 finaliser (Stafford variant 13). */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

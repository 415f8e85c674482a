package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.DropoutOps;

/**
 * Inverted dropout, HF {@code nn.Dropout(p)} in training mode: {@code y = x·mask/(1 − p)} with {@code mask ~
 * Bernoulli(1 − p)}; the identity when dropout is off (evaluation, {@link DropoutContext#OFF}, or {@code p = 0}).
 *
 * <p>The mask is <b>counter-based</b>: element {@code i} is kept iff {@code u(key, i) >= p}, where {@code u} is the
 * SplitMix64 output number {@code i} of the stream {@code key = hash(seed, step, site)} mapped to [0, 1) with 53
 * bits. So a run resumed at step s draws the same masks. {@code site} names where this dropout sits in the model
 * ({@link #site(int, int)}). {@link #mask} draws the n decisions once, packed 64 to a {@code long} (n/8 bytes: 0.8 MB
 * for the 6.3 M attention probabilities of a BERT-small layer at B32 × T128), and forward and backward read the bits:
 * a hash per element costs ~4 ns here, and backward used to draw each mask again (the attention mask twice). The
 * drawing and the applying run on the Vector API ({@link DropoutOps}), bit for bit as their scalar forms.
 */
public final class Dropout {
    static final long GOLDEN = DropoutOps.GOLDEN;

    /** Site slots within a layer (see {@link #site(int, int)}). */
    public static final int EMBEDDINGS = 0, ATTENTION_PROBS = 1, ATTENTION_OUTPUT = 2, OUTPUT = 3,
            HEAD_FIRST = 4, HEAD_SECOND = 5, ATTENTION_ADAPTER = 6, OUTPUT_ADAPTER = 7;
    /** Layer index used for the embeddings' and the head's sites. */
    public static final int EMBEDDINGS_LAYER = -1, HEAD_LAYER = -2;

    private final float p;
    private final long site;

    /**
     * One mask: its stream key, the rate, the element count, and the decisions packed 64 to a word (bit {@code i & 63}
     * of word {@code i >>> 6} set = element i kept; words: ceil(n/64)), or null to draw each from the key.
     */
    public record Mask(long key, float p, int n, long[] bits) {
        /** The mask of stream {@code key}, not drawn yet ({@link #packed()} draws it). */
        public Mask(long key, float p, int n) { this(key, p, n, null); }

        public Mask {
            if (bits != null && bits.length != (n + 63) >>> 6) {
                throw new IllegalArgumentException("dropout mask of " + n + " elements with " + bits.length + " words");
            }
        }

        /** Whether element i is kept (not zeroed): {@code u(key, i) >= p}, read from the bits when drawn. */
        public boolean keep(int i) { return bits != null ? (bits[i >>> 6] >>> i & 1L) != 0 : uniform(key, i) >= p; }

        /**
         * This mask with its decisions drawn into {@link #bits()} (this one when already drawn), the same decisions
         * as {@link #keep(int)} draws from the key: {@code u >= p} with {@code u = (h >>> 11)·2⁻⁵³} is
         * {@code (h >>> 11) >= ceil(p·2⁵³)}, an integer compare (p·2⁵³ is exact in double).
         */
        public Mask packed() {
            if (bits != null) return this;
            long[] w = new long[(n + 63) >>> 6];
            DropoutOps.drawWords(w, key, (long) Math.ceil((double) p * 0x1.0p53), n);
            return new Mask(key, p, n, w);
        }
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

    /** The mask this dropout draws for n elements under ctx, drawn ({@link Mask#packed()}), or null when inactive. */
    public Mask mask(DropoutContext ctx, int n) { return active(ctx) ? new Mask(ctx.key(site), p, n).packed() : null; }

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
        apply(a, a, m);
    }

    /** {@code out = x⊙mask/(1 − p)}; out (n) overwritten, x not modified (out may be x). */
    public static void apply(float[] out, float[] x, Mask m) {
        DropoutOps.apply(out, x, m.packed().bits(), m.scale(), m.n());   // kept: x·s; dropped: +0
    }

    /** u in [0, 1): the SplitMix64 output number {@code i} of the stream {@code key}, top 53 bits. */
    static double uniform(long key, long i) {
        return (mix64(key + (i + 1) * GOLDEN) >>> 11) * 0x1.0p-53;
    }

    /** The SplitMix64 finaliser (Stafford variant 13). */
    static long mix64(long z) { return DropoutOps.mix64(z); }
}

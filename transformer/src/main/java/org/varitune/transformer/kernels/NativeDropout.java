package org.varitune.transformer.kernels;

/**
 * {@link DropoutOps#drawWords}'s mask words and {@link DropoutOps#applyRange} in AVX-512 C on pinned arrays
 * ({@code src/main/c/varitune_dropout.c}, built into {@link NativeGemm}'s library): integer hashing, and one float
 * multiply per kept element, so the same bits as the Java loops.
 *
 * <p>{@link #available()} is false, and {@link #unavailableReason()} says why, when the library is unavailable, was
 * built without this function, the CPU lacks AVX-512F/DQ, or {@code -Dvaritune.dropout.native=false}.
 */
public final class NativeDropout {
    private NativeDropout() {}

    private static final String REASON = NativeGemm.avx512Unavailable("varitune.dropout.native", "dropout kernel");

    /** True when {@link #drawWords} can run (see the class comment). */
    public static boolean available() { return REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return REASON; }

    /**
     * {@code w[k]} for k in [lo, hi): bit j set iff element 64k + j (&lt; n) of stream {@code key} is kept, as
     * {@link DropoutOps#drawWords} defines it (a word wholly past n is 0). Modifies w.
     */
    static void drawWords(long[] w, int lo, int hi, long key, long threshold, int n) {
        if (!available()) throw new IllegalStateException("native dropout unavailable: " + REASON);
        if (lo < 0 || hi < lo || hi > w.length) {
            throw new IllegalArgumentException("drawWords: words [" + lo + ", " + hi + ") outside w of " + w.length);
        }
        if (hi > lo) drawWords0(w, lo, hi, key, threshold, n);
    }

    /**
     * {@code out[outOff + i] = keep(bitOff + i) ? x[xOff + i]·s : +0} for i &lt; n, as {@link DropoutOps#applyRange}
     * (the same bits). Modifies out (which may be x at the same offset).
     */
    static void applyRange(float[] out, int outOff, float[] x, int xOff, long[] bits, int bitOff, float s, int n) {
        if (!available()) throw new IllegalStateException("native dropout unavailable: " + REASON);
        if (n < 0 || outOff < 0 || xOff < 0 || bitOff < 0 || (long) outOff + n > out.length || (long) xOff + n > x.length
                || (((long) bitOff + n + 63) >>> 6) > bits.length) {
            throw new IllegalArgumentException("applyRange: " + n + " elements at out " + outOff + " (of " + out.length
                    + "), x " + xOff + " (of " + x.length + "), bit " + bitOff + " (of " + 64L * bits.length + ")");
        }
        if (n > 0) applyRange0(out, outOff, x, xOff, bits, bitOff, s, n);
    }

    private static native void applyRange0(float[] out, int outOff, float[] x, int xOff, long[] bits, int bitOff, float s,
                                           int n);

    private static native void drawWords0(long[] w, int lo, int hi, long key, long threshold, int n);
}

package org.varitune.transformer.kernels;

/**
 * {@link DropoutOps#drawWords}'s mask words in AVX-512 C on a pinned array ({@code src/main/c/varitune_dropout.c},
 * built into {@link NativeGemm}'s library): integer hashing only, so the same bits as the Java loops.
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

    private static native void drawWords0(long[] w, int lo, int hi, long key, long threshold, int n);
}

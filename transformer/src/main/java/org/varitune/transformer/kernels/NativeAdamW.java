package org.varitune.transformer.kernels;

/**
 * AdamW's element update in AVX-512 C on pinned Java arrays ({@code src/main/c/varitune_optim.c}, built into
 * {@link NativeGemm}'s library), for {@code org.varitune.training.AdamW}: the same IEEE double operations in the same
 * order as its scalar formula, so the bits are the same as the Java path's.
 *
 * <p>{@link #available()} is false, and {@link #unavailableReason()} says why, when the library is unavailable, was
 * built without this function, the CPU lacks AVX-512F, or {@code -Dvaritune.adamw.native=false}.
 */
public final class NativeAdamW {
    private NativeAdamW() {}

    private static final String REASON = NativeGemm.avx512Unavailable("varitune.adamw.native", "AdamW kernel");

    /** True when {@link #update} can run (see the class comment). */
    public static boolean available() { return REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return REASON; }

    /**
     * For i in [lo, hi), in double: {@code w' = w·decay − stepSize·m'/(√v'/bc2Sqrt + eps)} with
     * {@code m' = b1·m + c1·g} and {@code v' = b2·v + c2·g·g}; w', m', v' rounded to float. Modifies w, m, v.
     *
     * @throws IllegalArgumentException when [lo, hi) is not inside all four arrays (names the array)
     */
    public static void update(float[] w, float[] g, float[] m, float[] v, int lo, int hi, double decay, double stepSize,
                              double bc2Sqrt, double b1, double b2, double c1, double c2, double eps) {
        if (!available()) throw new IllegalStateException("native AdamW unavailable: " + REASON);
        if (lo < 0 || hi < lo) throw new IllegalArgumentException("AdamW update: bad range [" + lo + ", " + hi + ")");
        String[] names = {"param", "grad", "exp_avg", "exp_avg_sq"};
        float[][] arrays = {w, g, m, v};
        for (int i = 0; i < 4; i++) {
            if (arrays[i] == null || arrays[i].length < hi) {
                throw new IllegalArgumentException("AdamW update: " + names[i] + " has "
                        + (arrays[i] == null ? "no array" : arrays[i].length + " floats") + ", the range needs " + hi);
            }
        }
        if (hi > lo) update0(w, g, m, v, lo, hi, decay, stepSize, bc2Sqrt, b1, b2, c1, c2, eps);
    }

    private static native void update0(float[] w, float[] g, float[] m, float[] v, int lo, int hi, double decay,
                                       double stepSize, double bc2Sqrt, double b1, double b2, double c1, double c2,
                                       double eps);
}

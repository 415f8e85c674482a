package org.varitune.transformer.kernels;

/**
 * {@link FastGelu}'s forward and backward in AVX-512 C on pinned arrays ({@code src/main/c/varitune_gelu.c}, built
 * into {@link NativeGemm}'s library): the same vector operations in the same order, so the same bits. The pinned
 * OpenBLAS backends run GELU here where {@link #available()}.
 *
 * <p>{@link #available()} is false, and {@link #unavailableReason()} says why, when the library is unavailable, was
 * built without these functions, the CPU lacks AVX-512F, or {@code -Dvaritune.gelu.native=false}.
 */
public final class NativeGelu {
    private NativeGelu() {}

    private static final String REASON = NativeGemm.avx512Unavailable("varitune.gelu.native", "GELU kernels");

    /** True when the kernels can run (see the class comment). */
    public static boolean available() { return REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return REASON; }

    /** out[i] = GELU(x[i]) for i in [lo, hi); out may be x. Modifies out. */
    static void forward(float[] out, float[] x, int lo, int hi) {
        check(lo, hi, "out", out, "x", x, null, null);
        if (hi > lo) forward0(out, x, lo, hi);
    }

    /** dX[i] (+)= dOut[i]·GELU'(x[i]) for i in [lo, hi): written when {@code overwrite}, else added. Modifies dX. */
    static void backward(float[] dX, float[] x, float[] dOut, int lo, int hi, boolean overwrite) {
        check(lo, hi, "dX", dX, "x", x, "dOut", dOut);
        if (hi > lo) backward0(dX, x, dOut, lo, hi, overwrite);
    }

    private static void check(int lo, int hi, String n0, float[] a0, String n1, float[] a1, String n2, float[] a2) {
        if (!available()) throw new IllegalStateException("native GELU unavailable: " + REASON);
        if (lo < 0 || hi < lo) throw new IllegalArgumentException("gelu: bad range [" + lo + ", " + hi + ")");
        String[] names = {n0, n1, n2};
        float[][] arrays = {a0, a1, a2};
        for (int i = 0; i < 3 && names[i] != null; i++) {
            if (arrays[i] == null || arrays[i].length < hi) {
                throw new IllegalArgumentException("gelu: " + names[i] + " has "
                        + (arrays[i] == null ? "no array" : arrays[i].length + " floats") + ", the range needs " + hi);
            }
        }
    }

    private static native void forward0(float[] out, float[] x, int lo, int hi);

    private static native void backward0(float[] dX, float[] x, float[] dOut, int lo, int hi, boolean overwrite);
}

package org.varitune.transformer.kernels;

/**
 * One attention head's steps in AVX-512 C on pinned Java arrays ({@code src/main/c/varitune_attention.c}, built into
 * {@link NativeGemm}'s library): the scores with their softmax, the values, and the backward of each. Used by
 * {@link VectorAttention} for the {@code fast(openblas+avx512)} backend; formulas as there.
 *
 * <p>Why: OpenBLAS runs a head's 128×128×32 products at 35–40 GFLOP/s per thread inside a layer (at that size a call
 * is mostly packing), and the Vector API softmax costs 1.3–1.7 ns per element on JDK 17; register tiles straight on
 * the operands and an AVX-512 softmax do both several times faster.
 *
 * <p>Deterministic: each output element is one FMA chain in a fixed order, so results depend on the operands only
 * (not on the thread, the tile or the call). They differ from the Java path's in the last bits (other sum orders).
 *
 * <p>{@link #available()} is false, and {@link #unavailableReason()} says why, when the library is unavailable (see
 * {@link NativeGemm#unavailableReason()}), it was built without these functions, the CPU lacks AVX-512F, or
 * {@code -Dvaritune.attention.avx512=false}. Every head's offsets and extents are checked here before the call: the
 * C code trusts them.
 */
public final class NativeAttention {
    private NativeAttention() {}

    private static final String REASON = NativeGemm.avx512Unavailable("varitune.attention.avx512", "attention kernels");

    /** True when the AVX-512 attention kernels can run (see the class comment). */
    public static boolean available() { return REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return REASON; }

    /**
     * p[pOff + t·T + t2] = softmax_t2(scale·Σ_d q[base + t·C + d]·k[base + t2·C + d] + bias[t2]) for t, t2 &lt; T,
     * d &lt; D (bias: 0 for a key to attend, −∞ for padding; a row with every key −∞ becomes 0). Modifies p's (T, T)
     * block and {@code scratch} (at least D·T floats: Kᵀ of the head).
     */
    static void probsHead(float[] p, int pOff, float[] q, float[] k, int base, int C, int T, int D, float scale,
                          float[] bias, float[] scratch) {
        check(T, D, C);
        block("p", p, pOff, T, T, T);
        block("q", q, base, T, D, C);
        block("k", k, base, T, D, C);
        block("bias", bias, 0, 1, T, T);
        block("scratch", scratch, 0, D, T, T);
        probsHead0(p, pOff, q, k, base, C, T, D, scale, bias, scratch);
    }

    /** out[base + t·C + d] = Σ_t2 att[aOff + t·T + t2]·v[base + t2·C + d]. Modifies out's head block only. */
    static void valuesHead(float[] out, float[] att, int aOff, float[] v, int base, int C, int T, int D) {
        check(T, D, C);
        block("out", out, base, T, D, C);
        block("att", att, aOff, T, T, T);
        block("v", v, base, T, D, C);
        valuesHead0(out, att, aOff, v, base, C, T, D);
    }

    /**
     * forward was out = att·V: dAtt[dOff + t·T + t2] (+)= Σ_d dOut[t, d]·v[t2, d] (added when {@code accumulate},
     * else overwritten) and, when dV is not null, dV[t2, d] += Σ_t att[aOff + t·T + t2]·dOut[t, d] (head blocks at
     * base, row stride C). Modifies dAtt's (T, T) block, dV's head block and {@code scratch} (D·T floats: Vᵀ).
     */
    static void valuesBackwardHead(float[] dAtt, int dOff, boolean accumulate, float[] dV, float[] dOut, float[] att,
                                   int aOff, float[] v, int base, int C, int T, int D, float[] scratch) {
        check(T, D, C);
        block("dAtt", dAtt, dOff, T, T, T);
        if (dV != null) block("dV", dV, base, T, D, C);
        block("dOut", dOut, base, T, D, C);
        block("att", att, aOff, T, T, T);
        block("v", v, base, T, D, C);
        block("scratch", scratch, 0, D, T, T);
        valuesBackwardHead0(dAtt, dOff, accumulate, dV, dOut, att, aOff, v, base, C, T, D, scratch);
    }

    /**
     * forward was att = softmax(pre), pre = Q·Kᵀ·scale: dPre[t, :] = att[t, :]⊙(g[t, :] − Σ att[t, :]⊙g[t, :])·scale
     * (the (T, T) blocks of dPre at dOff, g at gOff, att at aOff; dPre may be g), then dQ[t, :] += Σ_t2 dPre[t, t2]·
     * k[t2, :] and dK[t2, :] += Σ_t dPre[t, t2]·q[t, :], each skipped when null. Modifies dPre's block and the heads
     * of dQ and dK.
     */
    static void probsBackwardHead(float[] dQ, float[] dK, float[] dPre, int dOff, float[] g, int gOff, float[] att,
                                  int aOff, float[] q, float[] k, int base, int C, int T, int D, float scale) {
        check(T, D, C);
        if (dQ != null) block("dQ", dQ, base, T, D, C);
        if (dK != null) block("dK", dK, base, T, D, C);
        block("dPre", dPre, dOff, T, T, T);
        block("g", g, gOff, T, T, T);
        block("att", att, aOff, T, T, T);
        block("q", q, base, T, D, C);
        block("k", k, base, T, D, C);
        probsBackwardHead0(dQ, dK, dPre, dOff, g, gOff, att, aOff, q, k, base, C, T, D, scale);
    }

    private static void check(int T, int D, int C) {
        if (!available()) throw new IllegalStateException("AVX-512 attention unavailable: " + REASON);
        if (T < 1 || D < 1 || C < D) throw new IllegalArgumentException("attention head: bad shape T=" + T + " D=" + D + " C=" + C);
    }

    /** Checks that the (rows, cols) block with row stride ld at off lies inside arr; the failure names it. */
    private static void block(String name, float[] arr, int off, int rows, int cols, int ld) {
        long end = off + (long) (rows - 1) * ld + cols;
        if (arr == null || off < 0 || end > arr.length) {
            throw new IllegalArgumentException("attention head: " + name + " (" + rows + ", " + cols + ") with row stride "
                    + ld + " at offset " + off + " needs floats [" + off + ", " + end + "), its array has "
                    + (arr == null ? "none (null)" : arr.length));
        }
    }

    private static native void probsHead0(float[] p, int pOff, float[] q, float[] k, int base, int C, int T, int D,
                                          float scale, float[] bias, float[] scratch);

    private static native void valuesHead0(float[] out, float[] att, int aOff, float[] v, int base, int C, int T, int D);

    private static native void valuesBackwardHead0(float[] dAtt, int dOff, boolean accumulate, float[] dV,
                                                   float[] dOut, float[] att, int aOff, float[] v, int base, int C,
                                                   int T, int D, float[] scratch);

    private static native void probsBackwardHead0(float[] dQ, float[] dK, float[] dPre, int dOff, float[] g, int gOff,
                                                  float[] att, int aOff, float[] q, float[] k, int base, int C, int T,
                                                  int D, float scale);
}

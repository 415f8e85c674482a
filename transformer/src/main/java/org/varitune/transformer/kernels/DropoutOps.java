package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two loops of inverted dropout on packed masks (bit {@code i & 63} of word {@code i >>> 6} set = element i kept),
 * on the Vector API and spread over {@link Parallel}; {@code layers.Dropout} defines the masks and calls these. Both
 * give exactly the bits of their scalar forms (integer hashing and compares; one float multiply and a bitwise AND per
 * element), which the tests compare them with.
 */
public final class DropoutOps {
    private DropoutOps() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> SL = LongVector.SPECIES_PREFERRED;
    private static final int VL = S.length(), LL = SL.length();
    public static final long GOLDEN = 0x9E3779B97F4A7C15L;   // SplitMix64 gamma, shared with layers.Dropout
    /** Lane l of a float chunk: shift its mask bit up to the sign bit (31 − l). */
    private static final IntVector TO_SIGN;
    /** Lane l of a long chunk: l·GOLDEN (counter offset) and 1 &lt;&lt; l (its bit). */
    private static final LongVector LANE_COUNTER, LANE_BIT;

    static {
        int[] sh = new int[SI.length()];
        for (int l = 0; l < sh.length; l++) sh[l] = 31 - l;
        TO_SIGN = IntVector.fromArray(SI, sh, 0);
        long[] c = new long[LL], b = new long[LL];
        for (int l = 0; l < LL; l++) {
            c[l] = l * GOLDEN;
            b[l] = 1L << l;
        }
        LANE_COUNTER = LongVector.fromArray(SL, c, 0);
        LANE_BIT = LongVector.fromArray(SL, b, 0);
    }

    /** Whether the vector loops apply (lane counts that divide 64, int and float lanes alike); else scalar only. */
    private static final boolean VECTOR = SI.length() == VL && 64 % VL == 0 && 64 % LL == 0 && VL <= 32;

    /**
     * {@code out[i] = keep(i) ? x[i]·s : +0} for i &lt; n, keep(i) read from {@code bits}: the float product's bits
     * ANDed with all-ones or all-zeros. Modifies out (may be x).
     */
    public static void apply(float[] out, float[] x, long[] bits, float s, int n) {
        Parallel.parallelForRange(bits.length, 1 << 9, (lo, hi) -> {
            int end = Math.min(n, hi << 6), i = lo << 6;
            if (VECTOR) {
                for (int e = i + ((end - i) / VL) * VL; i < e; i += VL) {
                    int b = (int) (bits[i >>> 6] >>> (i & 63));                 // lanes' bits in the low VL bits
                    IntVector keep = IntVector.broadcast(SI, b).lanewise(VectorOperators.LSHL, TO_SIGN)
                            .lanewise(VectorOperators.ASHR, 31);                  // −1 kept, 0 dropped
                    FloatVector.fromArray(S, x, i).mul(s).reinterpretAsInts().lanewise(VectorOperators.AND, keep)
                            .reinterpretAsFloats().intoArray(out, i);
                }
            }
            for (; i < end; i++) {
                int keep = -(int) (bits[i >>> 6] >>> i & 1L);
                out[i] = Float.intBitsToFloat(Float.floatToRawIntBits(x[i] * s) & keep);
            }
        });
    }

    /**
     * Fills {@code w} (ceil(n/64) words) with the decisions for elements 0 .. n − 1 of the SplitMix64 stream
     * {@code key}: element i kept iff {@code mix64(key + (i + 1)·GOLDEN) >>> 11 >= threshold}. Modifies w.
     */
    public static void drawWords(long[] w, long key, long threshold, int n) {
        Parallel.parallelForRange(w.length, 1 << 9, (lo, hi) -> {
            for (int k = lo; k < hi; k++) {
                int m = Math.min(64, n - (k << 6));
                w[k] = VECTOR && m == 64 ? drawWordVector(key, k, threshold) : drawWord(key, k, threshold, m);
            }
        });
    }

    /** {@link #drawWord} for a whole word, LL lanes at a time. */
    private static long drawWordVector(long key, int k, long threshold) {
        long word = 0;
        long z0 = key + ((long) k * 64 + 1) * GOLDEN;                      // the counter of element 64k
        for (int j = 0; j < 64; j += LL) {
            LongVector z = LANE_COUNTER.add(z0 + j * GOLDEN);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 30)).mul(0xBF58476D1CE4E5B9L);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 27)).mul(0x94D049BB133111EBL);
            z = z.lanewise(VectorOperators.XOR, z.lanewise(VectorOperators.LSHR, 31)).lanewise(VectorOperators.LSHR, 11);
            long part = LongVector.zero(SL).blend(LANE_BIT, z.compare(VectorOperators.GE, threshold))
                    .reduceLanes(VectorOperators.OR);
            word |= part << j;
        }
        return word;
    }

    /**
     * The decisions for elements 64k .. 64k + m − 1 of stream {@code key} (bit j = element 64k + j kept), m &lt;= 64;
     * four independent hash chains at a time.
     */
    static long drawWord(long key, int k, long threshold, int m) {
        long word = 0;
        long z = key + ((long) k * 64 + 1) * GOLDEN;                      // the counter of element 64k
        int j = 0;
        for (; j + 4 <= m; j += 4, z += 4 * GOLDEN) {
            long h0 = mix64(z) >>> 11, h1 = mix64(z + GOLDEN) >>> 11, h2 = mix64(z + 2 * GOLDEN) >>> 11,
                    h3 = mix64(z + 3 * GOLDEN) >>> 11;
            word |= ((h0 >= threshold ? 1L : 0L) | (h1 >= threshold ? 2L : 0L) | (h2 >= threshold ? 4L : 0L)
                    | (h3 >= threshold ? 8L : 0L)) << j;
        }
        for (; j < m; j++, z += GOLDEN) if (mix64(z) >>> 11 >= threshold) word |= 1L << j;
        return word;
    }

    /** The SplitMix64 finaliser (Stafford variant 13). */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

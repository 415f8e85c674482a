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
            int i = lo << 6, end = Math.min(n, hi << 6);
            applyRange(out, i, x, i, bits, i, s, end - i);
        });
    }

    /**
     * On the calling thread: {@code out[outOff + i] = keep(bitOff + i) ? x[xOff + i]·s : +0} for i &lt; n, the same
     * bits as {@link #apply} gives element {@code bitOff + i} (one block of a larger mask, e.g. one attention head's
     * probabilities). Modifies out (may be x at the same offset).
     */
    public static void applyRange(float[] out, int outOff, float[] x, int xOff, long[] bits, int bitOff, float s, int n) {
        applyRange(out, outOff, x, xOff, bits, bitOff, s, n, NATIVE);
    }

    /** As above, in C ({@link NativeDropout}: the same bits) when {@code inC}. */
    static void applyRange(float[] out, int outOff, float[] x, int xOff, long[] bits, int bitOff, float s, int n,
                           boolean inC) {
        if (inC) {
            NativeDropout.applyRange(out, outOff, x, xOff, bits, bitOff, s, n);
            return;
        }
        int i = 0;
        if (VECTOR) {
            // scalar up to a bit index that is a multiple of VL: from there VL lanes never straddle two words
            for (int head = Math.min(n, Math.floorMod(-bitOff, VL)); i < head; i++) {
                out[outOff + i] = applyOne(x[xOff + i], bits, bitOff + i, s);
            }
            for (int e = i + ((n - i) / VL) * VL; i < e; i += VL) {
                int j = bitOff + i;
                int b = (int) (bits[j >>> 6] >>> (j & 63));                     // lanes' bits in the low VL bits
                IntVector keep = IntVector.broadcast(SI, b).lanewise(VectorOperators.LSHL, TO_SIGN)
                        .lanewise(VectorOperators.ASHR, 31);                      // −1 kept, 0 dropped
                FloatVector.fromArray(S, x, xOff + i).mul(s).reinterpretAsInts().lanewise(VectorOperators.AND, keep)
                        .reinterpretAsFloats().intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] = applyOne(x[xOff + i], bits, bitOff + i, s);
    }

    /** {@code keep(j) ? x·s : +0}, keep(j) = bit j of {@code bits}. */
    private static float applyOne(float x, long[] bits, int j, float s) {
        int keep = -(int) (bits[j >>> 6] >>> j & 1L);
        return Float.intBitsToFloat(Float.floatToRawIntBits(x * s) & keep);
    }

    /**
     * Fills {@code w} (ceil(n/64) words) with the decisions for elements 0 .. n − 1 of the SplitMix64 stream
     * {@code key}: element i kept iff {@code mix64(key + (i + 1)·GOLDEN) >>> 11 >= threshold}. Modifies w.
     */
    public static void drawWords(long[] w, long key, long threshold, int n) { drawWords(w, key, threshold, n, NATIVE); }

    /** Whether {@link #drawWords} runs in C ({@link NativeDropout}: the same bits). */
    private static final boolean NATIVE = NativeDropout.available();

    /** As {@link #drawWords(long[], long, long, int)}, in C when {@code inC} (tests compare the two). */
    static void drawWords(long[] w, long key, long threshold, int n, boolean inC) {
        Parallel.parallelForRange(w.length, 1 << 9, (lo, hi) -> {
            if (inC) {
                NativeDropout.drawWords(w, lo, hi, key, threshold, n);
                return;
            }
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

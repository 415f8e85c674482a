package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Vector API (and C) dropout loops give exactly the bits of their scalar forms: the drawn words equal
 * {@link DropoutOps#drawWord} word for word (every lane count, tails, both ends of the threshold range), and the
 * applied mask equals {@code bits(x·s) & (kept ? −1 : 0)} element for element, at lengths that cut words and vectors.
 */
class DropoutOpsTest extends TestBase {

    /** Both the Vector API loops and the C ones ({@link NativeDropout}, where available); w has two spare words. */
    @ParameterizedTest(name = "in C: {0}")
    @ValueSource(booleans = {false, true})
    void vectorDrawsEqualTheScalarDrawWordForWord(boolean inC) {
        Assumptions.assumeTrue(!inC || NativeDropout.available(), () -> "native dropout: " + NativeDropout.unavailableReason());
        long[] keys = {0L, -1L, 0x1234_5678_9ABCL, Long.MIN_VALUE, rand.nextLong()};
        long[] thresholds = {0L, 1L, 1L << 52, (long) Math.ceil(0.1 * 0x1.0p53), (1L << 53) - 1, 1L << 53};
        int[] lengths = {1, 63, 64, 65, 1000, 70_001};
        for (long key : keys) {
            for (long th : thresholds) {
                for (int n : lengths) {
                    long[] w = new long[((n + 63) >>> 6) + 2];
                    java.util.Arrays.fill(w, -1L);
                    DropoutOps.drawWords(w, key, th, n, inC);
                    for (int k = 0; k < w.length; k++) {
                        long want = DropoutOps.drawWord(key, k, th, Math.max(0, Math.min(64, n - 64 * k)));
                        assertEquals(want, w[k], "key " + key + ", threshold " + th + ", n " + n + ": word " + k);
                    }
                }
            }
        }
    }

    @Test
    void vectorApplyEqualsTheScalarFormulaBitForBit() {
        for (int n : new int[] {1, 15, 17, 64, 100, 4099, 70_001}) {
            float[] x = uniform(n, -3, 3);
            x[0] = -0f;
            long[] bits = new long[(n + 63) >>> 6];
            for (int k = 0; k < bits.length; k++) bits[k] = rand.nextLong();
            if (n % 64 != 0) bits[bits.length - 1] &= (1L << (n % 64)) - 1;
            float s = 1f / (1f - 0.1f);
            float[] out = new float[n];
            DropoutOps.apply(out, x, bits, s, n);
            float[] inPlace = x.clone();
            DropoutOps.apply(inPlace, inPlace, bits, s, n);
            for (int i = 0; i < n; i++) {
                boolean kept = (bits[i >>> 6] >>> (i & 63) & 1L) != 0;
                int want = kept ? Float.floatToRawIntBits(x[i] * s) : 0;
                assertEquals(want, Float.floatToRawIntBits(out[i]), "n " + n + ": out[" + i + "] (kept " + kept + ")");
                assertEquals(want, Float.floatToRawIntBits(inPlace[i]), "n " + n + ": in place [" + i + "]");
            }
        }
    }

    /** Both the Vector API loop and the C one ({@link NativeDropout}, where available), at offsets that straddle words. */
    @ParameterizedTest(name = "in C: {0}")
    @ValueSource(booleans = {false, true})
    void applyRangeAtAnyBitOffsetEqualsTheScalarFormulaBitForBit(boolean inC) {
        Assumptions.assumeTrue(!inC || NativeDropout.available(), () -> "native dropout: " + NativeDropout.unavailableReason());
        int words = 40;
        long[] bits = new long[words];
        for (int k = 0; k < words; k++) bits[k] = rand.nextLong();
        float s = 1f / (1f - 0.1f);
        for (int bitOff : new int[] {0, 1, 15, 16, 17, 50, 63, 64, 100, 289, 2550}) {
            for (int n : new int[] {0, 1, 15, 16, 17, 33, 64, 289, 1000}) {
                if (bitOff + n > 64 * words) continue;
                float[] x = uniform(n + 7, -3, 3);
                float[] out = uniform(n + 5, -3, 3), before = out.clone();
                DropoutOps.applyRange(out, 5, x, 7, bits, bitOff, s, n, inC);
                for (int i = 0; i < out.length; i++) {
                    if (i >= 5 && i < 5 + n) continue;
                    assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(out[i]),
                            "bitOff " + bitOff + ", n " + n + ": out[" + i + "] outside the range was modified");
                }
                for (int i = 0; i < n; i++) {
                    int j = bitOff + i;
                    boolean kept = (bits[j >>> 6] >>> (j & 63) & 1L) != 0;
                    int want = kept ? Float.floatToRawIntBits(x[7 + i] * s) : 0;
                    assertEquals(want, Float.floatToRawIntBits(out[5 + i]),
                            "bitOff " + bitOff + ", n " + n + ": out[5 + " + i + "] (kept " + kept + ")");
                }
            }
        }
    }
}

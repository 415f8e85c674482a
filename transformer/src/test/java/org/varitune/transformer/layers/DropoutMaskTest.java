package org.varitune.transformer.layers;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packed masks ({@link Dropout.Mask#packed()}) hold exactly the decisions of the documented formula, element i
 * kept iff {@code u(key, i) >= p} with {@code u} the SplitMix64 output number i of the stream {@code key} in [0, 1)
 * with 53 bits, written out here independently of the main code; applying one scales kept elements by 1/(1 − p) and
 * writes +0 for dropped ones.
 */
class DropoutMaskTest extends TestBase {

    /** SplitMix64 (Steele, Lea and Flood 2014; Vigna's splitmix64.c): state += golden gamma, then the finaliser. */
    private static double referenceUniform(long key, long i) {
        long z = key + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) / 9007199254740992.0;                        // top 53 bits / 2^53
    }

    @Test
    void packedMasksHoldTheFormulasDecisionsForEveryRateAndLength() {
        float[] rates = {0.1f, 0.5f, 1e-7f, 0.999f, 0.3f};
        int[] lengths = {1, 3, 63, 64, 65, 127, 1000, 70_001};
        long[] keys = {0L, -1L, 0x1234_5678_9ABCL, Long.MIN_VALUE};
        for (float p : rates) {
            for (int n : lengths) {
                for (long key : keys) {
                    Dropout.Mask lazy = new Dropout.Mask(key, p, n), packed = lazy.packed();
                    assertEquals((n + 63) / 64, packed.bits().length);
                    int kept = 0;
                    for (int i = 0; i < n; i++) {
                        boolean expected = referenceUniform(key, i) >= p;
                        if (packed.keep(i) != expected || lazy.keep(i) != expected) {
                            fail("p " + p + ", n " + n + ", key " + key + ": element " + i + " kept " + packed.keep(i)
                                    + " (drawn from the key: " + lazy.keep(i) + "), the formula says " + expected);
                        }
                        if (expected) kept++;
                    }
                    int tail = n % 64;                                      // bits past n stay clear
                    if (tail != 0) assertEquals(0L, packed.bits()[n / 64] >>> tail, "bits past element " + n);
                    if (n == 70_001 && p == 0.5f) assertEquals(0.5, kept / (double) n, 0.01, "about half kept");
                }
            }
        }
    }

    @Test
    void applyScalesKeptElementsAndWritesPositiveZeroForDroppedOnesInPlaceOrNot() {
        int n = 4099;
        float p = 0.25f, s = 1f / (1f - p);
        float[] x = uniform(n, -2, 2);
        x[7] = Float.POSITIVE_INFINITY;
        x[8] = Float.NaN;
        Dropout.Mask m = new Dropout(p, Dropout.site(3, Dropout.OUTPUT)).mask(DropoutContext.training(42, 5), n);
        assertNotSame(null, m.bits(), "a mask drawn by a dropout is packed");
        assertSame(m, m.packed());
        float[] out = new float[n], inPlace = x.clone();
        Dropout.apply(out, x, m);
        Dropout.applyInPlace(inPlace, m);
        for (int i = 0; i < n; i++) {
            float expected = referenceUniform(m.key(), i) >= p ? x[i] * s : 0f;
            if (Float.floatToRawIntBits(out[i]) != Float.floatToRawIntBits(expected)
                    || Float.floatToRawIntBits(inPlace[i]) != Float.floatToRawIntBits(expected)) {
                fail("element " + i + " (x " + x[i] + "): " + out[i] + " / in place " + inPlace[i] + ", expected " + expected);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new Dropout.Mask(1L, p, 65, new long[1]));
    }
}

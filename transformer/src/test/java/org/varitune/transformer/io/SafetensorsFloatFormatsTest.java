package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FloatFormats} against independent definitions in double arithmetic. */
class SafetensorsFloatFormatsTest extends TestBase {

    @Test
    void f16ToFloatMatchesTheBinary16DefinitionForAllPatterns() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            int sign = bits >>> 15;
            int exp = (bits >>> 10) & 0x1F;
            int mant = bits & 0x3FF;
            float got = FloatFormats.f16ToFloat((short) bits);
            String where = String.format("f16 0x%04x", bits);
            if (exp == 31) {
                assertEquals(mant != 0, Float.isNaN(got), where);
                if (mant == 0) assertEquals(sign == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY, got, where);
                continue;
            }
            double magnitude = exp == 0 ? mant * Math.pow(2, -24) : (1 + mant / 1024.0) * Math.pow(2, exp - 15);
            double expected = sign == 0 ? magnitude : -magnitude;
            assertEquals((float) expected, got, where); // also distinguishes -0 from +0
        }
    }

    @Test
    void floatToBf16RoundsToTheNearestBf16WithTiesToEven() {
        for (int k = 0; k < 200_000; k++) {
            // Half random patterns; half exact ties (low 16 bits 0x8000) and exactly representable values (0x0000).
            int bits = k < 100_000 ? rand.nextInt() : (rand.nextInt() & 0xFFFF0000) | (k & 1) * 0x8000;
            float x = Float.intBitsToFloat(bits);
            if (Float.isNaN(x)) {
                assertTrue(Float.isNaN(FloatFormats.roundToBf16(x)), "NaN " + Integer.toHexString(bits));
                continue;
            }
            float got = FloatFormats.roundToBf16(x);
            // The two bf16 neighbours of x: truncation toward zero, and the next one away from zero.
            int low = bits & 0xFFFF0000;
            int high = low + 0x10000;
            double dLow = Math.abs(bf16Value(low) - x);
            double dHigh = Math.abs(bf16Value(high) - x);
            int expected;
            if (dLow < dHigh) expected = low;
            else if (dHigh < dLow) expected = high;
            else expected = ((low >>> 16) & 1) == 0 ? low : high;
            assertEquals(Float.intBitsToFloat(expected), got, "x = " + x + " (0x" + Integer.toHexString(bits) + ")");
        }
    }

    /**
     * The value of a bf16 pattern (as float bits) with an unbounded exponent: the infinity pattern stands for ±2^128,
     * the next step after the largest finite bf16, so that IEEE overflow (round to 2^128, then to infinity) falls out.
     */
    private static double bf16Value(int floatBits) {
        if ((floatBits & 0x7FFFFFFF) == 0x7F800000) return floatBits < 0 ? -0x1p128 : 0x1p128;
        return Float.intBitsToFloat(floatBits);
    }
}

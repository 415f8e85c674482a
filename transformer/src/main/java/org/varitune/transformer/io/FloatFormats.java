package org.varitune.transformer.io;

/**
 * Conversions between float and the 16-bit float formats of safetensors checkpoints. Bit patterns travel as
 * {@code short}; only the low 16 bits matter.
 */
public final class FloatFormats {
    private FloatFormats() {}

    /**
     * IEEE binary16 to float, exactly: {@code (-1)^s · 2^(e-15) · (1 + m/1024)} for normal numbers,
     * {@code (-1)^s · m · 2^-24} for subnormals (e = 0), ±infinity for e = 31, m = 0, and NaN with its payload kept in
     * the high mantissa bits for e = 31, m ≠ 0.
     *
     * @param h the binary16 bit pattern
     * @return the same value as a float
     */
    public static float f16ToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0) {
            float v = mant * 0x1p-24f; // exact: mant < 2^10
            return sign != 0 ? -v : v;
        }
        if (exp == 31) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /**
     * bfloat16 to float, exactly: the bf16 bits become the high 16 bits of the float.
     *
     * @param b the bfloat16 bit pattern
     * @return the same value as a float
     */
    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /**
     * Float to bfloat16, rounding to nearest with ties to even (as PyTorch does). Values beyond the largest bf16 round
     * to infinity; NaN stays NaN (sign kept, quiet bit set so a payload in the dropped bits cannot turn it into
     * infinity).
     *
     * @param f the value
     * @return the bfloat16 bit pattern
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x0040);
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /**
     * @param f the value
     * @return {@code f} rounded to the nearest bfloat16 and widened back: {@code bf16ToFloat(floatToBf16(f))}
     */
    public static float roundToBf16(float f) {
        return bf16ToFloat(floatToBf16(f));
    }
}

package org.varitune.transformer.io;

/**
 * Element types of the safetensors format, named exactly as they appear in a header's {@code "dtype"} field. All are
 * little-endian. {@link #byteSize()} is the bytes per element.
 *
 * <p>Every dtype listed here is accepted when a header is parsed (so a checkpoint carrying, say, a {@code BOOL} mask
 * still opens), but only some can be read: {@link WeightSource#readFloat} reads {@link #F32}, {@link #F16},
 * {@link #BF16} and {@link #F64}; {@link WeightSource#readLong} reads the integer types except {@link #U64}. Any other
 * dtype string (including the sub-byte types of newer safetensors versions) is a format error.
 */
public enum DType {
    /** Boolean, one byte (0 or 1). */
    BOOL(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** Signed 8-bit integer. */
    I8(1),
    /** 8-bit float, 5 exponent and 2 mantissa bits; not readable here. */
    F8_E5M2(1),
    /** 8-bit float, 4 exponent and 3 mantissa bits; not readable here. */
    F8_E4M3(1),
    /** Signed 16-bit integer. */
    I16(2),
    /** Unsigned 16-bit integer. */
    U16(2),
    /** IEEE binary16 half precision. */
    F16(2),
    /** bfloat16: the high 16 bits of an IEEE binary32. */
    BF16(2),
    /** Signed 32-bit integer. */
    I32(4),
    /** Unsigned 32-bit integer. */
    U32(4),
    /** IEEE binary32. */
    F32(4),
    /** IEEE binary64. */
    F64(8),
    /** Signed 64-bit integer (token ids, position ids). */
    I64(8),
    /** Unsigned 64-bit integer; not readable here (values above 2^63 do not fit a long). */
    U64(8);

    private final int byteSize;

    DType(int byteSize) { this.byteSize = byteSize; }

    /** @return bytes per element */
    public int byteSize() { return byteSize; }

    /** @return true for the dtypes that {@link WeightSource#readFloat} widens (or narrows, for F64) to float */
    public boolean isReadableAsFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** @return true for the dtypes that {@link WeightSource#readLong} widens to long (integers and BOOL, not U64) */
    public boolean isReadableAsLong() {
        return switch (this) {
            case BOOL, U8, I8, I16, U16, I32, U32, I64 -> true;
            default -> false;
        };
    }

    /**
     * The dtype with this header name, or {@code null} when the name is not a safetensors dtype.
     *
     * @param hfName the {@code "dtype"} string from a header, e.g. {@code "BF16"}; case-sensitive
     * @return the dtype, or {@code null} for an unknown name
     */
    public static DType fromHeaderName(String hfName) {
        for (DType d : values()) {
            if (d.name().equals(hfName)) return d;
        }
        return null;
    }
}

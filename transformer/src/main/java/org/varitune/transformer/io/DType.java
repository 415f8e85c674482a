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
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    F64(8), I64(8), U64(8);

    private final int byteSize;

    DType(int byteSize) { this.byteSize = byteSize; }

    /** Bytes per element. */
    public int byteSize() { return byteSize; }

    /** True for the dtypes that {@link WeightSource#readFloat} widens (or narrows, for F64) to float. */
    public boolean isReadableAsFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    /** True for the dtypes that {@link WeightSource#readLong} widens to long (all integers and BOOL, except U64). */
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
     */
    public static DType fromHeaderName(String hfName) {
        for (DType d : values()) {
            if (d.name().equals(hfName)) return d;
        }
        return null;
    }
}

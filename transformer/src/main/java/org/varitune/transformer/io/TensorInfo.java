package org.varitune.transformer.io;

import org.varitune.transformer.tensor.Shapes;

import java.util.Arrays;
import java.util.Objects;

/**
 * One header entry of a safetensors file: where a tensor's bytes are and how to read them. Immutable: the shape is
 * copied in and out.
 *
 * @param name       the tensor's key, verbatim (an HF parameter name such as {@code encoder.layer.0.output.dense.weight})
 * @param dtype      element type
 * @param shape      dimensions, row-major; {@code []} is a scalar
 * @param byteOffset start of the tensor's bytes, relative to the start of the data buffer (the first byte after the
 *                   header), as in the header's {@code data_offsets[0]}
 * @param byteLength {@code data_offsets[1] - data_offsets[0]}; equals {@code numel * dtype.byteSize()}
 */
public record TensorInfo(String name, DType dtype, int[] shape, long byteOffset, long byteLength) {

    /**
     * Copies {@code shape} and checks that the byte length matches the shape and dtype.
     *
     * @param name       the tensor's key
     * @param dtype      element type
     * @param shape      dimensions; not modified (copied)
     * @param byteOffset start relative to the data buffer, at least 0
     * @param byteLength {@code numel(shape) * dtype.byteSize()}
     * @throws IllegalArgumentException when the length does not match the shape and dtype, or a value is negative
     */
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
        if (byteOffset < 0 || byteLength < 0) {
            throw new IllegalArgumentException("tensor '" + name + "': negative byte offset " + byteOffset
                    + " or length " + byteLength);
        }
        long expected = Math.multiplyExact(Shapes.numel(shape), dtype.byteSize());
        if (expected != byteLength) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + expected + " bytes, but the entry spans " + byteLength);
        }
    }

    /** @return a copy of the dimensions */
    @Override
    public int[] shape() { return shape.clone(); }

    /** @return the number of elements: the product of the dimensions, 1 for a scalar */
    public long numel() { return Shapes.numel(shape); }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && byteOffset == t.byteOffset && byteLength == t.byteLength;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), byteOffset, byteLength);
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " @[" + byteOffset + ", " + (byteOffset + byteLength) + ")";
    }
}

package org.varitune.transformer.io.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An ONNX {@code TensorProto}: name, dims, element type and data. Data is either {@code raw_data} (little-endian
 * bytes, kept as a view into the model buffer) or one of the typed repeated fields ({@code float_data},
 * {@code int32_data}, {@code int64_data}). Only FLOAT, INT32 and INT64 can be converted to arrays.
 *
 * @param name      {@code name} (may be empty for a Constant node's value)
 * @param dims      {@code dims}, outermost first
 * @param dataType  {@code data_type}: {@link #FLOAT}, {@link #INT32}, {@link #INT64}, or another ONNX code
 * @param raw       {@code raw_data} as a read-only little-endian view, or null
 * @param floatData {@code float_data}, empty when absent
 * @param int32Data {@code int32_data}, empty when absent
 * @param int64Data {@code int64_data}, empty when absent
 */
public record OnnxTensor(String name, long[] dims, int dataType, ByteBuffer raw, float[] floatData, long[] int32Data,
                         long[] int64Data) {
    public static final int FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

    /** Number of elements: the product of dims (1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** dims as ints; fails if a dim does not fit. */
    public int[] shape() {
        int[] s = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("tensor '" + name + "': dim " + i + " = " + dims[i] + " out of range");
            }
            s[i] = (int) dims[i];
        }
        return s;
    }

    /** The elements of a FLOAT tensor, row-major. Fails naming the tensor for another type or a size mismatch. */
    public float[] toFloats() {
        if (dataType != FLOAT) throw new IllegalArgumentException("tensor '" + name + "' has data_type " + dataType + ", not FLOAT");
        int n = checkedNumel();
        if (raw != null) {
            requireRawBytes(n, 4);
            float[] out = new float[n];
            raw.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            return out;
        }
        if (floatData.length != n) {
            throw new IllegalArgumentException("tensor '" + name + "' dims " + Arrays.toString(dims) + " hold " + n
                    + " elements but float_data has " + floatData.length);
        }
        return floatData.clone();
    }

    /** The elements of an INT64 or INT32 tensor as longs, row-major. */
    public long[] toLongs() {
        int n = checkedNumel();
        if (dataType == INT64) {
            if (raw != null) {
                requireRawBytes(n, 8);
                long[] out = new long[n];
                raw.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
                return out;
            }
            return requireLength(int64Data, n, "int64_data");
        }
        if (dataType == INT32) {
            if (raw != null) {
                requireRawBytes(n, 4);
                long[] out = new long[n];
                ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) out[i] = b.getInt(4 * i);
                return out;
            }
            return requireLength(int32Data, n, "int32_data");
        }
        throw new IllegalArgumentException("tensor '" + name + "' has data_type " + dataType + ", not INT64 or INT32");
    }

    private long[] requireLength(long[] data, int n, String field) {
        if (data.length != n) {
            throw new IllegalArgumentException("tensor '" + name + "' dims " + Arrays.toString(dims) + " hold " + n
                    + " elements but " + field + " has " + data.length);
        }
        return data.clone();
    }

    private int checkedNumel() {
        long n = numel();
        if (n < 0 || n > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor '" + name + "' too large: " + n);
        return (int) n;
    }

    private void requireRawBytes(int n, int width) {
        if (raw.remaining() != (long) n * width) {
            throw new IllegalArgumentException("tensor '" + name + "' dims " + Arrays.toString(dims) + " need "
                    + (long) n * width + " bytes of raw_data, found " + raw.remaining());
        }
    }

    @Override
    public String toString() {
        return "OnnxTensor[" + name + " " + Arrays.toString(dims) + " type " + dataType + "]";
    }
}

package org.varitune.transformer.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by tensors, parameters and IO. */
public final class Shapes {
    private Shapes() {}

    /** Product of the dimensions; 1 for a scalar shape {@code []}. Rejects negative dimensions. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Decodes a flat row-major index into a shape index, for error messages: {@code (b,t,c)}. */
    public static String decode(long flat, int... shape) {
        if (shape.length == 0) return "()";
        long[] idx = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < idx.length; i++) sb.append(i == 0 ? "" : ",").append(idx[i]);
        return sb.append(')').toString();
    }
}

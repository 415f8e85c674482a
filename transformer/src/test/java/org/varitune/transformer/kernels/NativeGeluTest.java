package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The C GELU ({@link NativeGelu}) equals the Java one ({@link FastGelu}) bit for bit, forward and both backward
 * forms, over a dense grid, the exp cut-off near |x| = 13.2, zeros of both signs, tiny and huge values and
 * infinities, at ranges whose ends leave partial vectors. ({@link FastGeluTest} compares the Java one with double
 * GELU.)
 */
@Tag("kernels")
class NativeGeluTest extends TestBase {

    private static float[] inputs() {
        int n = 24_001;
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 13.18f, -13.18f, 13.19f, -13.19f, 13.2f, -13.2f,
                30f, -30f, 1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE};
        float[] x = new float[n + special.length];
        for (int i = 0; i < n; i++) x[i] = (float) (-16.0 + 32.0 * i / (n - 1));
        System.arraycopy(special, 0, x, n, special.length);
        return x;
    }

    @Test
    void equalsTheJavaKernelsBitForBit() {
        Assumptions.assumeTrue(NativeGelu.available(), () -> "native GELU: " + NativeGelu.unavailableReason());
        float[] x = inputs(), dOut = uniform(x.length, -3, 3), dX0 = uniform(x.length, -1, 1);
        int n = x.length, lo = 5, hi = n - 3;                               // partial vectors at both ends
        float[] want = new float[n], got = new float[n];
        FastGelu.forward(want, x, n, false);
        java.util.Arrays.fill(got, 7f);
        NativeGelu.forward(got, x, lo, hi);
        assertSameBits("forward", want, got, x, lo, hi, 7f);
        for (boolean overwrite : new boolean[]{false, true}) {
            float[] w = dX0.clone(), g = dX0.clone();
            FastGelu.backward(w, x, dOut, n, overwrite, false);
            NativeGelu.backward(g, x, dOut, lo, hi, overwrite);
            for (int i = 0; i < n; i++) if (i < lo || i >= hi) w[i] = dX0[i];   // outside the range: untouched
            assertSameBits("backward overwrite=" + overwrite, w, g, x, 0, n, Float.NaN);
        }
    }

    @Test
    void rejectsRangesOutsideTheArrays() {
        Assumptions.assumeTrue(NativeGelu.available(), () -> "native GELU: " + NativeGelu.unavailableReason());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeGelu.backward(new float[10], new float[10], new float[9], 0, 10, true));
        assertEquals("gelu: dOut has 9 floats, the range needs 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NativeGelu.forward(new float[4], new float[4], 3, 2));
        assertTrue(e.getMessage().contains("bad range [3, 2)"), e.getMessage());
    }

    /** Bits equal in [lo, hi) (NaN only with NaN), and outside it got still holds {@code fill} (unless NaN). */
    private static void assertSameBits(String what, float[] want, float[] got, float[] x, int lo, int hi, float fill) {
        for (int i = 0; i < want.length; i++) {
            boolean inside = i >= lo && i < hi;
            float w = inside ? want[i] : fill;
            if (Float.isNaN(fill) && !inside) continue;
            boolean same = Float.isNaN(w) ? Float.isNaN(got[i]) : Float.floatToRawIntBits(w) == Float.floatToRawIntBits(got[i]);
            if (!same) throw new AssertionError(what + "[" + i + "] at x = " + x[i] + ": Java " + w + ", C " + got[i]);
        }
    }
}

package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The vectorised float GELU of {@link FastCpuKernels} against {@link MathUtil#gelu} and {@link MathUtil#geluGrad},
 * element by element, relative, over a dense grid from −12 to 12 (the far negative side included: there gelu is a
 * tiny negative number and must keep its relative accuracy) plus tiny and special inputs.
 */
@Tag("kernels")
class FastGeluTest extends TestBase {
    /** Relative error per element. Observed: 6.0e-8 forward, 6.0e-8 backward (the float rounding). */
    static final double RELATIVE = 6e-7;

    private static float[] grid() {
        int n = 48_001;
        float[] x = new float[n + 9];
        for (int i = 0; i < n; i++) x[i] = (float) (-12.0 + 24.0 * i / (n - 1));
        float[] extra = {0f, -0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.5f * (float) Math.sqrt(2), 4f * (float) Math.sqrt(2), -5.7f};
        System.arraycopy(extra, 0, x, n, extra.length);
        return x;
    }

    private static void check(String what, float[] got, float[] x, java.util.function.DoubleUnaryOperator want) {
        for (int i = 0; i < x.length; i++) {
            double e = want.applyAsDouble(x[i]);
            double err = Math.abs(got[i] - e), scale = Math.abs(e);
            if (!(err <= RELATIVE * scale) && !(e == 0 && got[i] == 0)) {
                fail(what + "(" + x[i] + ") = " + got[i] + ", expected " + e + ", relative error " + err / scale);
            }
        }
    }

    @Test
    void forwardMatchesDoubleGeluToFloatAccuracy() {
        float[] x = grid(), out = new float[x.length];
        FastGelu.forward(out, x, x.length);
        check("gelu", out, x, MathUtil::gelu);
    }

    @Test
    void backwardMatchesDoubleGeluGradToFloatAccuracy() {
        float[] x = grid(), dX = new float[x.length], ones = new float[x.length];
        java.util.Arrays.fill(ones, 1f);
        FastGelu.backward(dX, x, ones, x.length);
        check("geluGrad", dX, x, MathUtil::geluGrad);
    }

    @Test
    void forwardMayAliasItsInput() {
        float[] x = randn(1001), copy = x.clone(), want = new float[x.length];
        FastGelu.forward(want, copy, copy.length);
        FastGelu.forward(x, x, x.length);
        // exact up to JIT tiers: the Vector API exp may round differently before and after compilation
        for (int i = 0; i < x.length; i++) {
            if (Math.abs(x[i] - want[i]) > RELATIVE * Math.abs(want[i])) {
                fail("aliased gelu differs at " + i + ": " + x[i] + " vs " + want[i]);
            }
        }
    }
}

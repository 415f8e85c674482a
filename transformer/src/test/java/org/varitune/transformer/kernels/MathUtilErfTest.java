package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** {@link MathUtil#erf} against tabulated values (Python {@code math.erf}, i.e. the C library's erf). */
@Tag("kernels")
class MathUtilErfTest extends TestBase {
    /** {x, erf(x)} pairs from {@code python3 -c "import math; print(repr(math.erf(x)))"}. */
    static final double[][] TABLE = {
            {0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1.0, 0.8427007929497149},
            {2.0, 0.9953222650189527}, {3.0, 0.9999779095030014}, {-1.5, -0.9661051464753108},
            {5e-9, 5.641895835477563e-09}, {0.25, 0.2763263901682369}, {0.4999, 0.5204119951613866},
            {0.75, 0.7111556336535151}, {-0.3, -0.3286267594591274}, {1.25, 0.9229001282564582},
            {2.5, 0.999593047982555}, {3.5, 0.9999992569016276}, {3.999, 0.9999999844552505},
            {4.0, 0.9999999845827421}, {4.5, 0.9999999998033839}, {5.0, 0.9999999999984626}, {6.0, 1.0},
            {-2.0, -0.9953222650189527}, {-3.7, -0.9999998328489421}, {0.05, 0.05637197779701663},
            {0.001, 0.0011283787909692365},
    };
    /** {x, erfc(x)} from {@code math.erfc}: the far tail must keep its relative accuracy. */
    static final double[][] ERFC = {
            {0.3, 0.6713732405408726}, {0.5, 0.4795001221869535}, {1.0, 0.15729920705028513},
            {2.0, 0.004677734981047265}, {3.0, 2.2090496998585438e-05}, {4.0, 1.541725790028002e-08},
            {5.0, 1.5374597944280351e-12}, {7.0, 4.183825607779414e-23}, {10.0, 2.088487583762545e-45},
            {20.0, 5.3958656116079005e-176}, {26.0, 5.663192408856143e-296}, {-1.0, 1.842700792949715},
            {-0.2, 1.2227025892104786},
    };
    /** {x, gelu(x)} from {@code x·0.5·math.erfc(−x/√2)}, far negative x included. */
    static final double[][] GELU = {
            {-12.0, -2.1317785344932424e-32}, {-8.0, -4.9767684594174555e-15}, {-5.0, -1.4332578593959731e-06},
            {-3.0, -0.004049694094890287}, {-1.0, -0.15865525393145707}, {0.5, 0.34573123063700656},
            {3.0, 2.99595030590511},
    };
    static final double RELATIVE = 1e-15;

    @Test
    void erfMatchesTabulatedValues() {
        for (double[] row : TABLE) {
            double got = MathUtil.erf(row[0]), want = row[1];
            double rel = Math.abs(got - want) / Math.abs(want);
            if (rel > RELATIVE) fail("erf(" + row[0] + ") = " + got + ", expected " + want + ", relative error " + rel);
        }
    }

    @Test
    void erfIsOddAndSaturates() {
        assertEquals(0.0, MathUtil.erf(0.0));
        for (double x = 0.01; x < 8; x += 0.37) assertEquals(-MathUtil.erf(x), MathUtil.erf(-x), 0.0, "x=" + x);
        assertEquals(1.0, MathUtil.erf(30.0));
        assertEquals(-1.0, MathUtil.erf(Double.NEGATIVE_INFINITY));
    }

    @Test
    void erfcMatchesTabulatedValuesDeepIntoTheTail() {
        for (double[] row : ERFC) {
            double got = MathUtil.erfc(row[0]), want = row[1];
            double rel = Math.abs(got - want) / Math.abs(want);
            // 4e-15: the tail's relative error grows with x (exp(−x²) of a rounded argument); observed 1.1e-15 at x=26
            if (rel > 4e-15) fail("erfc(" + row[0] + ") = " + got + ", expected " + want + ", relative error " + rel);
        }
    }

    @Test
    void geluMatchesTabulatedValuesIncludingTheFarNegativeSide() {
        for (double[] row : GELU) {
            double got = MathUtil.gelu(row[0]), want = row[1];
            double rel = Math.abs(got - want) / Math.abs(want);
            // erfc(z) moves by 2z² relative per relative change of z: x/√2 rounded differently costs up to
            // 2·72·2.2e-16 = 3.2e-14 at x = −12 (observed 3.0e-14 there, 2e-16 for |x| <= 3)
            if (rel > 5e-14) fail("gelu(" + row[0] + ") = " + got + ", expected " + want + ", relative error " + rel);
        }
    }
}

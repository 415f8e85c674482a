package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RatioMathTest extends TestBase {

    /** Sw = identity: u ᵀ Sw u = |u|² = 1. */
    static final RatioMath.QuadraticForm IDENTITY = u -> {
        double s = 0;
        for (double v : u) s += v * v;
        return s;
    };

    @Test
    void dropsDirectionsBelowRelativeToleranceAndCapsRankAtCMinusOne() {
        // three class means on a line, one of them off the line by 1e-7 (float-noise level): Sb has a true
        // eigenvalue λ1 and a noise eigenvalue ≈ 1e-14 λ1 that must not be inverted
        int d = 4, C = 3;
        double[] means = {0, 0, 0, 0, 1, 0, 0, 0, 2, 1e-7, 0, 0};
        double[] center = new double[d];
        for (int y = 0; y < C; y++) for (int i = 0; i < d; i++) center[i] += means[y * d + i] / C;
        RatioMath.Parts p = RatioMath.ratio(means, center, C, d, IDENTITY, RatioMath.DEFAULT_RELATIVE_TOLERANCE, 1.0);
        assertEquals(1, p.rank());
        assertEquals(1, p.droppedNonzero());
        double lambda = (1.0 + 0 + 1.0) / 3;   // Sb along x: (1/3) Σ (m_y − 1)² = 2/3
        assertEquals(lambda, p.keptEigenvalues()[0], 1e-12);
        assertEquals(1.0 / lambda / C, p.nuOrThrow(), 1e-9);
        // with a tolerance below the noise, the noise direction is inverted and nu explodes: the tolerance matters
        RatioMath.Parts loose = RatioMath.ratio(means, center, C, d, IDENTITY, 1e-20, 1.0);
        assertEquals(2, loose.rank());
        assertTrue(loose.nuOrThrow() > 1e10, "nu with noise inverted: " + loose.nuOrThrow());
    }

    @Test
    void eigenRouteAppliesTheSameToleranceAndCap() {
        int d = 3, C = 2;
        DMatrixRMaj sb = new DMatrixRMaj(new double[][] {{4, 0, 0}, {0, 1e-3, 0}, {0, 0, 0}});
        DMatrixRMaj sw = DMatrixRMaj.wrap(3, 3, new double[] {2, 0, 0, 0, 5, 0, 0, 0, 7});
        RatioMath.Parts p = RatioMath.ratioViaEigen(sw, sb, C, RatioMath.DEFAULT_RELATIVE_TOLERANCE, 1.0);
        assertEquals(1, p.rank(), "rank cap C − 1 = 1 drops the second eigenvalue");
        assertEquals(2.0 / 4 / C, p.nuOrThrow(), 1e-15);
        assertEquals(1, p.droppedNonzero());
    }

    @Test
    void classMeansCloserThanFloat32ResolutionOfTheDataHaveNoRatio() {
        // two classes, Sw = I, vectors of rms norm s = 1: Sb = (1/4) δδᵀ, λ_max = δ²/4, zero test (2^-24 s)² = 3.55e-15
        int d = 2, C = 2;
        RatioMath.Parts tiny = RatioMath.ratio(new double[] {0, 0, 1e-9, 0}, new double[] {0.5e-9, 0}, C, d, IDENTITY, 1e-8, 1.0);
        assertTrue(tiny.nu().isEmpty());
        assertTrue(tiny.undefinedReason().startsWith("Sb = 0 to float32 precision: every class has the same mean"),
                tiny.undefinedReason());
        assertEquals(0.25e-18, tiny.traceSb(), 1e-30);
        // δ = 1e-6 gives λ_max = 2.5e-13 > 3.55e-15: a genuine (if tiny) class signal, nu = (1/C) · 1/λ = 2e12
        RatioMath.Parts small = RatioMath.ratio(new double[] {0, 0, 1e-6, 0}, new double[] {0.5e-6, 0}, C, d, IDENTITY, 1e-8, 1.0);
        assertEquals(0.5 / 0.25e-12, small.nuOrThrow(), 1e-3);
        // the same δ = 1e-6 on vectors of norm 1e4 is below float32 resolution: (2^-24 · 1e4)² = 3.55e-7 > λ_max
        assertTrue(RatioMath.ratio(new double[] {0, 0, 1e-6, 0}, new double[] {0.5e-6, 0}, C, d, IDENTITY, 1e-8, 1e8).nu().isEmpty());
        RatioMath.Parts zero = RatioMath.ratio(new double[] {3, 4, 3, 4}, new double[] {3, 4}, C, d, IDENTITY, 1e-8, 25.0);
        assertEquals("Sb = 0: every class has exactly the same mean at this layer", zero.undefinedReason());
        DMatrixRMaj none = new DMatrixRMaj(2, 2);
        assertTrue(RatioMath.ratioViaEigen(DMatrixRMaj.wrap(2, 2, new double[] {1, 0, 0, 1}), none, C, 1e-8, 1.0).nu().isEmpty());
    }

    @Test
    void rejectsBadToleranceAndSingleClass() {
        assertThrows(IllegalArgumentException.class, () -> RatioMath.ratio(new double[4], new double[2], 2, 2, IDENTITY, 0, 1.0));
        assertThrows(IllegalArgumentException.class, () -> RatioMath.ratio(new double[2], new double[2], 1, 2, IDENTITY, 1e-8, 1.0));
    }
}

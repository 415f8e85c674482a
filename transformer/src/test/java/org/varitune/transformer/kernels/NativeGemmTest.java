package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.io.File;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.transformer.testing.AllClose.assertAllClose;

/**
 * The pinned sgemm ({@link NativeGemm}) against a double product computed here, at offsets and leading dimensions
 * wider than the block, for every transpose pair; the floats around the C block must come back untouched. Out-of-range
 * operands are refused before any native code runs.
 */
@Tag("kernels")
class NativeGemmTest extends TestBase {

    /** On the machines this project supports (Linux x86_64 with gcc) the build must produce a working library. */
    @Test
    void buildsAndPinsOnLinuxX8664WithGcc() {
        Assumptions.assumeTrue(Blas.available(), () -> "OpenBLAS not available: " + Blas.unavailableReason());
        Assumptions.assumeTrue("Linux".equals(System.getProperty("os.name")) && "amd64".equals(System.getProperty("os.arch")),
                "not Linux x86_64");
        boolean gcc = Arrays.stream(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(d -> new File(d, "gcc").canExecute());
        Assumptions.assumeTrue(gcc, "no gcc on PATH");
        Assumptions.assumeTrue(!"false".equals(System.getProperty("varitune.blas.pinned")), "pinning switched off");
        assertTrue(NativeGemm.available(), () -> "pinned sgemm unavailable: " + NativeGemm.unavailableReason());
    }

    @ParameterizedTest(name = "transA={0} transB={1} beta={2}")
    @CsvSource({"false,false,0", "false,true,1", "true,false,0.5", "true,true,1"})
    void matchesADoubleProductAtOffsetsAndLeadingDimensions(boolean transA, boolean transB, float beta) {
        Assumptions.assumeTrue(NativeGemm.available(), () -> "pinned sgemm: " + NativeGemm.unavailableReason());
        int m = 37, n = 29, k = 53;
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + 3, ldb = bCols + 5, ldc = n + 7, aOff = 11, bOff = 2, cOff = 13;
        float alpha = 0.75f;
        float[] a = randn(aOff + aRows * lda), b = randn(bOff + bRows * ldb), c = randn(cOff + m * ldc + 4);
        float[] c0 = c.clone();
        NativeGemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        double[] want = new double[m * n];
        float[] got = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += av * bv;
                }
                want[i * n + j] = alpha * s + (double) beta * c0[cOff + i * ldc + j];
                got[i * n + j] = c[cOff + i * ldc + j];
                c[cOff + i * ldc + j] = c0[cOff + i * ldc + j];     // so the rest of c can be compared below
            }
        }
        assertAllClose("pinned sgemm C", got, want, Tolerances.F32_MATMUL, m, n);
        for (int i = 0; i < c.length; i++) {
            if (c[i] != c0[i]) throw new AssertionError("pinned sgemm wrote c[" + i + "] outside the (m, n) block");
        }
    }

    @Test
    void rejectsOperandsOutsideTheirArrays() {
        Assumptions.assumeTrue(NativeGemm.available(), () -> "pinned sgemm: " + NativeGemm.unavailableReason());
        float[] a = new float[6], b = new float[6], c = new float[4];
        // C (2, 2) at offset 1 would end at 5 > 4
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeGemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 1, 2));
        assertTrue(e.getMessage().contains("C (2, 2)") && e.getMessage().contains("its array has 4"), e.getMessage());
        // A (2, 3) with leading dimension 2 < 3 columns
        e = assertThrows(IllegalArgumentException.class,
                () -> NativeGemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("A leading dimension 2"), e.getMessage());
        // Bᵀ stored as (2, 3): needs 6 floats from offset 1
        e = assertThrows(IllegalArgumentException.class,
                () -> NativeGemm.sgemm(false, true, 2, 2, 3, 1f, a, 0, 3, b, 1, 3, 0f, c, 0, 2));
        assertTrue(e.getMessage().contains("B (2, 3)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> NativeGemm.sgemm(false, false, 2, 2, 3, 1f, a, -1, 3, b, 0, 2, 0f, c, 0, 2));
        assertEquals(0f, c[0]);
    }
}

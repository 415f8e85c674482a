package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profiler passes calls through unchanged and reports each matmul op once in total and once per shape. */
class ProfilingKernelsTest extends TestBase {

    @Test
    void reportsEveryMatmulShapeUnderItsOpAndChangesNoResult() {
        Kernels cpu = new CpuKernels();
        ProfilingKernels prof = new ProfilingKernels(new CpuKernels());
        float[] x = randn(4 * 3), w1 = randn(5 * 3), w2 = randn(7 * 5), a = new float[4 * 5], e = new float[4 * 5];
        prof.matmulForward(a, x, w1, null, 4, 3, 5);
        cpu.matmulForward(e, x, w1, null, 4, 3, 5);
        assertArrayEquals(e, a, "profiled matmulForward");
        float[] y = new float[4 * 7];
        prof.matmulForward(y, a, w2, null, 4, 5, 7);
        prof.matmulBackward(null, new float[7 * 5], null, randn(4 * 7), a, w2, 4, 5, 7);
        String r = prof.report();
        String[] lines = r.split("\n");
        assertTrue(lines[1].startsWith("matmulBackward") && lines[1].contains(" 1 "), r);
        assertTrue(lines[2].startsWith("  5→7 dW"), r);
        assertTrue(lines[3].startsWith("matmulForward") && lines[3].contains(" 2 "), r);
        assertTrue(lines[4].startsWith("  3→5") && lines[5].startsWith("  5→7"), r);
        assertTrue(lines[6].startsWith("kernels "), "the shape rows are not counted again in the total: " + r);
    }
}

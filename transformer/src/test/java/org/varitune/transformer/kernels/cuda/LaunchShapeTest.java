package org.varitune.transformer.kernels.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Launch-shape arithmetic and the device limits it enforces on the host. */
class LaunchShapeTest {

    @Test
    void ceilDivRoundsUpAndRejectsOverflow() {
        assertEquals(0, LaunchShape.ceilDiv(0, 64));
        assertEquals(1, LaunchShape.ceilDiv(1, 64));
        assertEquals(1, LaunchShape.ceilDiv(64, 64));
        assertEquals(2, LaunchShape.ceilDiv(65, 64));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.ceilDiv(1, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.ceilDiv(-1, 4));
        assertThrows(IllegalArgumentException.class, () -> LaunchShape.ceilDiv(Long.MAX_VALUE, 2));
    }

    @Test
    void gemmTilesCoverTheOutputColumnsInXAndRowsInY() {
        // forward of bert-base's FFN at batch 32 x seq 128: out (4096, 3072)
        LaunchShape s = LaunchShape.tiles(4096, 3072, 64, 64, 16, 16);
        assertEquals(new LaunchShape(48, 64, 1, 16, 16, 1, 0), s);
        assertEquals(256, s.threadsPerBlock());
        assertEquals(new LaunchShape(2, 1, 1, 128, 1, 1, 0), LaunchShape.tiles(1, 65, 64, 64, 128, 1));
    }

    @Test
    void elementwiseLaunchesCapTheGridAndNeverLaunchEmpty() {
        assertEquals(new LaunchShape(1, 1, 1, 256, 1, 1, 0), LaunchShape.elementwise(0, 256));
        assertEquals(new LaunchShape(1, 1, 1, 256, 1, 1, 0), LaunchShape.elementwise(256, 256));
        assertEquals(new LaunchShape(2, 1, 1, 256, 1, 1, 0), LaunchShape.elementwise(257, 256));
        assertEquals(LaunchShape.MAX_STRIDE_BLOCKS, LaunchShape.elementwise(Integer.MAX_VALUE, 256).gridX());
    }

    @Test
    void attentionGridIsQueryHeadBatch() {
        LaunchShape s = LaunchShape.perQuery(32, 128, 12, 128, (64 + 128 + 32) * 4);
        assertEquals(new LaunchShape(128, 12, 32, 128, 1, 1, 896), s);
    }

    @Test
    void threadsForRowsAreWholeWarpsWithinTheCap() {
        assertEquals(32, LaunchShape.threadsFor(1, 256));
        assertEquals(64, LaunchShape.threadsFor(64, 128));
        assertEquals(96, LaunchShape.threadsFor(65, 128));
        assertEquals(256, LaunchShape.threadsFor(768, 256));
        assertEquals(32, LaunchShape.threadsFor(0, 256));
    }

    @Test
    void rejectsShapesBeyondTheDeviceLimitsNamingTheDimension() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LaunchShape(1, 1, 1, 33, 32, 1, 0));
        assertTrue(e.getMessage().contains("1056 threads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LaunchShape.perQuery(70000, 128, 12, 128, 0));
        assertTrue(e.getMessage().contains("y and z"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LaunchShape.perRow(10, 128, 49 * 1024));
        assertTrue(e.getMessage().contains("shared memory"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LaunchShape.perRow(0, 128, 0));
        assertTrue(e.getMessage().contains("empty grid"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LaunchShape(1, 1, 1, 1, 1, 65, 0));
    }

    @Test
    void printsGridBlockAndSharedMemory() {
        assertEquals("grid(3, 2, 1) block(16, 16, 1) smem 0 B", LaunchShape.tiles(100, 150, 64, 64, 16, 16).toString());
    }
}

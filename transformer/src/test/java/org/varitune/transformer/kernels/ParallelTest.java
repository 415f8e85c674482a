package org.varitune.transformer.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("kernels")
class ParallelTest extends TestBase {

    @Test
    void visitsEveryIndexExactlyOnce() {
        for (int n : new int[] {0, 1, 2, 7, 1000, 12345}) {
            AtomicIntegerArray seen = new AtomicIntegerArray(n);
            Parallel.parallelForRange(n, 3, (lo, hi) -> {
                for (int i = lo; i < hi; i++) seen.incrementAndGet(i);
            });
            for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "n=" + n + " index " + i);
        }
    }

    @Test
    void nestedCallsRunInlineOnTheCallingThread() {
        AtomicInteger wrongThread = new AtomicInteger(), inner = new AtomicInteger();
        Parallel.parallelFor(8, i -> {
            assertTrue(Parallel.insideParallelRegion());
            Thread outer = Thread.currentThread();
            Parallel.parallelFor(100, j -> {
                inner.incrementAndGet();
                if (Thread.currentThread() != outer) wrongThread.incrementAndGet();
            });
        });
        assertEquals(800, inner.get());
        assertEquals(0, wrongThread.get());
        assertFalse(Parallel.insideParallelRegion());
    }

    @Test
    void rethrowsTheExceptionOfAChunk() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.parallelFor(64, i -> {
            if (i == 37) throw new IllegalStateException("chunk 37 failed");
        }));
        assertEquals("chunk 37 failed", e.getMessage());
        assertFalse(Parallel.insideParallelRegion());
    }

    @Test
    void runsEachTaskOnce() {
        AtomicIntegerArray seen = new AtomicIntegerArray(13);
        Parallel.parallelTasks(13, seen::incrementAndGet);
        for (int t = 0; t < 13; t++) assertEquals(1, seen.get(t), "task " + t);
    }
}

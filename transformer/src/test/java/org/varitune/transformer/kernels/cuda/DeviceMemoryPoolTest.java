package org.varitune.transformer.kernels.cuda;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Buffer pooling, accounting and leak detection against a fake allocator that tracks live allocations. */
class DeviceMemoryPoolTest {

    /** Hands out increasing numbers as handles and remembers which are live and how large. */
    static final class FakeAllocator implements DeviceMemoryPool.Allocator<Long> {
        final Map<Long, Long> live = new HashMap<>();
        long next = 1, allocated, freed;

        @Override public Long allocate(long bytes) {
            long h = next++;
            live.put(h, bytes);
            allocated++;
            return h;
        }

        @Override public void free(Long h) {
            if (live.remove(h) == null) throw new AssertionError("double free of handle " + h);
            freed++;
        }
    }

    @Test
    void sizeClassesArePowersOfTwoAndOneAndAHalfTimesThem() {
        assertEquals(256, DeviceMemoryPool.sizeClass(0));
        assertEquals(256, DeviceMemoryPool.sizeClass(256));
        assertEquals(384, DeviceMemoryPool.sizeClass(257));
        assertEquals(384, DeviceMemoryPool.sizeClass(384));
        assertEquals(512, DeviceMemoryPool.sizeClass(385));
        assertEquals(1 << 20, DeviceMemoryPool.sizeClass(1 << 20));
        assertEquals(3L << 19, DeviceMemoryPool.sizeClass((1 << 20) + 1));
        assertEquals(4096L * 3072 * 4, DeviceMemoryPool.sizeClass(4096L * 3072 * 4));   // 48 MiB = 1.5·2^25
        for (long b = 1; b < 100_000; b += 37) {
            long c = DeviceMemoryPool.sizeClass(b);
            assertTrue(c >= b && (c <= 256 || (c - b) * 3 <= c), b + " -> " + c);   // at most a third of it slack
        }
        assertThrows(IllegalArgumentException.class, () -> DeviceMemoryPool.sizeClass(-1));
    }

    @Test
    void releasedBuffersAreReusedWithinTheirSizeClass() {
        FakeAllocator a = new FakeAllocator();
        try (DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(a)) {
            var x = pool.acquire(1000, "x");
            assertEquals(1024, x.capacity());
            assertEquals(1000, x.requested());
            pool.release(x);
            var y = pool.acquire(900, "y");                    // same class (1024): the same allocation
            assertSame(x, y);
            assertEquals("y", y.tag());
            var z = pool.acquire(1000, "z");                   // x/y is in use: a new allocation
            assertNotSame(y, z);
            var w = pool.acquire(5000, "w");
            assertEquals(3, a.allocated);
            assertEquals(1, pool.reuses());
            assertEquals(3, pool.allocations());
            assertEquals(1024 + 1024 + 6144, pool.bytesInUse());
            assertEquals(pool.bytesInUse(), pool.bytesReserved());
            pool.release(y);
            pool.release(z);
            pool.release(w);
            assertEquals(0, pool.bytesInUse());
            assertEquals(8192, pool.bytesReserved());
        }
        assertEquals(0, a.live.size(), "close frees everything");
    }

    @Test
    void trimFreesOnlyFreeBuffers() {
        FakeAllocator a = new FakeAllocator();
        DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(a);
        var kept = pool.acquire(100, "kept");
        pool.release(pool.acquire(10_000, "temp"));
        assertEquals(256 + 12288, pool.bytesReserved());
        assertEquals(12288, pool.trim());
        assertEquals(1, a.live.size());
        assertEquals(256, pool.bytesReserved());
        pool.release(kept);
        pool.close();
        assertEquals(0, a.live.size());
    }

    @Test
    void closeWithAcquiredBuffersFreesThemAndReportsTheLeakByTag() {
        FakeAllocator a = new FakeAllocator();
        DeviceMemoryPool<Long> pool = new DeviceMemoryPool<>(a);
        pool.acquire(4096, "attention att");
        pool.release(pool.acquire(64, "fine"));
        var e = assertThrows(IllegalStateException.class, pool::close);
        assertEquals("device memory leak: 1 buffer(s) still acquired at close: attention att (4096 bytes)", e.getMessage());
        assertEquals(0, a.live.size());
        pool.close();                                          // closing twice does nothing
        assertThrows(IllegalStateException.class, () -> pool.acquire(1, "after close"));
    }

    @Test
    void rejectsDoubleReleaseAndForeignBuffers() {
        FakeAllocator a = new FakeAllocator();
        try (DeviceMemoryPool<Long> p1 = new DeviceMemoryPool<>(a); DeviceMemoryPool<Long> p2 = new DeviceMemoryPool<>(a)) {
            var b = p1.acquire(10, "b");
            p1.release(b);
            var e = assertThrows(IllegalStateException.class, () -> p1.release(b));
            assertTrue(e.getMessage().contains("released twice"), e.getMessage());
            var c = p2.acquire(10, "c");
            assertThrows(IllegalArgumentException.class, () -> p1.release(c));
            p2.release(c);
        }
        assertEquals(a.allocated, a.freed);
    }
}

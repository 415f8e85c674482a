package org.varitune.transformer.kernels.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pool of device allocations reused by size class, so a training loop that asks for the same activation sizes step
 * after step allocates device memory only in its first step. Not thread-safe (one pool per context, used under the
 * backend's lock).
 *
 * <p>Size classes: {@link #sizeClass} rounds a request up to the next 2ᵏ or 1.5·2ᵏ bytes (at least 256), so at most a
 * third of a buffer is slack. {@link #acquire} reuses a free buffer of the request's class or allocates a new one;
 * {@link #release} returns it (releasing twice, or a buffer of another pool, is an error). {@link #trim} frees the free
 * buffers; {@link #close} frees them too and then fails, listing the tags, if any buffer is still acquired (a leak).
 *
 * @param <H> the allocator's handle type (a device pointer in {@link CudaContext}; a plain number in tests)
 */
public final class DeviceMemoryPool<H> implements AutoCloseable {

    /** Where the memory comes from: {@code cuMemAlloc}/{@code cuMemFree} on a device, a fake in tests. */
    public interface Allocator<H> {
        /** A new allocation of exactly {@code bytes} bytes. */
        H allocate(long bytes);
        /** Frees an allocation made by {@link #allocate}. */
        void free(H handle);
    }

    /** An acquired buffer: its handle, its capacity (the size class, ≥ the request) and the tag naming its use. */
    public static final class Buffer<H> {
        private final H handle;
        private final long capacity;
        private String tag;
        private long requested;
        private boolean inUse;

        private Buffer(H handle, long capacity) {
            this.handle = handle;
            this.capacity = capacity;
        }

        public H handle() { return handle; }
        public long capacity() { return capacity; }
        /** Bytes asked for by the current (or last) acquire. */
        public long requested() { return requested; }
        public String tag() { return tag; }
        public boolean inUse() { return inUse; }
    }

    private final Allocator<H> allocator;
    private final TreeMap<Long, ArrayDeque<Buffer<H>>> free = new TreeMap<>();
    private final Map<Buffer<H>, Boolean> live = new IdentityHashMap<>();   // every buffer this pool allocated
    private long bytesReserved, bytesInUse, allocations, reuses;
    private boolean closed;

    public DeviceMemoryPool(Allocator<H> allocator) {
        this.allocator = allocator;
    }

    /** The capacity a request of {@code bytes} gets: the least 2ᵏ or 1.5·2ᵏ that holds it, at least 256. */
    public static long sizeClass(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("negative buffer size " + bytes);
        if (bytes <= 256) return 256;
        long pow = Long.highestOneBit(bytes);
        if (pow == bytes) return bytes;
        long mid = pow + (pow >> 1);
        return bytes <= mid ? mid : pow << 1;
    }

    /**
     * A buffer of at least {@code bytes} bytes, reused when one of its size class is free. Its contents are undefined.
     *
     * @param tag what the buffer holds, for leak reports (e.g. {@code "matmul x"})
     */
    public Buffer<H> acquire(long bytes, String tag) {
        if (closed) throw new IllegalStateException("device memory pool is closed (acquire of " + bytes + " bytes for " + tag + ")");
        long cls = sizeClass(bytes);
        ArrayDeque<Buffer<H>> q = free.get(cls);
        Buffer<H> b;
        if (q != null && !q.isEmpty()) {
            b = q.pop();
            reuses++;
        } else {
            b = new Buffer<>(allocator.allocate(cls), cls);
            live.put(b, Boolean.TRUE);
            bytesReserved += cls;
            allocations++;
        }
        b.inUse = true;
        b.tag = tag;
        b.requested = bytes;
        bytesInUse += cls;
        return b;
    }

    /** Returns a buffer to the pool; it must have come from this pool's {@link #acquire} and not been released since. */
    public void release(Buffer<H> b) {
        if (b == null) return;
        if (!live.containsKey(b)) throw new IllegalArgumentException("buffer '" + b.tag + "' does not belong to this pool");
        if (!b.inUse) throw new IllegalStateException("buffer '" + b.tag + "' (" + b.capacity + " bytes) released twice");
        b.inUse = false;
        bytesInUse -= b.capacity;
        free.computeIfAbsent(b.capacity, k -> new ArrayDeque<>()).push(b);
    }

    /** Frees every free buffer (acquired ones stay). Returns the bytes freed. */
    public long trim() {
        long freed = 0;
        for (ArrayDeque<Buffer<H>> q : free.values()) {
            for (Buffer<H> b : q) {
                allocator.free(b.handle);
                live.remove(b);
                freed += b.capacity;
            }
        }
        free.clear();
        bytesReserved -= freed;
        return freed;
    }

    /** Bytes of device memory this pool holds (free and in use). */
    public long bytesReserved() { return bytesReserved; }
    /** Bytes (by capacity) of the buffers currently acquired. */
    public long bytesInUse() { return bytesInUse; }
    /** Number of device allocations made so far. */
    public long allocations() { return allocations; }
    /** Number of acquires served from the free lists. */
    public long reuses() { return reuses; }

    /** The tags of the buffers currently acquired, in no particular order. */
    public List<String> inUseTags() {
        List<String> tags = new ArrayList<>();
        for (Buffer<H> b : live.keySet()) if (b.inUse) tags.add(b.tag + " (" + b.requested + " bytes)");
        return tags;
    }

    /**
     * Frees the free buffers and closes the pool. If buffers are still acquired they are freed as well, and an
     * {@link IllegalStateException} lists them (a leak in the caller). Closing twice does nothing.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        trim();
        List<String> leaked = inUseTags();
        for (Buffer<H> b : live.keySet()) allocator.free(b.handle);
        live.clear();
        bytesReserved = 0;
        bytesInUse = 0;
        if (!leaked.isEmpty()) {
            throw new IllegalStateException("device memory leak: " + leaked.size() + " buffer(s) still acquired at close: "
                    + String.join(", ", leaked));
        }
    }
}

package org.varitune.transformer.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The one thread pool of the fast kernels (llm.c's {@code #pragma omp parallel for}): a fixed set of daemon workers,
 * sized by {@code -Dvaritune.threads} or else {@link Runtime#availableProcessors()}, and the calling thread works too.
 *
 * <p>A parallel call splits its index range into chunks and every participating thread takes chunks from a shared
 * counter until none are left; the call returns when all chunks are done and rethrows the first exception a chunk
 * threw. A parallel call made from inside a chunk (nested parallelism) runs inline on the current thread, so the
 * pool never oversubscribes the cores. Two unrelated threads may call in at once: each caller drains its own chunks,
 * so neither waits on the other's.
 */
public final class Parallel {
    private Parallel() {}

    /** Body of a chunked loop: handles the indices {@code [lo, hi)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    private static final int THREADS = threadsFromProperty();
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static volatile ExecutorService pool;

    private static int threadsFromProperty() {
        String s = System.getProperty("varitune.threads");
        if (s == null || s.isBlank()) return Math.max(1, Runtime.getRuntime().availableProcessors());
        try {
            int t = Integer.parseInt(s.trim());
            if (t < 1) throw new NumberFormatException("must be >= 1");
            return t;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-Dvaritune.threads=" + s + " is not a positive integer", e);
        }
    }

    /** Number of threads a parallel call uses, the caller included. */
    public static int threads() { return THREADS; }

    /** True on a thread that is currently running a chunk of a parallel call. */
    public static boolean insideParallelRegion() { return INSIDE.get(); }

    /** Runs {@code body.accept(i)} for every i in {@code [0, n)}, in parallel, one index per chunk. */
    public static void parallelFor(int n, IntConsumer body) {
        parallelForRange(n, 1, (lo, hi) -> {
            for (int i = lo; i < hi; i++) body.accept(i);
        });
    }

    /**
     * Runs {@code body.run(lo, hi)} over disjoint chunks covering {@code [0, n)}, in parallel. The chunks number about
     * four per thread (for balance) but hold at least {@code minChunk} indices each; their boundaries depend only on
     * n, minChunk and {@link #threads()}, so results that depend on chunking are reproducible.
     */
    public static void parallelForRange(int n, int minChunk, RangeBody body) {
        if (n <= 0) return;
        int chunk = Math.max(Math.max(1, minChunk), ceilDiv(n, 4 * THREADS));
        int chunks = ceilDiv(n, chunk);
        if (chunks == 1 || THREADS == 1 || INSIDE.get()) {
            runInside(body, 0, n);
            return;
        }
        parallelChunks(chunks, c -> {
            int lo = c * chunk;
            body.run(lo, Math.min(n, lo + chunk));
        });
    }

    /**
     * Runs {@code body.run(t, tasks)} for each task index t in {@code [0, tasks)} with exactly {@code tasks} tasks;
     * for work already cut into balanced pieces (GEMM tiles, one per thread).
     */
    public static void parallelTasks(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || THREADS == 1 || INSIDE.get()) {
            runInside((lo, hi) -> {
                for (int t = lo; t < hi; t++) body.accept(t);
            }, 0, tasks);
            return;
        }
        parallelChunks(tasks, body);
    }

    private static void runInside(RangeBody body, int lo, int hi) {
        boolean was = INSIDE.get();
        INSIDE.set(Boolean.TRUE);
        try {
            body.run(lo, hi);
        } finally {
            INSIDE.set(was);
        }
    }

    private static void parallelChunks(int chunks, IntConsumer chunkBody) {
        AtomicInteger next = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chunks);
        AtomicReference<Throwable> error = new AtomicReference<>();
        Runnable drain = () -> {
            INSIDE.set(Boolean.TRUE);
            try {
                for (int c; (c = next.getAndIncrement()) < chunks; ) {
                    try {
                        if (error.get() == null) chunkBody.accept(c);
                    } catch (Throwable t) {
                        error.compareAndSet(null, t);
                    } finally {
                        done.countDown();
                    }
                }
            } finally {
                INSIDE.set(Boolean.FALSE);
            }
        };
        ExecutorService p = pool();
        int helpers = Math.min(THREADS - 1, chunks - 1);
        for (int i = 0; i < helpers; i++) p.execute(drain);
        drain.run();
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;     // the chunks still reference the caller's arrays: wait them out
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        Throwable t = error.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error er) throw er;
        if (t != null) throw new RuntimeException("parallel chunk failed", t);
    }

    private static ExecutorService pool() {
        ExecutorService p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                p = pool;
                if (p == null) {
                    AtomicInteger id = new AtomicInteger();
                    p = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), r -> {
                        Thread t = new Thread(r, "varitune-kernels-" + id.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
                    pool = p;
                }
            }
        }
        return p;
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}

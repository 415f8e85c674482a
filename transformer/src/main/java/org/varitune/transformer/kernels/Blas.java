package org.varitune.transformer.kernels;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;

import java.nio.FloatBuffer;

/**
 * OpenBLAS single-precision GEMM through JavaCPP ({@code openblas_nolapack}), loaded lazily on first use.
 * {@link #available()} is false, with {@link #unavailableReason()} saying why, when the native library does not load,
 * fails a 2×2 self-check, or is switched off with {@code -Dvaritune.blas=false}.
 *
 * <h2>Threading: OpenBLAS runs single-threaded; {@link Parallel} splits the GEMMs</h2>
 * OpenBLAS is set to one thread ({@code openblas_set_num_threads(1)}) and every caller cuts its GEMM into one output
 * tile per {@link Parallel} thread, each tile a single-threaded {@code cblas_sgemm}. So BLAS never runs multithreaded
 * inside one of our parallel regions, and there is one pool, sized by {@code -Dvaritune.threads}, not two.
 * Measured on the 2-core AMD EPYC (Zen 4, AVX-512) dev box, N=4096 rows, medians of 5 (GFLOP/s):
 * <pre>
 *   (IC, OC)       OpenBLAS 2 threads   OpenBLAS 1 thread × our 2 tiles   same, just after a 2-thread call
 *   (384, 384)          194                  172                               97
 *   (384, 1536)         201                  191                              119
 *   (768, 3072)         204                  188                              134
 *   (3072, 768)         206                  197                              135
 * </pre>
 * The last column is why OpenBLAS's own threads are not used: after a multithreaded call its workers busy-wait for
 * about 0.1 s (its {@code THREAD_TIMEOUT}), and any parallel work of ours that follows (LayerNorm, GELU, attention,
 * the next tiles) runs at half speed next to them. Splitting the GEMM ourselves costs 2-10%.
 *
 * <h2>Java arrays: pinned where {@link NativeGemm} loads, else copied into reused off-heap workspaces</h2>
 * Since 2026-12-01 the GEMMs run on the Java arrays themselves through our JNI shim ({@link NativeGemm}); what
 * follows is the path without it ({@code fast(openblas, copied)}).
 * The {@code cblas_sgemm(..., float[], ...)} overloads of JavaCPP pass arrays with {@code Get/ReleaseFloatArrayElements},
 * which in HotSpot mallocs a fresh copy of each array per call (and copies it back); fresh pages cost ~13 µs per
 * 4 KiB on first touch on this machine. JavaCPP's pinned path ({@code @CriticalRegion}, i.e.
 * {@code GetPrimitiveArrayCritical}) is not applied in the OpenBLAS presets, and using it would need our own native
 * build; a heap {@code FloatBuffer} is copied the same way. So the callers copy
 * the arrays into {@link Workspace} buffers that grow and are reused (never fresh memory per call), with the copies
 * themselves split over the threads, and copy the tiles back. Measured as above (OpenBLAS 2 threads; GFLOP/s of the
 * whole call including copies, N=4096):
 * <pre>
 *   (IC, OC)       no copy (FloatPointer)   float[] overload   reused workspace + copies
 *   (384, 384)          194                      83                  160
 *   (384, 1536)         201                     169                  181
 *   (768, 768)          209                     184                  189
 *   (768, 3072)         204                     156                  194
 *   (3072, 768)         206                     158                  195
 * </pre>
 * {@code KernelsBench} reprints these rates for the kernels as a whole; one run on the same box (2 threads, the
 * machine shared, so ±10%): {@code matmulForward} at 87-97% and {@code matmulBackward} (dX + dWeight + dBias) at
 * 79-95% of the same-run raw multithreaded OpenBLAS GEMM rate (~195 GFLOP/s), the lowest ratios at (384, 384).
 */
public final class Blas {
    private Blas() {}

    /** Row-major, no transpose and transpose, as {@code cblas.h} numbers them. */
    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    private static final class State {
        static final String REASON = load();
    }

    private static String load() {
        if ("false".equalsIgnoreCase(System.getProperty("varitune.blas", "true").trim())) {
            return "disabled by -Dvaritune.blas=false";
        }
        try {
            Loader.load(openblas_nolapack.class);
            org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
            int t = org.bytedeco.openblas.presets.openblas_nolapack.blas_get_num_threads();
            if (t != 1) return "OpenBLAS refused openblas_set_num_threads(1): it reports " + t + " threads";
            // self-check: [1 2; 3 4]·[5 6; 7 8]ᵀ = [17 23; 39 53]
            try (FloatPointer a = new FloatPointer(1f, 2f, 3f, 4f); FloatPointer b = new FloatPointer(5f, 6f, 7f, 8f);
                 FloatPointer c = new FloatPointer(4)) {
                openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, TRANS, 2, 2, 2, 1f, a, 2, b, 2, 0f, c, 2);
                float[] got = new float[4];
                c.get(got);
                if (got[0] != 17f || got[1] != 23f || got[2] != 39f || got[3] != 53f) {
                    return "OpenBLAS sgemm self-check failed: got " + java.util.Arrays.toString(got)
                            + ", expected [17.0, 23.0, 39.0, 53.0]";
                }
            }
            return null;
        } catch (Throwable t) {
            return "OpenBLAS (JavaCPP openblas_nolapack) failed to load: " + t;
        }
    }

    /** True when OpenBLAS loaded and passed its self-check (and was not disabled). */
    public static boolean available() { return State.REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return State.REASON; }

    /** Threads OpenBLAS itself uses per call: always 1 once loaded (see the class comment), else 0. */
    public static int openblasThreads() {
        return available() ? org.bytedeco.openblas.presets.openblas_nolapack.blas_get_num_threads() : 0;
    }

    /**
     * Single-threaded row-major {@code C = alpha·op(A)·op(B) + beta·C} on off-heap buffers, offsets in floats.
     * C is (m, n) at {@code c + cOff} with leading dimension ldc; op(A) is (m, k); op(B) is (k, n).
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, FloatPointer a, long aOff,
                      int lda, FloatPointer b, long bOff, int ldb, float beta, FloatPointer c, long cOff, int ldc) {
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                view(a, aOff), lda, view(b, bOff), ldb, beta, view(c, cOff), ldc);
    }

    private static FloatPointer view(FloatPointer p, long off) {
        return off == 0 ? p : new FloatPointer(p).position(off);
    }

    /**
     * Off-heap float buffers in numbered slots that grow (by at least 1.5×) and are reused, each with a
     * {@link FloatBuffer} view for bulk copies. One per calling thread; not thread-safe to resize, while disjoint
     * regions may be copied from several threads at once.
     */
    static final class Workspace {
        private final FloatPointer[] ptr;
        private final FloatBuffer[] buf;

        Workspace(int slots) {
            ptr = new FloatPointer[slots];
            buf = new FloatBuffer[slots];
        }

        /** Makes slot s hold at least n floats (contents are lost when it grows) and returns it. */
        FloatPointer ensure(int s, long n) {
            FloatPointer p = ptr[s];
            if (p == null || p.capacity() < n) {
                long cap = Math.max(n, p == null ? 0 : p.capacity() * 3 / 2);
                if (cap > Integer.MAX_VALUE / 4) {
                    throw new IllegalArgumentException("BLAS workspace of " + cap + " floats exceeds a 2 GiB buffer");
                }
                if (p != null) p.close();
                p = new FloatPointer(cap);
                if (p.isNull()) throw new OutOfMemoryError("could not allocate " + cap + " floats off-heap");
                ptr[s] = p;
                buf[s] = p.asBuffer();
            }
            return p;
        }

        FloatPointer ptr(int s) { return ptr[s]; }

        FloatBuffer buf(int s) { return buf[s]; }
    }
}

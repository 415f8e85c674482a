package org.varitune.transformer.kernels;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.varitune.transformer.models.BuiltinModels;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * OpenBLAS {@code cblas_sgemm} straight on Java {@code float[]}, without copying the operands: a small JNI library of
 * ours ({@code src/main/c/varitune_gemm.c}, built by {@code mvn compile} with gcc) pins the arrays with
 * {@code GetPrimitiveArrayCritical} and calls the {@code cblas_sgemm} of the OpenBLAS that {@link Blas} loaded
 * (looked up by name in it, so the library links against nothing).
 *
 * <p>Why: JavaCPP's {@code float[]} overloads copy each array in and out per call, so {@link BlasMatmul} used to copy
 * the operands into off-heap workspaces and the result back, which cost 12-40% of a Linear's time at the encoder
 * shapes (KernelsBench, 2026-12-01: forward 78-88% and backward 60-92% of the raw sgemm rate with copies).
 *
 * <p>{@link #available()} is false, and {@link #unavailableReason()} says why, when OpenBLAS is unavailable, the
 * library was not built (not Linux x86_64, no gcc, no JDK headers: the build says which), does not load, this JVM
 * copies arrays in critical regions (no gain), its self-check fails, or {@code -Dvaritune.blas.pinned=false}; the
 * GEMMs then copy as before. While an array is pinned the JVM holds off garbage collection (HotSpot's GC locker);
 * a call pins for the length of one single-threaded GEMM tile.
 *
 * <p>A library inside a jar is copied to {@code <cache>/native/<sha-256 prefix>/} first (the cache of
 * {@link BuiltinModels#cacheRoot()}), so one built from other sources is never reused.
 */
public final class NativeGemm {
    private NativeGemm() {}

    static final String LIBRARY = "libvaritune_gemm.so";
    private static final String RESOURCE_DIR = "native/linux-x86_64/";

    private static final class State {
        static long sgemm;               // address of cblas_sgemm in the loaded OpenBLAS
        static final String REASON = load();
    }

    private static String load() {
        if ("false".equalsIgnoreCase(System.getProperty("varitune.blas.pinned", "true").trim())) {
            return "disabled by -Dvaritune.blas.pinned=false";
        }
        if (!Blas.available()) return "OpenBLAS is unavailable: " + Blas.unavailableReason();
        try {
            URL lib = NativeGemm.class.getResource(RESOURCE_DIR + LIBRARY);
            if (lib == null) {
                URL skipped = NativeGemm.class.getResource(RESOURCE_DIR + "libvaritune_gemm.skipped");
                if (skipped == null) return LIBRARY + " is not on the classpath (built by `mvn compile` of transformer)";
                try (InputStream in = skipped.openStream()) {
                    return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
                }
            }
            System.load(localCopy(lib).toString());
            Pointer fn = Loader.addressof("cblas_sgemm");
            if (fn == null || fn.address() == 0) return "cblas_sgemm not found in the loaded OpenBLAS";
            State.sgemm = fn.address();
            float[] probe = new float[4];
            int pins = pinsWithoutCopy0(probe);
            if (pins != 1) {
                return pins == 0 ? "this JVM copies arrays in JNI critical regions (no gain over copying ourselves)"
                        : "GetPrimitiveArrayCritical failed";
            }
            // self-check at offsets: [1 2; 3 4]·[5 6; 7 8]ᵀ = [17 23; 39 53]
            float[] a = {9, 1, 2, 3, 4}, b = {9, 9, 5, 6, 7, 8}, c = {-1, -1, -1, 0, 0, 0, 0, -1};
            sgemm0(State.sgemm, Blas.NO_TRANS, Blas.TRANS, 2, 2, 2, 1f, a, 1, 2, b, 2, 2, 0f, c, 3, 2);
            float[] want = {-1, -1, -1, 17, 23, 39, 53, -1};
            if (!java.util.Arrays.equals(c, want)) {
                return "pinned sgemm self-check failed: got " + java.util.Arrays.toString(c) + ", expected "
                        + java.util.Arrays.toString(want);
            }
            return null;
        } catch (Throwable t) {
            return LIBRARY + " failed to load: " + t;
        }
    }

    /** The library as a file: itself when the classes are a directory, else a copy in the cache named by its hash. */
    private static Path localCopy(URL lib) throws IOException, NoSuchAlgorithmException {
        if ("file".equals(lib.getProtocol())) {
            try {
                return Path.of(lib.toURI());
            } catch (java.net.URISyntaxException e) {
                throw new IOException("bad library URL " + lib, e);
            }
        }
        byte[] bytes;
        try (InputStream in = lib.openStream()) {
            bytes = in.readAllBytes();
        }
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
        Path dir = BuiltinModels.cacheRoot().resolve("native").resolve(hash);
        Path file = dir.resolve(LIBRARY);
        if (Files.isRegularFile(file) && Files.size(file) == bytes.length) return file;
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, LIBRARY, ".part");
        Files.write(tmp, bytes);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    /**
     * Null when this library's AVX-512 kernels ({@code what}, for messages) can run, else why not: switched off by
     * {@code -D<property>=false}, the library unavailable, built without them, or a CPU without AVX-512F and DQ.
     */
    static String avx512Unavailable(String property, String what) {
        if ("false".equalsIgnoreCase(System.getProperty(property, "true").trim())) {
            return "disabled by -D" + property + "=false";
        }
        if (!available()) return "the native library is unavailable: " + unavailableReason();
        try {
            if (avx512Supported0() != 1) return "this CPU lacks AVX-512F or AVX-512DQ";
        } catch (UnsatisfiedLinkError e) {
            return LIBRARY + " has no " + what + " (built from older sources?): " + e.getMessage();
        }
        return null;
    }

    /** True when pinned GEMMs are available (see the class comment). */
    public static boolean available() { return State.REASON == null; }

    /** Why {@link #available()} is false, or null when it is true. */
    public static String unavailableReason() { return State.REASON; }

    /**
     * Single-threaded row-major {@code C = alpha·op(A)·op(B) + beta·C} on Java arrays, offsets in floats: C is (m, n)
     * at {@code c[cOff]} with leading dimension ldc, op(A) is (m, k), op(B) is (k, n), A stored as (k, m) when
     * transA, B as (n, k) when transB. Modifies {@code c} only (within the (m, n) block). Every operand's extent is
     * checked against its array first; a failure names the operand.
     *
     * @throws IllegalStateException when {@link #available()} is false
     */
    static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (!available()) throw new IllegalStateException("pinned sgemm unavailable: " + unavailableReason());
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("sgemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        checkOperand("C", c, cOff, m, n, ldc);
        if (k > 0) {
            checkOperand("A", a, aOff, transA ? k : m, transA ? m : k, lda);
            checkOperand("B", b, bOff, transB ? n : k, transB ? k : n, ldb);
        }
        sgemm0(State.sgemm, transA ? Blas.TRANS : Blas.NO_TRANS, transB ? Blas.TRANS : Blas.NO_TRANS, m, n, k, alpha,
                a, aOff, Math.max(lda, 1), b, bOff, Math.max(ldb, 1), beta, c, cOff, ldc);
    }

    /** Checks that a (rows, cols) row-major block with leading dimension ld at off lies inside arr. */
    static void checkOperand(String name, float[] arr, int off, int rows, int cols, int ld) {
        if (arr == null) throw new IllegalArgumentException("sgemm: " + name + " is null");
        if (ld < cols || ld < 1) {
            throw new IllegalArgumentException("sgemm: " + name + " leading dimension " + ld + " < its " + cols + " columns");
        }
        long end = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > arr.length) {
            throw new IllegalArgumentException("sgemm: " + name + " (" + rows + ", " + cols + ") with leading dimension "
                    + ld + " at offset " + off + " needs floats [" + off + ", " + end + "), its array has " + arr.length);
        }
    }

    private static native void sgemm0(long fn, int transA, int transB, int m, int n, int k, float alpha, float[] a,
                                      int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff,
                                      int ldc);

    private static native int pinsWithoutCopy0(float[] a);

    private static native int avx512Supported0();
}

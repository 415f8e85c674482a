package org.varitune.transformer.kernels.cuda;

import jcuda.driver.JCudaDriver;
import org.varitune.transformer.kernels.FastCpuKernels;
import org.varitune.transformer.kernels.Kernels;

import java.util.Locale;

/**
 * Where the encoder runs: {@code cpu} or {@code cuda[:N]} (the same spelling as {@code --device} and the
 * {@code device} key of configs). {@link #parse} reads it; {@link #kernels()} opens the backend.
 *
 * <p>Whether CUDA can be used is probed once, lazily and quietly: load JCuda's driver-API library (it needs only the
 * driver's {@code libcuda.so.1}), {@code cuInit}, count devices. Any failure, including an {@link UnsatisfiedLinkError}
 * when there is no driver, makes {@link #cudaAvailable()} false with a one-line {@link #unavailableReason()}; nothing is
 * printed and the JVM keeps running. {@code -Dvaritune.cuda=false} turns CUDA off without probing.
 *
 * @param kind  cpu or cuda
 * @param index the CUDA device ordinal (0 for cpu)
 */
public record Device(Kind kind, int index) {

    public enum Kind { CPU, CUDA }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public Device {
        if (kind == null) throw new IllegalArgumentException("device kind is null");
        if (index < 0) throw new IllegalArgumentException("device index " + index + " is negative");
        if (kind == Kind.CPU && index != 0) throw new IllegalArgumentException("cpu takes no device index (got " + index + ")");
    }

    /** The CUDA device with ordinal {@code index}. */
    public static Device cuda(int index) { return new Device(Kind.CUDA, index); }

    /**
     * Parses {@code cpu}, {@code cuda} (= {@code cuda:0}) or {@code cuda:N}, case-insensitive, surrounding blanks
     * ignored. Anything else is an {@link IllegalArgumentException} quoting the text and the accepted forms.
     */
    public static Device parse(String text) {
        if (text == null) throw new IllegalArgumentException("device is null (expected cpu, cuda or cuda:N)");
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return CPU;
        if (s.equals("cuda")) return cuda(0);
        if (s.startsWith("cuda:")) {
            String n = s.substring(5);
            if (!n.isEmpty() && n.length() <= 4 && n.chars().allMatch(c -> c >= '0' && c <= '9')) return cuda(Integer.parseInt(n));
        }
        throw new IllegalArgumentException("unknown device '" + text + "' (expected cpu, cuda or cuda:N with N a device ordinal)");
    }

    /** {@code cpu} or {@code cuda:N}; {@link #parse} reads it back. */
    @Override
    public String toString() { return kind == Kind.CPU ? "cpu" : "cuda:" + index; }

    /**
     * Opens the kernels of this device: the fast CPU kernels for {@code cpu}; a {@link CudaKernels} (FP32 matmuls) on
     * device {@code index} for {@code cuda}, which the caller closes. Fails with an {@link IllegalStateException} that
     * gives the reason when CUDA is unavailable or the ordinal is beyond the device count.
     */
    public Kernels kernels() {
        if (kind == Kind.CPU) return FastCpuKernels.create();
        requireCuda();
        return CudaKernels.open(this, CudaKernels.MatmulPrecision.FP32);
    }

    /** Throws an {@link IllegalStateException} naming this device and the reason unless it can be opened. */
    public void requireCuda() {
        if (kind != Kind.CUDA) throw new IllegalStateException("device " + this + " is not a CUDA device");
        if (!cudaAvailable()) throw new IllegalStateException("device " + this + " requested but CUDA is unavailable: " + unavailableReason());
        int count = deviceCount();
        if (index >= count) {
            throw new IllegalStateException("device " + this + " requested but only " + count + " CUDA device(s) are visible (cuda:0"
                    + (count > 1 ? " .. cuda:" + (count - 1) : "") + ")");
        }
    }

    /** Whether the CUDA driver loaded and reports at least one device. Probes once per JVM. */
    public static boolean cudaAvailable() { return Probe.REASON == null; }

    /** Why CUDA is unavailable, in one line, or null when it is available. */
    public static String unavailableReason() { return Probe.REASON; }

    /** Number of CUDA devices (0 when unavailable). */
    public static int deviceCount() { return Probe.COUNT; }

    private static final class Probe {
        static final int COUNT;
        static final String REASON;

        static {
            int count = 0;
            String reason;
            if ("false".equalsIgnoreCase(System.getProperty("varitune.cuda", "true").strip())) {
                reason = "disabled by -Dvaritune.cuda=false";
            } else {
                try {
                    JCudaDriver.setExceptionsEnabled(false);   // return codes are checked and explained by CudaErrors
                    int rc = JCudaDriver.cuInit(0);
                    if (rc != CudaErrors.SUCCESS) {
                        reason = CudaErrors.message(rc, "cuInit");
                    } else {
                        int[] n = new int[1];
                        rc = JCudaDriver.cuDeviceGetCount(n);
                        count = rc == CudaErrors.SUCCESS ? n[0] : 0;
                        reason = rc != CudaErrors.SUCCESS ? CudaErrors.message(rc, "cuDeviceGetCount")
                                : count == 0 ? "the CUDA driver reports no devices" : null;
                    }
                } catch (Throwable t) {                        // UnsatisfiedLinkError, NoClassDefFoundError, ...
                    reason = conciseReason(t);
                }
            }
            COUNT = reason == null ? count : 0;
            REASON = reason;
        }
    }

    /**
     * One line from a native-loading failure: the "cannot open shared object file" line when there is one (JCuda's
     * message packs several stack traces), else the exception's first line, prefixed with its simple class name.
     */
    static String conciseReason(Throwable t) {
        String msg = t.getMessage() == null ? "" : t.getMessage();
        for (String line : msg.split("\n")) {
            if (line.contains("cannot open shared object file")) {
                int at = line.lastIndexOf(": ", line.indexOf("cannot open shared object file") - 3);
                String lib = at >= 0 ? line.substring(at + 2).strip() : line.strip();
                return "JCuda's driver library did not load: " + lib
                        + (lib.startsWith("libcuda.so") ? " (no NVIDIA driver on this machine)" : "");
            }
        }
        String first = msg.isEmpty() ? "(no message)" : msg.split("\n", 2)[0].strip();
        return t.getClass().getSimpleName() + ": " + first;
    }
}

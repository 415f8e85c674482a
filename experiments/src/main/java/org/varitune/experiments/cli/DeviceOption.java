package org.varitune.experiments.cli;

import org.varitune.transformer.kernels.cuda.Device;
import picocli.CommandLine.Option;

/**
 * {@code --device cpu|cuda|cuda:N} of every command that computes: {@code cpu} is the fast CPU backend (OpenBLAS GEMM,
 * vectorised kernels), {@code cuda:N} the CUDA backend on device N. It sets what {@code Kernels.fromSystemProperty()}
 * reads ({@code -Dkernels}), so the heap settings of {@code VARITUNE_JAVA_OPTS} are no longer needed to pick a GPU. A
 * CUDA device that cannot be opened is an error naming the device and the reason, before any work starts.
 */
public final class DeviceOption {
    @Option(names = "--device", description = "cpu (default) or cuda[:N].")
    String device;

    /**
     * Applies the option (or {@code fallback}, e.g. a YAML {@code device:}, when the flag is absent; nothing when both
     * are null): checks a CUDA device opens, then sets {@code -Dkernels}. Modifies that system property.
     *
     * @throws IllegalArgumentException for a malformed value; IllegalStateException when CUDA cannot be used
     */
    void apply(String fallback) {
        String d = device != null ? device : fallback;
        if (d == null) return;
        Device dev = Device.parse(d);
        if (dev.toString().equals("cpu")) {
            if (!"cpu".equals(System.getProperty("kernels"))) System.setProperty("kernels", "fast");
            return;
        }
        dev.requireCuda();
        System.setProperty("kernels", dev.toString());
    }

    void apply() { apply(null); }
}

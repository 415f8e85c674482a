package org.varitune.transformer.kernels;

/**
 * Placeholder until the fast backend lands: OpenBLAS through JavaCPP where it loads, else the Vector API,
 * multi-threaded with one {@code parallelFor}. Delegates to {@link CpuKernels} for now.
 */
public final class FastCpuKernels extends CpuKernels {
    public static Kernels create() { return new FastCpuKernels(); }
    @Override public String name() { return "fast(placeholder)"; }
}

package org.varitune.transformer.kernels.cuda;

import org.varitune.transformer.kernels.FastCpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.model.TinyModels;

import java.util.Arrays;
import java.util.Random;

/**
 * A harness, not a test (surefire does not run it): encoder forward at batch 32 × seq 128 for e5-small-sized
 * (hidden 384, 12 layers, 12 heads, FFN 1536) and bert-base-sized (768, 12, 12, 3072) random-weight BERT configs,
 * on the fast CPU kernels and on {@link CudaKernels} in FP32 and TF32, in one run; medians of {@link #RUNS} after
 * warm-up, plus the max normalised difference of the last hidden state from the CPU's. Prints one table.
 * Run by {@code tools/cuda/gpu_check.sh}; arguments: {@code [runs] [cpu|nocpu]}.
 *
 * <p>This measures the first implementation, which copies every kernel's inputs and outputs over PCIe; the numbers are a
 * baseline for the resident-tensor follow-up, not the GPU's capability.
 */
public final class CudaBench {
    private CudaBench() {}

    static int RUNS = 3;

    static EncoderConfig e5Small() { return new EncoderConfig("bert", 30522, 384, 12, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1); }

    static EncoderConfig bertBase() { return new EncoderConfig("bert", 30522, 768, 12, 12, 3072, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1); }

    record Result(double medianMs, float[] last) {}

    static Result time(Encoder e, int[] ids, int[] types, int[] mask, int B, int T) {
        int L = e.numLayers();
        e.forward(ids, types, mask, B, T, L);                          // warm-up: JIT, module loads, pool fill
        double[] ms = new double[RUNS];
        EncoderOutput out = null;
        for (int r = 0; r < RUNS; r++) {
            long s = System.nanoTime();
            out = e.forward(ids, types, mask, B, T, L);
            ms[r] = (System.nanoTime() - s) / 1e6;
        }
        Arrays.sort(ms);
        return new Result(ms[RUNS / 2], out.last());
    }

    static double normalisedDiff(float[] a, float[] e) {
        double maxE = 0, maxD = 0;
        for (int i = 0; i < a.length; i++) {
            maxE = Math.max(maxE, Math.abs(e[i]));
            maxD = Math.max(maxD, Math.abs(a[i] - e[i]));
        }
        return maxE == 0 ? maxD : maxD / maxE;
    }

    public static void main(String[] args) {
        if (args.length > 0) RUNS = Integer.parseInt(args[0]);
        boolean withCpu = args.length < 2 || !args[1].equals("nocpu");
        if (!Device.cudaAvailable()) {
            System.out.println("CudaBench: no CUDA device: " + Device.unavailableReason());
            System.exit(2);
        }
        int B = 32, T = 128;
        Random r = new Random(1);
        int[] ids = new int[B * T], types = new int[B * T], mask = new int[B * T];
        for (int i = 0; i < B * T; i++) { ids[i] = 1 + r.nextInt(30000); mask[i] = (i % T) < T - (i / T) % 17 ? 1 : 0; }
        Kernels cpu = FastCpuKernels.create();
        try (CudaKernels fp32 = CudaKernels.open(Device.cuda(0), CudaKernels.MatmulPrecision.FP32);
             CudaKernels tf32 = CudaKernels.open(Device.cuda(0), CudaKernels.MatmulPrecision.TF32)) {
            System.out.println("CudaBench: " + fp32.context() + "; CPU " + cpu.name() + " on "
                    + Runtime.getRuntime().availableProcessors() + " cores; batch " + B + " x seq " + T + ", median of " + RUNS);
            System.out.printf("%-12s %-14s %12s %12s %12s%n", "config", "backend", "forward ms", "tokens/s", "vs cpu diff");
            for (var named : new Object[][] {{"e5-small", e5Small()}, {"bert-base", bertBase()}}) {
                EncoderConfig c = (EncoderConfig) named[1];
                Result ref = null;
                if (withCpu) {
                    ref = time(TinyModels.random(c, cpu, false, new Random(3)), ids, types, mask, B, T);
                    System.out.printf("%-12s %-14s %12.1f %12.0f %12s%n", named[0], cpu.name(), ref.medianMs(), B * T / ref.medianMs() * 1e3, "-");
                }
                for (CudaKernels k : new CudaKernels[] {fp32, tf32}) {
                    Result g = time(TinyModels.random(c, k, false, new Random(3)), ids, types, mask, B, T);
                    System.out.printf("%-12s %-14s %12.1f %12.0f %12s%n", named[0], k.name(), g.medianMs(), B * T / g.medianMs() * 1e3,
                            ref == null ? "-" : String.format("%.2e", normalisedDiff(g.last(), ref.last())));
                }
            }
            System.out.println("pool: fp32 " + fp32.context().pool().allocations() + " allocations, " + fp32.context().pool().reuses()
                    + " reuses, " + fp32.context().pool().bytesReserved() / (1 << 20) + " MiB reserved");
        }
    }
}

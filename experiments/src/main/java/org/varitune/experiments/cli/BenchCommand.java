package org.varitune.experiments.cli;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/** {@code varitune bench}: the project's own side of the benchmarks. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Throughput benchmarks.",
        subcommands = {BenchCommand.Forward.class, BenchTrainCommand.class})
public final class BenchCommand implements Runnable {
    @Override public void run() { new picocli.CommandLine(this).usage(System.err); }

    /** Forward FLOPs of an encoder over (B, T): matmuls 2·N·(4C² + 2CI) per layer plus attention 4·B·T²·C. */
    public static double forwardFlops(EncoderConfig c, int layers, int B, int T) {
        double n = (double) B * T, C = c.hiddenSize(), I = c.intermediateSize();
        return layers * (2 * n * (4 * C * C + 2 * C * I) + 4.0 * B * T * T * C);
    }

    @Command(name = "forward", mixinStandardHelpOptions = true,
            description = "Encoder forward throughput on random token ids (warm-up first, median of --iters).")
    public static final class Forward implements Callable<Integer> {
        @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
        @Option(names = "--model", defaultValue = "e5-small-v2",
                description = "Built-in, HF directory, or random:bert-base / random:e5-small (default: ${DEFAULT-VALUE}).")
        String model;
        @Option(names = "--batch", defaultValue = "32") int batch;
        @Option(names = "--seq", defaultValue = "128") int seq;
        @Option(names = "--iters", defaultValue = "10") int iters;
        @Option(names = "--warmup", defaultValue = "2") int warmup;
        @Option(names = "--profile", description = "Print the time spent in each kernel over the timed iterations (share of "
                + "the wall clock, GFLOP/s) and outside them.")
        boolean profile;
        @Option(names = "--variability", description = "Also time forward + pooling + streaming variability "
                + "statistics of every layer (the analyze pass), and print the overhead against the plain forward.")
        boolean variability;

        @Override
        public Integer call() throws Exception {
            device.apply();
            Kernels kernels = Kernels.fromSystemProperty();
            org.varitune.transformer.kernels.ProfilingKernels prof = null;
            if (profile) kernels = prof = new org.varitune.transformer.kernels.ProfilingKernels(kernels);
            Encoder enc = ModelSpec.load(model, kernels);
            EncoderConfig c = enc.config();
            int n = batch * seq;
            int[] ids = new int[n], types = new int[n], mask = new int[n];
            Random r = new Random(42);
            int lo = Math.min(1000, c.vocabSize() / 2);                   // above the special ids, in any vocabulary
            for (int i = 0; i < n; i++) { ids[i] = lo + r.nextInt(c.vocabSize() - lo); mask[i] = 1; }
            double flops = forwardFlops(c, enc.numLayers(), batch, seq);
            System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d, batch %d x seq %d, kernels %s, threads %d%n",
                    model, enc.numLayers(), c.hiddenSize(), batch, seq, kernels.name(),
                    org.varitune.transformer.kernels.Parallel.threads());
            for (int i = 0; i < warmup; i++) enc.forward(ids, types, mask, batch, seq, enc.numLayers());
            if (prof != null) prof.reset();
            double[] sec = new double[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                enc.forward(ids, types, mask, batch, seq, enc.numLayers());
                sec[i] = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "iter %d: %.3f s%n", i, sec[i]);
            }
            if (prof != null) System.out.print(prof.report(Arrays.stream(sec).sum()));
            Arrays.sort(sec);
            double med = sec[iters / 2];
            System.out.printf(Locale.ROOT, "median %.4f s, %.1f GFLOP/s%n", med, flops / med / 1e9);
            if (variability) {
                int L = enc.numLayers() + 1, C = c.hiddenSize();
                int[] labels = new int[batch];
                for (int i = 0; i < batch; i++) labels[i] = i % 4;
                int[] counts = new int[4];
                for (int y = 0; y < 4; y++) counts[y] = (iters + warmup) * (batch / 4 + (y < batch % 4 ? 1 : 0));
                var acc = new org.varitune.metrics.VariabilityAccumulator(L, C, counts, null,
                        new org.varitune.metrics.VariabilityAccumulator.Options(false, 500, 17L, 0));
                int[] special = new int[n];
                for (int b = 0; b < batch; b++) { special[b * seq] = 1; special[b * seq + seq - 1] = 1; }
                // plain: a plain forward timed right before each pass (interleaved, so both medians see the same
                // minutes of a machine whose speed drifts); vs: forward + pooling + statistics; statSec: the latter two
                double[] plain = new double[iters], vs = new double[iters], statSec = new double[iters];
                for (int i = 0; i < iters + warmup; i++) {
                    long p0 = System.nanoTime();
                    enc.forward(ids, types, mask, batch, seq, enc.numLayers());
                    if (i >= warmup) plain[i - warmup] = (System.nanoTime() - p0) / 1e9;
                    long t0 = System.nanoTime();
                    var out = enc.forward(ids, types, mask, batch, seq, enc.numLayers());
                    long t1 = System.nanoTime();
                    float[][] pooled = new float[L][];
                    for (int l = 0; l < L; l++) {
                        pooled[l] = new float[batch * C];
                        org.varitune.transformer.layers.Pooling.MEAN_NON_SPECIAL.pool(out.hiddenStates().get(l), mask, special,
                                batch, seq, C, pooled[l]);
                    }
                    acc.addAll(pooled, labels, batch);
                    long t2 = System.nanoTime();
                    if (i >= warmup) { vs[i - warmup] = (t2 - t0) / 1e9; statSec[i - warmup] = (t2 - t1) / 1e9; }
                }
                Arrays.sort(plain);
                Arrays.sort(vs);
                Arrays.sort(statSec);
                double p = plain[iters / 2], v = vs[iters / 2], st = statSec[iters / 2];
                System.out.printf(Locale.ROOT, "forward + pooling + variability statistics of %d layers: median %.4f s "
                                + "against %.4f s for a plain forward timed between them: %.3fx; the pooling and "
                                + "statistics alone: median %.4f s, %+.1f%% of that plain forward%n", L, v, p, v / p, st,
                        100 * st / p);
            }
            System.out.printf(Locale.ROOT, "forward_seq_per_s=%.2f%n", batch / med);
            return 0;
        }
    }
}

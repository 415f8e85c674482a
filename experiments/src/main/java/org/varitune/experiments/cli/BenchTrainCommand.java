package org.varitune.experiments.cli;

import org.varitune.training.AdamW;
import org.varitune.training.GradClip;
import org.varitune.training.LayerPlan;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.Classifiers;
import org.varitune.training.trainer.PrefixCache;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.training.trainer.TrainStep;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.tensor.Parameter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code varitune bench train}: the time of one training update (forward, backward, clipping, AdamW) on a random
 * batch of B sequences of T tokens, dropout on, through the same path as {@code varitune train} (with the frozen
 * prefix cached, built before timing, when the mode and {@code --prefix-policy} allow). Warm-up first, then the median of
 * {@code --iters}; the last line is {@code train_seq_per_s=<B / median seconds>}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Training-step throughput on random ids (warm-up, then median of --iters); last line train_seq_per_s=N.")
public final class BenchTrainCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Option(names = "--model", defaultValue = "e5-small-v2",
            description = "Built-in, HF directory, or random:bert-base / random:e5-small / random:minilm.")
    String model;
    @Option(names = "--batch", defaultValue = "32") int batch;
    @Option(names = "--seq", defaultValue = "128") int seq;
    @Option(names = "--mode", defaultValue = "full", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    TuningMode mode;
    @Option(names = "--head-layer", defaultValue = "top", description = "Layer l (1..L), or top (default).") String headLayer;
    @Option(names = "--tune-layers", defaultValue = "1") int tuneLayers;
    @Option(names = "--prefix-policy", defaultValue = "cached", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    PrefixCachePolicy prefixPolicy;
    @Option(names = "--cache", hidden = true, description = "Renamed: --prefix-policy.") String oldCache;
    @Option(names = "--iters", defaultValue = "5") int iters;
    @Option(names = "--warmup", defaultValue = "2") int warmup;
    @Option(names = "--profile", description = "Print the time spent in each kernel over the timed iterations (share of "
            + "the wall clock, GFLOP/s), outside them, and in the optimizer (clipping + AdamW).")
    boolean profile;

    /**
     * Forward + backward ≈ 3× the forward FLOPs of the layers a step runs (backward: dX and dW products); the FLOP
     * share printed is that of the tuned block over a full fine-tuning step of all L layers, the yardstick of the
     * guided-partial-tuning target (epoch time within 1.2× of its share of a full epoch).
     */
    static double stepFlops(EncoderConfig c, int layers, int B, int T) { return 3 * BenchCommand.forwardFlops(c, layers, B, T); }

    @Override
    public Integer call() throws Exception {
        device.apply();
        if (batch < 1 || seq < 2 || iters < 1 || warmup < 0) {
            throw new IllegalArgumentException("need --batch >= 1, --seq >= 2, --iters >= 1, --warmup >= 0");
        }
        if (oldCache != null) throw new IllegalArgumentException("--cache is now --prefix-policy (cached, recompute, authors-dropout)");
        Kernels kernels = Kernels.fromSystemProperty();
        org.varitune.transformer.kernels.ProfilingKernels prof = null;
        if (profile) kernels = prof = new org.varitune.transformer.kernels.ProfilingKernels(kernels);
        Encoder enc = ModelSpec.load(model, kernels);
        EncoderConfig c = enc.config();
        TrainConfig cfg = TrainConfig.builder().mode(mode).headLayer(LayerPlan.parseHeadLayer("--head-layer", headLayer))
                .tuneLayers(tuneLayers).prefixPolicy(prefixPolicy).batchSize(batch).maxLength(seq).build();
        LayerPlan plan = cfg.layerPlan(enc.numLayers());
        SequenceClassifier clf = Classifiers.build(enc, cfg, plan, 2);
        TokenizedDataset data = randomBatch(c, batch, seq, new Random(42));
        int from = plan.prefixEnd(), l = plan.headLayer();
        PrefixCache prefix = plan.cachesPrefix() ? PrefixCache.build(enc, data, from, batch, Long.MAX_VALUE, null, null) : null;
        TrainStep step = new TrainStep(clf, data, plan, prefix);
        List<Parameter> trainable = clf.parameters().stream().filter(Parameter::trainable).toList();
        AdamW opt = AdamW.withDefaults(clf.parameters(), cfg.weightDecay());
        int[] all = new int[batch];
        for (int i = 0; i < batch; i++) all[i] = i;

        long trainableCount = trainable.stream().mapToLong(Parameter::numel).sum();
        double share = stepFlops(c, l - from, batch, seq) / stepFlops(c, enc.numLayers(), batch, seq);
        System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d; mode %s, head layer %d, tuned block above layer %d"
                        + " (%s); batch %d x seq %d, kernels %s, threads %d, trainable parameters %d%n", model,
                enc.numLayers(), c.hiddenSize(), cfg.mode(), l, from,
                prefix != null ? "prefix cached" : "prefix policy " + cfg.prefixPolicy(), batch, seq, kernels.name(),
                org.varitune.transformer.kernels.Parallel.threads(), trainableCount);
        double[] sec = new double[iters];
        double optimizerSec = 0;
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup && prof != null) prof.reset();
            long t0 = System.nanoTime();
            clf.zeroGrad();
            double loss = step.run(all, DropoutContext.training(cfg.dropoutSeed(), i), 1.0);
            long t1 = System.nanoTime();
            GradClip.clipGlobalNorm(trainable, cfg.maxGradNorm());
            opt.step(cfg.lr());
            long t2 = System.nanoTime();
            double s = (t2 - t0) / 1e9;
            if (i >= warmup) {
                sec[i - warmup] = s;
                optimizerSec += (t2 - t1) / 1e9;
                System.out.printf(Locale.ROOT, "iter %d: %.3f s (loss %.4f)%n", i - warmup, s, loss);
            }
        }
        if (prof != null) {
            double wall = Arrays.stream(sec).sum();
            System.out.print(prof.report(wall));
            System.out.printf(Locale.ROOT, "of which zeroGrad + forward + backward outside the kernels %.4f s, clipping + AdamW %.4f s (%.1f%%)%n",
                    wall - prof.kernelSeconds() - optimizerSec, optimizerSec, 100 * optimizerSec / wall);
        }
        if (prefix != null) prefix.close();
        Arrays.sort(sec);
        double med = sec[iters / 2];
        System.out.printf(Locale.ROOT, "median %.4f s, %.1f GFLOP/s (model: %.3g FLOP per step)%n", med,
                stepFlops(c, l - from, batch, seq) / med / 1e9, stepFlops(c, l - from, batch, seq));
        System.out.printf(Locale.ROOT, "flop share of a full fine-tuning step (all %d layers): %.3f%n", enc.numLayers(), share);
        System.out.printf(Locale.ROOT, "train_seq_per_s=%.2f%n", batch / med);
        return 0;
    }

    /** B rows of T random ids ([CLS]-like first id, then ids above the special range), random binary labels. */
    static TokenizedDataset randomBatch(EncoderConfig c, int B, int T, Random r) {
        int lo = Math.min(1000, c.vocabSize() / 2);
        List<TokenizedDataset.Row> rows = new ArrayList<>();
        int[] labels = new int[B];
        for (int b = 0; b < B; b++) {
            int[] ids = new int[T];
            for (int t = 0; t < T; t++) ids[t] = lo + r.nextInt(c.vocabSize() - lo);
            int[] special = new int[T];
            special[0] = 1;
            special[T - 1] = 1;
            rows.add(new TokenizedDataset.Row(ids, new int[T], special));
            labels[b] = r.nextInt(2);
        }
        return TokenizedDataset.classification("random", rows, labels, 2, c.padTokenId());
    }
}

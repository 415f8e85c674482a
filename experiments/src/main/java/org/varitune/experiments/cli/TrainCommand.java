package org.varitune.experiments.cli;

import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.TaskData;
import org.varitune.training.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.Classifiers;
import org.varitune.training.trainer.EpochResult;
import org.varitune.training.trainer.PrefixCachePolicy;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.training.trainer.TrainListener;
import org.varitune.training.trainer.TrainResult;
import org.varitune.training.trainer.Trainer;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/**
 * {@code varitune train}: fine-tunes a model on a task in one of the tuning modes, evaluating every dev split after
 * each epoch; writes {@code <out>/metrics.json}, {@code <out>/checkpoints/{last,best}/} and the exported model under
 * {@code <out>/model/}. Rerunning with the same options resumes from {@code checkpoints/last}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune (full, top-k, partial, adapters or probe) and evaluate on dev every epoch; resumable.")
public final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Built-in name or HF model directory.")
    String model;

    @Mixin TaskOptions task = new TaskOptions();

    @Option(names = "--mode", defaultValue = "full", description = "full, top-k, partial, adapters or probe.")
    String mode;
    @Option(names = "--head-layer", description = "Layer l (1..L) the head sits on; 0 = top (default).") Integer headLayer;
    @Option(names = "--tune-layers", description = "k tuned layers (M-k+1..M) for top-k/partial/adapters (default 1).")
    Integer tuneLayers;
    @Option(names = "--tune-last-layer", description = "M, the top of the tuned block for partial/adapters (default: the"
            + " head layer); layers M+1..head then run frozen under the head.") Integer tuneLastLayer;
    @Option(names = "--epochs", description = "Default 3.") Integer epochs;
    @Option(names = "--lr", description = "Peak learning rate (default: 2e-5 full/top-k/partial, 1e-4 adapters, 1e-3 probe).")
    Double lr;
    @Option(names = "--batch-size", description = "Examples per update (default 32).") Integer batchSize;
    @Option(names = "--grad-accumulation", description = "Micro-batches per update; same update (default 1).")
    Integer gradAccumulation;
    @Option(names = "--max-length", description = "Tokens per example after truncation (default 128).") Integer maxLength;
    @Option(names = "--warmup-ratio", description = "Warmup share of all updates (default 0.06).") Double warmupRatio;
    @Option(names = "--warmup-steps", description = "Warmup updates; overrides --warmup-ratio.") Integer warmupSteps;
    @Option(names = "--weight-decay", description = "AdamW weight decay (default 0.01).") Double weightDecay;
    @Option(names = "--max-grad-norm", description = "Global-norm clipping, 0 = off (default 1.0).") Double maxGradNorm;
    @Option(names = "--seed", description = "Sets the init, dropout and data seeds (default 42).") Long seed;
    @Option(names = "--init-seed") Long initSeed;
    @Option(names = "--dropout-seed") Long dropoutSeed;
    @Option(names = "--data-seed") Long dataSeed;
    @Option(names = "--adapter-size", description = "Adapter bottleneck of both sites (default 64).") Integer adapterSize;
    @Option(names = "--attention-adapter", description = "The adapter after attention.output.dense: none, or"
            + " size=R[,init=near-identity|bert][,position=after-dropout|before-dropout][,dropout=P]"
            + " (default size=64 near-identity after-dropout).") String attentionAdapter;
    @Option(names = "--output-adapter", description = "The adapter after output.dense (the FFN), same form as"
            + " --attention-adapter.") String outputAdapter;
    @Option(names = "--adapter-activation", description = "relu (default, the authors') or gelu.") String adapterActivation;
    @Option(names = "--pooling", description = "mean-non-special (default: the mean over text tokens), first-token (HF's heads) or mean-non-pad.") String pooling;
    @Option(names = "--cache", description = "Frozen prefix: auto (cached, eval mode; default), off (recomputed, eval mode)"
            + " or authors-dropout (dropout on in frozen layers, no cache).") String cache;
    @Option(names = "--cache-memory-mb", description = "Above this, the prefix cache is memory-mapped from disk (default 2048).")
    Long cacheMemoryMb;
    @Option(names = "--early-stopping", description = "Stop after N epochs without a better main metric; 0 = off.")
    Integer earlyStopping;
    @Option(names = "--eval-batch-size", description = "Default 64.") Integer evalBatchSize;
    @Option(names = "--checkpoint-every", description = "Save checkpoints/last every N updates (default 50; 0 = epoch ends).")
    Integer checkpointEvery;
    @Option(names = "--threads", description = "Kernel threads (-Dvaritune.threads; default all cores).") Integer threads;
    @Option(names = "--out", required = true, description = "Run directory (an existing run there is resumed).")
    Path out;

    /** The config these options describe (defaults from {@link TrainConfig.Builder}). */
    TrainConfig config() {
        TrainConfig.Builder b = TrainConfig.builder().mode(parseMode(mode));
        if (headLayer != null) b.headLayer(headLayer);
        if (tuneLayers != null) b.tuneLayers(tuneLayers);
        if (tuneLastLayer != null) b.tuneLastLayer(tuneLastLayer);
        if (epochs != null) b.epochs(epochs);
        if (lr != null) b.lr(lr);
        if (batchSize != null) b.batchSize(batchSize);
        if (gradAccumulation != null) b.gradAccumulation(gradAccumulation);
        if (maxLength != null) b.maxLength(maxLength);
        if (warmupRatio != null) b.warmupRatio(warmupRatio);
        if (warmupSteps != null) b.warmupSteps(warmupSteps);
        if (weightDecay != null) b.weightDecay(weightDecay);
        if (maxGradNorm != null) b.maxGradNorm(maxGradNorm);
        if (seed != null) b.seed(seed);
        if (initSeed != null) b.initSeed(initSeed);
        if (dropoutSeed != null) b.dropoutSeed(dropoutSeed);
        if (dataSeed != null) b.dataSeed(dataSeed);
        if (adapterSize != null) b.adapterBottleneck(adapterSize);
        if (attentionAdapter != null) b.attentionAdapter(parseSite("--attention-adapter", attentionAdapter));
        if (outputAdapter != null) b.outputAdapter(parseSite("--output-adapter", outputAdapter));
        if (adapterActivation != null) b.adapterActivation(parseEnum(Adapter.Activation.class, "--adapter-activation", adapterActivation));
        if (pooling != null) b.pooling(parseEnum(Pooling.Mode.class, "--pooling", pooling));
        if (cache != null) b.cache(PrefixCachePolicy.parse(cache));
        if (cacheMemoryMb != null) b.cacheMemoryLimitBytes(cacheMemoryMb << 20);
        if (earlyStopping != null) b.earlyStoppingPatience(earlyStopping);
        if (evalBatchSize != null) b.evalBatchSize(evalBatchSize);
        if (checkpointEvery != null) b.checkpointEverySteps(checkpointEvery);
        return b.build();
    }

    static TuningMode parseMode(String s) { return parseEnum(TuningMode.class, "--mode", s); }

    /** An adapter site from its spec ({@link Adapter.Site#parse}), or null for {@code none}; errors name the option. */
    static Adapter.Site parseSite(String option, String s) {
        if (s.trim().equals("none")) return null;
        try {
            return Adapter.Site.parse(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    /** An enum from its CLI spelling ({@code top-k} = TOP_K); an unknown value is an error listing the choices. */
    static <E extends Enum<E>> E parseEnum(Class<E> type, String option, String s) {
        String key = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) if (e.name().equals(key)) return e;
        StringJoiner j = new StringJoiner(", ");
        for (E e : type.getEnumConstants()) j.add(e.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        throw new IllegalArgumentException(option + " '" + s + "' is not one of " + j);
    }

    @Override
    public Integer call() throws Exception {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads " + threads + " must be >= 1");
            System.setProperty("varitune.threads", Integer.toString(threads));   // read when the kernels' pool starts
        }
        TrainConfig cfg = config();
        Path dir = ModelSpec.directory(model);
        Tokenizer tok = Tokenizers.load(dir);
        EncoderConfig full = EncoderConfig.read(dir);
        boolean top = cfg.headLayer() == 0 || cfg.mode() == TuningMode.TOP_K;
        if (!top && cfg.headLayer() > full.numHiddenLayers()) {
            throw new IllegalArgumentException("--head-layer " + cfg.headLayer() + " but " + model + " has "
                    + full.numHiddenLayers() + " layers");
        }
        Encoder enc = Encoder.load(dir, Kernels.fromSystemProperty(), top ? -1 : cfg.headLayer());
        TaskData data = task.load();
        TokenizedDataset train = TokenizedSplits.of(data.train(), "train", tok, cfg.maxLength());
        List<TokenizedDataset> devs = new ArrayList<>();
        for (Dataset d : data.devs()) devs.add(TokenizedSplits.of(d, d.split(), tok, cfg.maxLength()));
        SequenceClassifier clf = Classifiers.build(enc, cfg, data.numLabels());

        Map<String, String> run = new LinkedHashMap<>();
        run.put("model", model);
        run.put("data", task.data == null ? "builtin" : task.data.toString());
        run.put("max_examples", Integer.toString(task.maxExamples));
        System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d, kernels %s; task %s: %d training examples; dev splits: %s%n",
                model, full.numHiddenLayers(), full.hiddenSize(), enc.kernels().name(), data.name(), train.size(),
                devSizes(devs));
        Trainer trainer = new Trainer(cfg, clf, train, devs, data.name(), data.mainMetric(), out, run, new Printer());
        TrainResult r = trainer.run();
        if (r.bestEpoch() > 0) {
            System.out.printf(Locale.ROOT, "best epoch %d: %s%n", r.bestEpoch(), metrics(r.bestDev()));
        }
        // the best epoch's weights are loaded: export them as a standard HF directory (+ head, + adapters file)
        Path exported = out.resolve("model");
        org.varitune.training.export.ModelExport.save(clf, dir, exported,
                org.varitune.training.export.ExportInfo.of(clf, model, full.numHiddenLayers(), data.name(),
                        data.labelNames(), cfg.mode(), trainer.tunedLayerCount()));
        System.out.println("wrote " + r.metricsFile() + " and the tuned model under " + exported);
        return 0;
    }

    private static String devSizes(List<TokenizedDataset> devs) {
        StringJoiner j = new StringJoiner(", ");
        for (TokenizedDataset d : devs) j.add(d.name() + " (" + d.size() + " examples)");
        return j.toString();
    }

    static String metrics(Map<String, Double> m) {
        StringJoiner j = new StringJoiner(" ");
        m.forEach((k, v) -> j.add(String.format(Locale.ROOT, "%s=%.4f", k, v)));
        return j.toString();
    }

    /** Prints the run's progress: a bar per epoch on stderr, a line per epoch on stdout. */
    static final class Printer implements TrainListener {
        private ProgressBar bar, cacheBar;
        private String cacheSplit;

        @Override public void onStart(Start s) {
            System.out.printf(Locale.ROOT, "trainable parameters: %d of %d (%.2f%%); %d updates per epoch, %d in all,"
                            + " %d warmup; %s%n", s.trainableParameters(), s.totalParameters(),
                    100.0 * s.trainableParameters() / s.totalParameters(), s.stepsPerEpoch(), s.totalSteps(),
                    s.warmupSteps(), s.cache());
            if (s.resumedAtStep() >= 0) System.out.println("resuming at update " + s.resumedAtStep());
        }

        @Override public void onCacheProgress(String split, int done, int total) {
            if (!split.equals(cacheSplit)) {
                if (cacheBar != null) cacheBar.close();
                cacheBar = new ProgressBar("prefix cache " + split, total);
                cacheSplit = split;
            }
            cacheBar.set(done);
        }

        @Override public void onStep(Step s) {
            if (cacheBar != null) { cacheBar.close(); cacheBar = null; }
            if (bar == null) bar = new ProgressBar("epoch " + s.epoch() + "/" + s.epochs(), s.stepsPerEpoch());
            bar.extra(String.format(Locale.ROOT, "loss %.4f lr %.2e %.1f ex/s", s.loss(), s.lr(), s.examplesPerSecond()));
            bar.set(s.step());
        }

        @Override public void onEpoch(EpochResult r) {
            if (bar != null) { bar.close(); bar = null; }
            StringJoiner dev = new StringJoiner("; ");
            r.dev().forEach((split, m) -> dev.add(split + " " + metrics(m)));
            System.out.printf(Locale.ROOT, "epoch %d: train loss %.4f; %s; %.1f s (%.1f ex/s), eval %.1f s%n", r.epoch(),
                    r.trainLoss(), dev, r.seconds(), r.examplesPerSecond(), r.evalSeconds());
        }

        @Override public void onMessage(String message) { System.out.println(message); }
    }
}

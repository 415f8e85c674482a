package org.varitune.experiments.cli;

import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.TaskData;
import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.Classifiers;
import org.varitune.training.trainer.EpochResult;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.training.trainer.TrainListener;
import org.varitune.training.trainer.TrainResult;
import org.varitune.training.trainer.Trainer;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import org.varitune.training.method.MethodOption;
import org.varitune.training.method.TuningMethods;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.io.IOException;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.experiments.analysis.VariabilityPass;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/**
 * {@code varitune train}: fine-tunes a model on a task in one of the tuning modes, evaluating every dev split after
 * each epoch; writes {@code <out>/metrics.json}, {@code <out>/checkpoints/{last,best}/} and the exported model under
 * {@code <out>/model/}. Rerunning with the same options resumes from {@code checkpoints/last}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Fine-tune with a tuning method (--mode) and evaluate on dev every epoch; resumable.")
public final class TrainCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Built-in name or HF model directory.")
    String model;

    @Mixin TaskOptions task = new TaskOptions();

    /** Every default below is {@link TrainConfig}'s (its Javadoc has the table); the YAML's are the same. */
    private static final TrainConfig D = TrainConfig.builder().build();

    @Option(names = "--mode", description = "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    TuningMode mode = D.mode();
    @Option(names = "--head-layer", description = "Layer l (1..L) the head sits on, top (default), or auto: l* of the "
            + "variability analysis (see --analysis).")
    String headLayer = "top";
    @Option(names = "--analysis", description = "With --head-layer auto: where the variability analysis is read when it "
            + "was made from the same model, data and --max-length (an earlier 'analyze --out'), else computed; a "
            + "directory holding an analysis of other inputs is refused, naming what changed (default OUT/variability).")
    Path analysis;
    @Option(names = "--tune-layers", description = "k tuned layers (M-k+1..M) for the modes that tune a block: all but full and probe (default ${DEFAULT-VALUE}).")
    int tuneLayers = D.tuneLayers();
    @Option(names = "--tune-last-layer", description = "M, the top of the tuned block, for the modes whose block may end below the head: all but"
            + " full, top-k and probe (default: the head layer); layers M+1..head then run frozen under the head.") Integer tuneLastLayer;
    @Option(names = "--epochs", description = "Default ${DEFAULT-VALUE}; the best dev epoch's weights are kept.")
    int epochs = D.epochs();
    @Option(names = "--lr", description = "Peak learning rate (default: the mode's own; the list is filled in from the "
            + "registered methods).")
    Double lr;
    @Option(names = "--batch-size", description = "Examples per update (default ${DEFAULT-VALUE}).") int batchSize = D.batchSize();
    @Option(names = "--grad-accumulation", description = "Micro-batches per update; same update (default ${DEFAULT-VALUE}).")
    int gradAccumulation = D.gradAccumulation();
    @Option(names = "--max-length", description = "Tokens per example after truncation (default ${DEFAULT-VALUE}).")
    int maxLength = D.maxLength();
    @Option(names = "--warmup-ratio", description = "Warmup share of all updates (default ${DEFAULT-VALUE}).")
    double warmupRatio = D.warmupRatio();
    @Option(names = "--warmup-steps", description = "Warmup updates; overrides --warmup-ratio (default: unset).") Integer warmupSteps;
    @Option(names = "--weight-decay", description = "AdamW weight decay (default ${DEFAULT-VALUE}).") double weightDecay = D.weightDecay();
    @Option(names = "--max-grad-norm", description = "Global-norm clipping, 0 = off (default ${DEFAULT-VALUE}).")
    double maxGradNorm = D.maxGradNorm();
    @Option(names = "--seed", description = "Sets the init, dropout and data seeds (default ${DEFAULT-VALUE}).") long seed = D.initSeed();
    @Option(names = "--init-seed") Long initSeed;
    @Option(names = "--dropout-seed") Long dropoutSeed;
    @Option(names = "--data-seed") Long dataSeed;
    /**
     * The tuning methods' options given ({@code lora-rank -> 16}), as given: their flags are not declared here but
     * added from the registry ({@link #addMethodOptions}); the method parses them.
     */
    final Map<String, String> methodOptions = new java.util.TreeMap<>();
    @Option(names = "--head-pooling", description = "What the classification head pools: ${COMPLETION-CANDIDATES} (default "
            + "${DEFAULT-VALUE}). mean = text tokens, specials excluded; mean-with-special = every non-pad token; "
            + "first-token = [CLS] / <s>, HF's heads.")
    Pooling headPooling = D.headPooling();
    @Option(names = "--prefix-policy", description = "How the frozen layers under the tuned block run: "
            + "${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}). cached = eval mode, computed once and reused; "
            + "recompute = eval mode, every step (same numbers); authors-dropout = train mode (dropout on), as the "
            + "authors' code runs them.")
    PrefixCachePolicy prefixPolicy = D.prefixPolicy();
    @Option(names = "--cache-memory-mb", description = "Above this, the prefix cache is memory-mapped from disk (default ${DEFAULT-VALUE}).")
    long cacheMemoryMb = D.cacheMemoryLimitBytes() >> 20;
    @Option(names = "--early-stopping", description = "Stop after N epochs without a better main metric; 0 = off (default).")
    int earlyStopping = D.earlyStoppingPatience();
    @Option(names = "--eval-batch-size", description = "Default ${DEFAULT-VALUE}.") int evalBatchSize = D.evalBatchSize();
    @Option(names = "--checkpoint-every", description = "Save checkpoints/last every N updates (default ${DEFAULT-VALUE}; 0 = epoch ends).")
    int checkpointEvery = D.checkpointEverySteps();
    @Option(names = "--threads", description = "Kernel threads (-Dvaritune.threads; default all cores).") Integer threads;
    @Option(names = "--out", required = true, description = "Run directory (an existing run there is resumed).")
    Path out;
    @Option(names = "--pooling", hidden = true, description = "Renamed: --head-pooling.") String oldPooling;
    @Option(names = "--cache", hidden = true, description = "Renamed: --prefix-policy.") String oldCache;

    /** The config these options describe. */
    TrainConfig config() {
        if (oldPooling != null) {
            throw new IllegalArgumentException("train has no --pooling: the head's pooling is --head-pooling (analyze "
                    + "--pooling is the pooling of nu)");
        }
        if (oldCache != null) throw new IllegalArgumentException("--cache is now --prefix-policy (cached, recompute, authors-dropout)");
        Main.requireFlag(cacheMemoryMb >= 0 && cacheMemoryMb <= Long.MAX_VALUE >> 20, "--cache-memory-mb", cacheMemoryMb,
                "in [0, 2^43 - 1]");
        Main.requireFlag(task.maxExamples >= 0, "--max-examples", task.maxExamples, ">= 0 (0 = all)");
        TrainConfig.Builder b = TrainConfig.builder().mode(mode)
                .headLayer(LayerPlan.parseHeadLayer("--head-layer", headLayer)).tuneLayers(tuneLayers).epochs(epochs)
                .batchSize(batchSize).gradAccumulation(gradAccumulation).maxLength(maxLength).warmupRatio(warmupRatio)
                .weightDecay(weightDecay).maxGradNorm(maxGradNorm).seed(seed)
                .headPooling(headPooling).prefixPolicy(prefixPolicy)
                .cacheMemoryLimitBytes(cacheMemoryMb << 20).earlyStoppingPatience(earlyStopping)
                .evalBatchSize(evalBatchSize).checkpointEverySteps(checkpointEvery);
        if (tuneLastLayer != null) b.tuneLastLayer(tuneLastLayer);
        if (lr != null) b.lr(lr);
        if (warmupSteps != null) b.warmupSteps(warmupSteps);
        if (initSeed != null) b.initSeed(initSeed);
        if (dropoutSeed != null) b.dropoutSeed(dropoutSeed);
        if (dataSeed != null) b.dataSeed(dataSeed);
        b.methodOptions(methodOptions);
        return b.build();
    }

    /**
     * Adds every registered tuning-method option ({@link TuningMethods#allOptions()}) to {@code spec}, this command's:
     * {@code --lora-rank=R} etc., with the method's help text; a value lands in {@link #methodOptions} as given.
     * {@link Main#commandLine()} calls it, so that a method with options needs no edit here.
     */
    void addMethodOptions(CommandSpec spec) {
        OptionSpec lr = spec.findOption("--lr");                           // its help lists every mode's default
        java.util.StringJoiner lrs = new java.util.StringJoiner(", ");
        for (TuningMode m : TuningMode.values()) {
            lrs.add(m.spelling() + " " + new java.math.BigDecimal(Double.toString(TuningMethods.defaultLr(m))).stripTrailingZeros().toPlainString());
        }
        spec.remove(lr);
        spec.addOption(lr.toBuilder().description("Peak learning rate (default by mode, registered with its method: " + lrs + ").").build());
        for (MethodOption<?> o : TuningMethods.allOptions()) {
            spec.addOption(OptionSpec.builder(o.flag()).type(String.class).paramLabel(o.label()).description(o.help())
                    .setter(new ISetter() {
                        @Override
                        public <T> T set(T value) {
                            String before = value == null ? methodOptions.remove(o.name())
                                    : methodOptions.put(o.name(), (String) value);
                            @SuppressWarnings("unchecked") T t = (T) before;
                            return t;
                        }
                    })
                    .getter(new IGetter() {
                        @Override
                        @SuppressWarnings("unchecked")
                        public <T> T get() { return (T) methodOptions.get(o.name()); }
                    }).build());
        }
    }

    /**
     * l* of the variability analysis of {@code data} (the analyze defaults: pooling, variant, batch 32; this run's
     * --max-length): read from {@code --analysis} (default OUT/variability) when it was computed from exactly these
     * inputs, else computed there. Prints the layer chosen.
     */
    private int autoHeadLayer(Path dir, TaskData data) throws IOException {
        Path adir = analysis != null ? analysis : out.resolve("variability");
        var v = ExperimentConfig.Variability.DEFAULTS;
        VariabilityPass.Options o = new VariabilityPass.Options(maxLength, 32, v.pooling(), v.variant(),
                VariabilityPass.DEFAULT_RESERVOIR_PER_CLASS, 17L, null, 20);
        Kernels kernels = Kernels.fromSystemProperty();
        var reused = AnalyzeCommand.reusable(adir, AnalyzeCommand.fingerprint(model, dir, kernels, task, data, o));
        int l = reused.isPresent() ? reused.get().headLayer()
                : AnalyzeCommand.analyze(model, dir, kernels, task, data, o, adir, false).recommendation().headLayer();
        System.out.printf(Locale.ROOT, "--head-layer auto: l* = %d (%s %s)%n", l,
                reused.isPresent() ? "read from" : "computed into", adir.resolve("variability.json"));
        return l;
    }

    @Override
    public Integer call() throws Exception {
        device.apply();
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads " + threads + " must be >= 1");
            System.setProperty("varitune.threads", Integer.toString(threads));   // read when the kernels' pool starts
        }
        boolean auto = "auto".equals(headLayer);
        if (!auto && analysis != null) throw new IllegalArgumentException("--analysis is read only with --head-layer auto");
        if (auto) {                                         // every other flag is checked before any file is read
            headLayer = "top";
            config();
            headLayer = "auto";
        } else {
            config();
        }
        Path dir = ModelSpec.directory(model);
        TaskData data = task.load();
        Map<String, String> run = new LinkedHashMap<>();
        if (auto) {                                         // resolved here, once: l* of the analysis of this data
            int l = autoHeadLayer(dir, data);
            run.put("head_layer_rule", "auto");
            run.put("l_star", Integer.toString(l));
            headLayer = Integer.toString(l);
        }
        TrainConfig cfg = config();
        Tokenizer tok = Tokenizers.load(dir);
        EncoderConfig full = EncoderConfig.read(dir);
        LayerPlan plan;
        try {
            plan = cfg.layerPlan(full.numHiddenLayers());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(model + ": " + e.getMessage(), e);
        }
        Encoder enc = Encoder.load(dir, Kernels.fromSystemProperty(), plan.headLayer());   // layers above l dropped
        TokenizedDataset train = TokenizedSplits.of(data.train(), "train", tok, cfg.maxLength());
        List<TokenizedDataset> devs = new ArrayList<>();
        for (Dataset d : data.devs()) devs.add(TokenizedSplits.of(d, d.split(), tok, cfg.maxLength()));
        SequenceClassifier clf = Classifiers.build(enc, cfg, plan, data.numLabels());

        run.put("model", model);
        run.put("data", task.source());
        run.put("max_examples", Integer.toString(task.maxExamples));
        List<Dataset> read = new ArrayList<>(List.of(data.train()));
        read.addAll(data.devs());
        run.put("examples", org.varitune.experiments.sweep.RunIdentity.examples(read));   // a changed file is not resumed
        System.out.printf(Locale.ROOT, "model %s: %d layers, hidden %d, kernels %s; task %s: %d training examples; dev splits: %s%n",
                model, full.numHiddenLayers(), full.hiddenSize(), enc.kernels().name(), data.name(), train.size(),
                devSizes(devs));
        Trainer trainer = new Trainer(cfg, plan, clf, train, devs, data.name(), data.mainMetric(), out, run, new Printer());
        TrainResult r = trainer.run();
        if (r.bestEpoch() > 0) {
            System.out.printf(Locale.ROOT, "best epoch %d: %s%n", r.bestEpoch(), metrics(r.bestDev()));
        }
        // the best epoch's weights are loaded: export them as a standard HF directory (+ head, + adapters file)
        Path exported = out.resolve("model");
        org.varitune.training.export.ModelExport.save(clf, dir, exported,
                org.varitune.training.export.ExportInfo.of(clf, model, plan, data.name(), data.labelNames()));
        org.varitune.training.export.ModelExport.recordTrainedMaxLength(exported, cfg.maxLength());   // predict's default
        org.varitune.training.method.TuningMethods.of(cfg).exportExtras(clf, dir, exported);   // LoRA: PEFT's files
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

package org.varitune.training.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.AdamW;
import org.varitune.training.GradClip;
import org.varitune.training.LayerPlan;
import org.varitune.training.LrSchedule;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Fine-tunes a {@link SequenceClassifier} (built by {@link Classifiers#build}) on a tokenized training set, evaluating
 * every dev split after each epoch, in a run directory:
 * <pre>
 *   &lt;run&gt;/metrics.json              per-epoch train loss, dev metrics, seconds; best epoch (atomic, every epoch)
 *   &lt;run&gt;/checkpoints/last/        resume point (every checkpointEverySteps updates and at each epoch end)
 *   &lt;run&gt;/checkpoints/best/        weights of the best epoch by the main metric of the first dev split
 *   &lt;run&gt;/cache/                   memory-mapped prefix caches above the memory limit (deleted at the end)
 * </pre>
 * Per update: the batch's micro-batches ({@link BatchPlan}) run forward and backward ({@link TrainStep}) with dropout
 * masks from {@code DropoutContext.training(dropoutSeed, microStep)}; global-norm clipping ({@link GradClip}); AdamW
 * ({@link AdamW#withDefaults}, HF's decay groups) at {@code lr(globalStep)} of a linear warmup-then-decay schedule.
 *
 * <p><b>Resume.</b> {@link #run} continues from {@code checkpoints/last} when it exists (after checking that the
 * config and run info match, an error naming the differing keys otherwise). Everything random is a pure function of
 * a seed and a counter (data order of (dataSeed, epoch), dropout of (dropoutSeed, microStep), the head init of
 * initSeed), and the checkpoint holds the trainable weights, AdamW's moments and step counts, and the counters, so a
 * run killed anywhere and resumed ends with bit-identical weights to an uninterrupted run (same kernels, same thread
 * count). A {@code last} that is damaged (a file truncated or changed since its manifest, the manifest missing) is
 * skipped for {@code last.prev}, with a message naming the defect ({@link Checkpoints#locate}). A non-finite loss or gradient norm throws {@link TrainingDivergedException} before the update, leaving the
 * last checkpoint intact.
 */
public final class Trainer {
    private static final int STATE_FORMAT = 1;

    private final TrainConfig config;
    private final LayerPlan plan;
    private final SequenceClassifier model;
    private final TokenizedDataset train;
    private final List<TokenizedDataset> devs;
    private final String task, mainMetric;
    private final Path runDir;
    private final Map<String, String> runInfo;
    private final TrainListener listener;
    private final List<Parameter> trainable;

    /**
     * @param plan       the run's layers, {@code config.layerPlan(L)} built at the boundary: the prefix split, the
     *                   cache, and the run records read it
     * @param model      built from {@code config} and {@code plan} ({@link Classifiers#build}); its trainable
     *                   parameters are trained
     * @param devs       dev splits, each evaluated every epoch; the first selects the best epoch (MNLI: matched)
     * @param task       task id for {@link org.varitune.metrics.task.TaskMetrics#forTask}
     * @param mainMetric the selecting metric, a key of the task's metrics (higher is better)
     * @param runInfo    identity of the run (model, task, data...): written to metrics.json and checked on resume
     */
    public Trainer(TrainConfig config, LayerPlan plan, SequenceClassifier model, TokenizedDataset train, List<TokenizedDataset> devs,
                   String task, String mainMetric, Path runDir, Map<String, String> runInfo, TrainListener listener) {
        this.config = config;
        this.plan = plan;
        this.model = model;
        this.train = train;
        this.devs = List.copyOf(devs);
        this.task = task;
        this.mainMetric = mainMetric;
        this.runDir = runDir;
        this.runInfo = runInfo == null ? Map.of() : new TreeMap<>(runInfo);
        this.listener = listener == null ? TrainListener.NONE : listener;
        if (this.devs.isEmpty()) throw new IllegalArgumentException("no dev split to evaluate");
        if (!plan.equals(config.layerPlan(plan.numLayers()))) {            // the run records describe the plan
            throw new IllegalArgumentException(plan + " is not the plan of the config (" + config.mode() + ", headLayer "
                    + config.headLayer() + ", tuneLayers " + config.tuneLayers() + ", tuneLastLayer "
                    + config.tuneLastLayer() + ", " + config.prefixPolicy() + ")");
        }
        if (model.headLayer() != plan.headLayer()) {
            throw new IllegalArgumentException("the model's head is on layer " + model.headLayer() + " but the plan puts it"
                    + " on " + plan.headLayer());
        }
        for (TokenizedDataset d : this.devs) {
            if (d.numLabels() != train.numLabels() || d.regression() != train.regression()) {
                throw new IllegalArgumentException("dev split " + d.name() + " has " + d.numLabels() + " labels, train "
                        + train.numLabels());
            }
        }
        if (train.numLabels() != model.head().numLabels()) {
            throw new IllegalArgumentException("the head has " + model.head().numLabels() + " outputs, the data "
                    + train.numLabels() + " labels");
        }
        this.trainable = model.parameters().stream().filter(Parameter::trainable).toList();
        if (trainable.isEmpty()) throw new IllegalArgumentException("no trainable parameter under " + config.mode());
    }

    /** The run's layers. */
    public LayerPlan plan() { return plan; }

    /** Number of trainable scalars. */
    public long trainableParameters() { return count(trainable); }

    private static long count(List<Parameter> ps) {
        long n = 0;
        for (Parameter p : ps) n += p.numel();
        return n;
    }

    /** The mutable progress of a run; what {@code trainer_state.json} holds. */
    private static final class State {
        int epoch;                  // 0-based epoch in progress
        int stepInEpoch;            // updates done in it
        long globalStep, microStep;
        double epochLossSum;        // Σ loss·rows over the epoch's updates so far
        long epochExamples;
        double epochSeconds;
        int bestEpoch = -1;         // 1-based
        double bestMetric = Double.NEGATIVE_INFINITY;
        int epochsWithoutImprovement;
        boolean finished, stoppedEarly;
        long lastSavedStep = -1;
        final List<EpochResult> history = new ArrayList<>();
    }

    /**
     * Trains (or resumes, or reopens a finished run), writing checkpoints and metrics.json under the run directory;
     * calls {@link TrainListener#onFinish} at the end. Modifies the model's trainable parameters (the best epoch's
     * weights at the end when {@link TrainConfig#loadBestAtEnd()}, else the last).
     *
     * @throws TrainingDivergedException on a non-finite loss or gradient norm
     * @throws IllegalArgumentException  when an existing checkpoint was written with a different config or run info
     */
    public TrainResult run() throws IOException {
        Path ckDir = runDir.resolve("checkpoints");
        Checkpoints.cleanTemporaries(ckDir);
        AdamW optimizer = AdamW.withDefaults(model.parameters(), config.weightDecay());
        int stepsPerEpoch = BatchPlan.batchesPerEpoch(train.size(), config.batchSize());
        long totalSteps = (long) stepsPerEpoch * config.epochs();
        long warmup = config.warmupSteps() >= 0 ? config.warmupSteps() : LrSchedule.warmupSteps(config.warmupRatio(), totalSteps);
        LrSchedule schedule = LrSchedule.linearWarmupDecay(config.lr(), warmup, totalSteps);

        State st = new State();
        Path last = Checkpoints.locate(ckDir, Checkpoints.LAST, listener::onMessage);
        if (last != null) {
            JsonNode saved = Checkpoints.readState(last);
            checkCompatible(saved, last);
            readState(saved, st);
            Checkpoints.loadWeights(last, trainable);
            Checkpoints.loadOptimizer(last, optimizer);
            String threads = saved.path("threads").asText();
            if (!threads.equals(Integer.toString(org.varitune.transformer.kernels.Parallel.threads()))
                    || !saved.path("kernels").asText().equals(model.encoder().kernels().name())) {
                listener.onMessage("resuming with kernels " + model.encoder().kernels().name() + " on "
                        + org.varitune.transformer.kernels.Parallel.threads() + " threads, the checkpoint was written with "
                        + saved.path("kernels").asText() + " on " + threads + ": results may differ in the last bits");
            }
        }
        if (st.finished) {
            listener.onMessage("the run in " + runDir + " is already finished (" + st.history.size() + " epochs)");
            return finish(ckDir, st);
        }

        PrefixCache trainCache = null;
        List<PrefixCache> devCaches = new ArrayList<>();
        try {
            String cacheText = plan.describePrefix();
            if (plan.cachesPrefix()) {
                trainCache = buildCache(train, "train");
                for (TokenizedDataset d : devs) devCaches.add(buildCache(d, "dev-" + devCaches.size()));
                cacheText += String.format(Locale.ROOT, ": %.1f MB %s", trainCache.bytes() / 1e6,
                        trainCache.onDisk() ? "memory-mapped from " + runDir.resolve("cache") : "in memory");
            }
            listener.onStart(new TrainListener.Start(trainableParameters(), count(model.parameters()), stepsPerEpoch,
                    totalSteps, warmup, plan.prefixEnd(), cacheText, last != null ? st.globalStep : -1));
            TrainStep step = new TrainStep(model, train, plan, trainCache);
            int[] lengths = train.lengths();
            while (st.epoch < config.epochs() && !st.finished) {
                List<int[]> plan = BatchPlan.trainEpoch(lengths, config.batchSize(), config.bucketChunkBatches(),
                        config.dataSeed(), st.epoch);
                double secondsBefore = st.epochSeconds;
                long t0 = System.nanoTime();
                for (int s = st.stepInEpoch; s < plan.size(); s++) {
                    int[] batch = plan.get(s);
                    model.zeroGrad();
                    double lossSum = 0;
                    for (int[] micro : BatchPlan.microBatches(batch, config.gradAccumulation())) {
                        DropoutContext drop = DropoutContext.training(config.dropoutSeed(), st.microStep);
                        double loss = step.run(micro, drop, (double) micro.length / batch.length);
                        if (!Double.isFinite(loss)) throw diverged("loss is " + loss, st, s, plan.size());
                        lossSum += loss * micro.length;
                        st.microStep++;
                    }
                    double norm;
                    try {
                        norm = GradClip.clipGlobalNorm(trainable, config.maxGradNorm() > 0 ? config.maxGradNorm()
                                : Double.POSITIVE_INFINITY);
                    } catch (ArithmeticException e) {
                        throw diverged(e.getMessage(), st, s, plan.size());
                    }
                    double lr = schedule.lr(st.globalStep);
                    optimizer.step(lr);
                    st.globalStep++;
                    st.stepInEpoch = s + 1;
                    st.epochLossSum += lossSum;
                    st.epochExamples += batch.length;
                    st.epochSeconds = secondsBefore + (System.nanoTime() - t0) / 1e9;
                    if (config.checkpointEverySteps() > 0 && st.globalStep % config.checkpointEverySteps() == 0) {
                        saveLast(ckDir, optimizer, st);
                    }
                    listener.onStep(new TrainListener.Step(st.epoch + 1, config.epochs(), s + 1, plan.size(),
                            st.globalStep, totalSteps, lossSum / batch.length, lr, norm,
                            st.epochExamples / Math.max(st.epochSeconds, 1e-9), st.epochSeconds));
                }
                endEpoch(ckDir, optimizer, st, devCaches);
            }
        } finally {
            if (trainCache != null) trainCache.close();
            for (PrefixCache c : devCaches) c.close();
        }
        return finish(ckDir, st);
    }

    private PrefixCache buildCache(TokenizedDataset ds, String file) throws IOException {
        return PrefixCache.build(model.encoder(), ds, plan.prefixEnd(), config.evalBatchSize(), config.cacheMemoryLimitBytes(),
                runDir.resolve("cache").resolve(file + ".prefix" + plan.prefixEnd() + ".f32"),
                done -> listener.onCacheProgress(ds.name(), done, ds.size()));
    }

    private TrainingDivergedException diverged(String what, State st, int s, int steps) {
        String kept = st.lastSavedStep >= 0 ? runDir.resolve("checkpoints").resolve(Checkpoints.LAST)
                + " (global step " + st.lastSavedStep + ") is intact" : "no checkpoint was written yet";
        return new TrainingDivergedException(String.format(Locale.ROOT,
                "training diverged: %s at epoch %d, step %d/%d (global step %d); stopped before the update; %s",
                what, st.epoch + 1, s + 1, steps, st.globalStep + 1, kept), st.epoch + 1, s + 1, st.globalStep);
    }

    private void endEpoch(Path ckDir, AdamW optimizer, State st, List<PrefixCache> devCaches) throws IOException {
        long t0 = System.nanoTime();
        Map<String, Map<String, Double>> dev = new LinkedHashMap<>();
        for (int i = 0; i < devs.size(); i++) {
            TokenizedDataset d = devs.get(i);
            dev.put(d.name(), Evaluator.evaluate(model, d, task, config.evalBatchSize(), plan.cachesPrefix() ? devCaches.get(i) : null));
        }
        double evalSeconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Double> main = dev.values().iterator().next();
        Double metric = main.get(mainMetric);
        if (metric == null) {
            throw new IllegalArgumentException("main metric '" + mainMetric + "' is not among the metrics of task '" + task
                    + "': " + main.keySet());
        }
        EpochResult r = new EpochResult(st.epoch + 1, st.epochLossSum / st.epochExamples, dev, st.epochSeconds,
                evalSeconds, st.epochExamples / Math.max(st.epochSeconds, 1e-9), st.globalStep);
        st.history.add(r);
        boolean improved = metric > st.bestMetric;
        if (improved) {
            st.bestMetric = metric;
            st.bestEpoch = r.epoch();
            st.epochsWithoutImprovement = 0;
        } else {
            st.epochsWithoutImprovement++;
        }
        st.epoch++;
        st.stepInEpoch = 0;
        st.epochLossSum = 0;
        st.epochExamples = 0;
        st.epochSeconds = 0;
        if (config.earlyStoppingPatience() > 0 && st.epochsWithoutImprovement >= config.earlyStoppingPatience()
                && st.epoch < config.epochs()) {
            st.stoppedEarly = true;
            listener.onMessage("early stopping: no better " + mainMetric + " for " + st.epochsWithoutImprovement
                    + " epochs (best " + st.bestMetric + " at epoch " + st.bestEpoch + ")");
        }
        st.finished = st.stoppedEarly || st.epoch >= config.epochs();
        if (improved) {
            Checkpoints.save(ckDir, Checkpoints.BEST, trainable, null, stateJson(st));
            listener.onCheckpoint(Checkpoints.BEST, st.globalStep);
        }
        saveLast(ckDir, optimizer, st);
        writeMetrics(st);
        listener.onEpoch(r);
    }

    private void saveLast(Path ckDir, AdamW optimizer, State st) throws IOException {
        long previous = st.lastSavedStep;
        st.lastSavedStep = st.globalStep;
        try {
            Checkpoints.save(ckDir, Checkpoints.LAST, trainable, optimizer, stateJson(st));
        } catch (IOException | RuntimeException e) {
            st.lastSavedStep = previous;
            throw e;
        }
        listener.onCheckpoint(Checkpoints.LAST, st.globalStep);
    }

    private TrainResult finish(Path ckDir, State st) throws IOException {
        Path metrics = writeMetrics(st);
        if (config.loadBestAtEnd() && st.bestEpoch > 0) {
            Path best = Checkpoints.locate(ckDir, Checkpoints.BEST, listener::onMessage);
            if (best == null) throw new IOException(ckDir + ": the best checkpoint (epoch " + st.bestEpoch + ") is missing");
            int epoch = Checkpoints.readState(best).path("best_epoch").asInt();
            if (epoch != st.bestEpoch) {
                throw new IOException(best + " holds epoch " + epoch + ", the run's best epoch is " + st.bestEpoch);
            }
            Checkpoints.loadWeights(best, trainable);
        }
        Map<String, Double> bestDev = st.bestEpoch > 0 ? st.history.get(st.bestEpoch - 1).flatDev() : Map.of();
        TrainResult result = new TrainResult(st.history, st.bestEpoch, bestDev, mainMetric, trainableParameters(),
                st.stoppedEarly, metrics);
        // export: the lead wires ModelExport.save(model, tokenizerSource, runDir.resolve("model")) into onFinish
        listener.onFinish(model, result);
        return result;
    }

    // ---- run records -------------------------------------------------------------------------------------------

    private Path writeMetrics(State st) throws IOException {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("task", task);
        runInfo.forEach(o::put);
        o.put("mode", plan.mode().spelling());
        o.put("head_layer", plan.headLayer());
        o.put("tune_layers", plan.tunedLayerCount());
        o.put("trainable_parameters", trainableParameters());
        o.put("total_parameters", count(model.parameters()));
        o.put("main_metric", mainMetric);
        o.put("prefix", plan.describePrefix());
        ArrayNode epochs = o.putArray("epochs");
        for (EpochResult r : st.history) epochs.add(r.toJson());
        if (st.bestEpoch > 0) {
            EpochResult b = st.history.get(st.bestEpoch - 1);
            ObjectNode best = o.putObject("best");
            best.put("epoch", b.epoch());
            ObjectNode d = best.putObject("dev");
            b.flatDev().forEach(d::put);
        } else {
            o.putNull("best");
        }
        o.put("finished", st.finished);
        o.put("stopped_early", st.stoppedEarly);
        o.put("kernels", model.encoder().kernels().name());
        o.put("threads", org.varitune.transformer.kernels.Parallel.threads());
        o.set("config", Checkpoints.JSON.valueToTree(config.toMap()));
        Path file = runDir.resolve("metrics.json");
        Checkpoints.writeAtomically(file, Checkpoints.JSON.writeValueAsString(o) + "\n");
        return file;
    }

    private ObjectNode stateJson(State st) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format", STATE_FORMAT);
        o.put("epoch", st.epoch);
        o.put("step_in_epoch", st.stepInEpoch);
        o.put("global_step", st.globalStep);
        o.put("micro_step", st.microStep);
        o.put("epoch_loss_sum", st.epochLossSum);
        o.put("epoch_examples", st.epochExamples);
        o.put("epoch_seconds", st.epochSeconds);
        o.put("best_epoch", st.bestEpoch);
        if (st.bestEpoch > 0) o.put("best_metric", st.bestMetric); else o.putNull("best_metric");
        o.put("epochs_without_improvement", st.epochsWithoutImprovement);
        o.put("finished", st.finished);
        o.put("stopped_early", st.stoppedEarly);
        o.put("last_saved_step", st.lastSavedStep);
        ArrayNode h = o.putArray("history");
        for (EpochResult r : st.history) h.add(r.toJson());
        o.put("kernels", model.encoder().kernels().name());
        o.put("threads", Integer.toString(org.varitune.transformer.kernels.Parallel.threads()));
        o.set("config", Checkpoints.JSON.valueToTree(config.toMap()));
        o.set("run", Checkpoints.JSON.valueToTree(runInfo));
        o.put("task", task);
        o.put("main_metric", mainMetric);
        return o;
    }

    private void checkCompatible(JsonNode saved, Path where) {
        if (saved.path("format").asInt() != STATE_FORMAT) {
            throw new IllegalArgumentException(where.resolve(Checkpoints.STATE) + ": state format "
                    + saved.path("format") + ", expected " + STATE_FORMAT);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> savedConfig = Checkpoints.JSON.convertValue(saved.get("config"), Map.class);
        List<String> diff = new ArrayList<>(TrainConfig.differingKeys(savedConfig, config.toMap()));
        @SuppressWarnings("unchecked")
        Map<String, Object> savedRun = Checkpoints.JSON.convertValue(saved.get("run"), Map.class);
        for (String k : new java.util.TreeSet<>(concat(savedRun.keySet(), runInfo.keySet()))) {
            Object a = savedRun.get(k), b = runInfo.get(k);
            if (a == null ? b != null : !a.toString().equals(String.valueOf(b))) diff.add(k + " (" + a + " vs " + b + ")");
        }
        if (!saved.path("task").asText().equals(task)) diff.add("task (" + saved.path("task").asText() + " vs " + task + ")");
        if (!saved.path("main_metric").asText().equals(mainMetric)) {
            diff.add("mainMetric (" + saved.path("main_metric").asText() + " vs " + mainMetric + ")");
        }
        if (!diff.isEmpty()) {
            throw new IllegalArgumentException(where + " was written by a run with a different configuration: "
                    + String.join(", ", diff) + " (saved vs now); resume with the same settings, or use another output"
                    + " directory");
        }
    }

    private static List<String> concat(java.util.Collection<String> a, java.util.Collection<String> b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(b);
        return l;
    }

    private static void readState(JsonNode o, State st) {
        st.epoch = o.get("epoch").asInt();
        st.stepInEpoch = o.get("step_in_epoch").asInt();
        st.globalStep = o.get("global_step").asLong();
        st.microStep = o.get("micro_step").asLong();
        st.epochLossSum = o.get("epoch_loss_sum").asDouble();
        st.epochExamples = o.get("epoch_examples").asLong();
        st.epochSeconds = o.get("epoch_seconds").asDouble();
        st.bestEpoch = o.get("best_epoch").asInt();
        st.bestMetric = o.get("best_metric").isNull() ? Double.NEGATIVE_INFINITY : o.get("best_metric").asDouble();
        st.epochsWithoutImprovement = o.get("epochs_without_improvement").asInt();
        st.finished = o.get("finished").asBoolean();
        st.stoppedEarly = o.get("stopped_early").asBoolean();
        st.lastSavedStep = o.get("last_saved_step").asLong();
        for (JsonNode r : o.get("history")) st.history.add(EpochResult.fromJson(r));
    }
}

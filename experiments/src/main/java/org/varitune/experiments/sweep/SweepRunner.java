package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.experiments.analysis.Analysis;
import org.varitune.experiments.analysis.VariabilityPass;
import org.varitune.experiments.cli.TokenizedSplits;
import org.varitune.experiments.data.BuiltinTasks;
import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.GlueTask;
import org.varitune.experiments.data.TaskData;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.metrics.LayerSelection;
import org.varitune.metrics.Variant;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.models.ModelResolver;
import org.varitune.transformer.models.ProgressListener;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import org.varitune.training.LayerPlan;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.Classifiers;
import org.varitune.training.trainer.TokenizedDataset;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.training.trainer.TrainListener;
import org.varitune.training.trainer.TrainResult;
import org.varitune.training.trainer.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.LongConsumer;

/**
 * Runs the runs of an experiment config (or one shard of them), each in its own directory
 * {@code <out>/runs/<task>/<method>-k<k>/seed-<s>/}: nu is computed once per (task, pooling, variant) under
 * {@code <out>/variability/<task>-<pooling>-<variant>/} and reused to resolve {@code head_layer: auto}. Shards may
 * run as concurrent processes into one {@code <out>} (a job array): their runs are disjoint, and nu of a task is
 * computed by the first shard to need it under an exclusive file lock ({@code variability/.<name>.lock}, held
 * while the directory is checked, computed or read) while the others wait, then read it.
 *
 * <p>Every run and every nu computation is identified by its {@link Fingerprint} ({@link RunIdentity}), recorded in
 * its directory before anything else ({@link ResultGuard}) and copied into {@code result.json} /
 * {@code variability.json}. A rerun into the same {@code --out} skips a finished run with the same fingerprint,
 * resumes an interrupted one from its trainer checkpoint, and refuses, before training anything, when any run of the
 * shard holds results of other inputs (a changed lr, data file, model...), listing the changed components; with
 * {@code rerunChanged} it moves those runs to {@code <out>/stale/<n>/} and runs them again from scratch.
 */
public final class SweepRunner {
    /** Run status in result.json. */
    public static final String DONE = "done", SKIPPED = "skipped";
    /** The fingerprint component that only labels a run: equivalent runs differ in it alone. */
    static final String LABEL = "method";

    private final ExperimentConfig config;
    private final Path out;
    private final List<String> argv;
    private final PrintStream log;
    private final TrainListener listener;
    private final LongConsumerFactory passProgress;
    private final boolean rerunChanged;
    private Path modelDir;
    private RunIdentity.ModelHashes modelHashes;
    private Kernels kernels;
    private final Map<String, Analysis.Stored> variabilities = new HashMap<>();   // task -> its checked variability.json
    private final Map<String, String> exampleHashes = new HashMap<>();    // "task#maxTrain" -> examples hash
    private String dataKey;                                                // the last data loaded, kept
    private TaskData data;

    /** Creates a progress consumer for a variability pass over {@code total} examples (may return null). */
    public interface LongConsumerFactory { LongConsumer create(String label, long total); }

    /** A runner that refuses to touch results of other inputs (see {@link #SweepRunner(ExperimentConfig, Path,
     * List, PrintStream, TrainListener, LongConsumerFactory, boolean)}). */
    public SweepRunner(ExperimentConfig config, Path out, List<String> argv, PrintStream log, TrainListener listener,
                       LongConsumerFactory passProgress) {
        this(config, out, argv, log, listener, passProgress, false);
    }

    /**
     * @param rerunChanged when a run or nu directory holds results of other inputs: false = refuse with a
     *                     {@link ResultGuard.ChangedResultsException} listing them; true = move them to
     *                     {@code <out>/stale/<n>/} and compute them again
     */
    public SweepRunner(ExperimentConfig config, Path out, List<String> argv, PrintStream log, TrainListener listener,
                       LongConsumerFactory passProgress, boolean rerunChanged) {
        this.config = config;
        this.out = out;
        this.argv = List.copyOf(argv);
        this.log = log;
        this.listener = listener;
        this.passProgress = passProgress;
        this.rerunChanged = rerunChanged;
    }

    /** One run with everything resolved, and what its directory holds. */
    private record Planned(RunSpec spec, Path dir, LayerPlan plan, ExperimentConfig.Train train, TrainConfig tc,
                           Fingerprint fingerprint, ResultGuard.Check check) {}

    /**
     * Runs shard {@code i} of {@code n} (0/1 = everything). Returns the results of this shard's runs, in order.
     *
     * @throws ResultGuard.ChangedResultsException when results of other inputs are in the way and rerunChanged is
     *                                             off (nothing is trained then)
     */
    public List<JsonNode> run(int shard, int shards) throws IOException {
        List<RunSpec> runs = RunSpec.shard(RunSpec.expand(config), shard, shards);
        List<Planned> plan = new ArrayList<>();
        for (RunSpec r : runs) plan.add(plan(r));
        List<ResultGuard.Check> changed = plan.stream().map(Planned::check)
                .filter(c -> c.state() == ResultGuard.State.CHANGED).toList();
        if (!changed.isEmpty() && !rerunChanged) {
            throw new ResultGuard.ChangedResultsException(ResultGuard.describe(out, "run", "runs", changed,
                    "rerun them with --rerun-changed"));
        }
        List<JsonNode> results = new ArrayList<>();
        int i = 0;
        for (Planned p : plan) {
            i++;
            JsonNode finished = p.check().state() == ResultGuard.State.SAME ? finished(p) : null;
            if (finished != null) {
                log.printf("[%d/%d] %s: already %s%n", i, runs.size(), p.spec().id(), finished.path("status").asText());
                results.add(finished);
                continue;
            }
            log.printf("[%d/%d] %s%n", i, runs.size(), p.spec().id());
            if (p.check().state() == ResultGuard.State.CHANGED) {
                Path aside = ResultGuard.moveAside(out, List.of(p.dir()));
                log.printf("  inputs changed (%s): the old run is now in %s%n", String.join("; ", p.check().changes()),
                        aside.resolve(out.relativize(p.dir())));
            }
            results.add(runOne(p));
        }
        return results;
    }

    /** The run's result.json when it is finished (done or skipped) under the planned fingerprint, else null. */
    private static JsonNode finished(Planned p) throws IOException {
        Path f = p.dir().resolve("result.json");
        if (!Files.exists(f)) return null;
        JsonNode j = AtomicFiles.JSON.readTree(f.toFile());
        String st = j.path("status").asText();
        boolean over = DONE.equals(st) || SKIPPED.equals(st);
        return over && p.fingerprint().sha256().equals(j.path("fingerprint_sha256").asText()) ? j : null;
    }

    private Path modelDir() throws IOException {
        if (modelDir == null) modelDir = ModelResolver.resolve(config.model(), ProgressListener.NONE);
        return modelDir;
    }

    private RunIdentity.ModelHashes modelHashes() throws IOException {
        if (modelHashes == null) modelHashes = RunIdentity.model(config.model(), modelDir());
        return modelHashes;
    }

    /** The one backend of this runner: named in every fingerprint, used by every encoder it loads. */
    private Kernels kernels() {
        if (kernels == null) kernels = Kernels.fromSystemProperty();
        return kernels;
    }

    /** The task's data: a GLUE task id (needs glue_dir) or a built-in task name. */
    public TaskData taskData(String task, int maxTrain) throws IOException {
        ExperimentConfig.DataFiles files = config.datasets().get(task);
        if (files != null) {
            return TaskData.files(Path.of(files.trainFile()), Path.of(files.validationFile()),
                    files.testFile() == null ? null : Path.of(files.testFile()), files.options(), maxTrain);
        }
        if (BuiltinTasks.names().contains(task)) {
            TaskData d = TaskData.builtin(task);
            return maxTrain > 0 ? d.truncateTrain(maxTrain) : d;
        }
        GlueTask g;
        try {
            g = GlueTask.fromName(task);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("task '" + task + "' is neither a GLUE task, a built-in task "
                    + BuiltinTasks.names() + " nor listed under datasets", e);
        }
        if (config.glueDir() == null) throw new IllegalArgumentException("task '" + task + "' needs glue_dir in the config");
        return TaskData.glue(g, Path.of(config.glueDir()), maxTrain);
    }

    /** {@link #taskData}, keeping the last one loaded (runs are sorted by task, so consecutive runs share it). */
    private TaskData data(String task, int maxTrain) throws IOException {
        String key = task + "#" + maxTrain;
        if (!key.equals(dataKey)) {
            data = taskData(task, maxTrain);
            dataKey = key;
        }
        return data;
    }

    /** The splits a run reads: train, then every dev split. */
    private static List<Dataset> splits(TaskData d) {
        List<Dataset> l = new ArrayList<>(List.of(d.train()));
        l.addAll(d.devs());
        return l;
    }

    /**
     * The variability analysis of a task and its recommendation: computed once, then read back while its fingerprint
     * (model, tokenizer, examples, pooling, variant, max_length, max_examples, ...) is unchanged.
     *
     * @throws ResultGuard.ChangedResultsException when the directory holds an analysis of other inputs and
     *                                             rerunChanged is off
     */
    public Analysis.Stored variability(String task) throws IOException {
        Analysis.Stored known = variabilities.get(task);
        if (known != null) return known;
        ExperimentConfig.Variability v = config.variability();
        String name = task + "-" + v.pooling().spelling() + "-" + v.variant().spelling();
        Path dir = out.resolve("variability").resolve(name);
        // shards of one sweep share this directory: one computes nu while the others wait for it, then read it
        Files.createDirectories(dir.getParent());
        try (FileChannel ch = FileChannel.open(dir.resolveSibling("." + name + ".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock lock = ch.lock()) {
            Analysis.Stored stored = variabilityLocked(task, v, dir);
            variabilities.put(task, stored);
            return stored;
        }
    }

    /** {@link #variability} while holding the directory's lock. */
    private Analysis.Stored variabilityLocked(String task, ExperimentConfig.Variability v, Path dir) throws IOException {
        Path json = dir.resolve("variability.json");
        TaskData d = data(task, v.maxExamples());
        VariabilityPass.Options o = new VariabilityPass.Options(v.maxLength(), 32, v.pooling(), v.variant(),
                VariabilityPass.DEFAULT_RESERVOIR_PER_CLASS, 17L, null, 20);
        Variant variant = v.variant();
        Fingerprint fp = RunIdentity.variability(modelHashes(), task, d.train(), v.maxExamples(), o, variant, kernels());
        ResultGuard.Check c = ResultGuard.check(dir, fp, ResultGuard.contents(dir));
        if (c.state() == ResultGuard.State.CHANGED) {
            if (!rerunChanged) {
                throw new ResultGuard.ChangedResultsException(ResultGuard.describe(out, "variability analysis",
                        "variability analyses",
                        List.of(c), "recompute it with --rerun-changed"));
            }
            Path aside = ResultGuard.moveAside(out, List.of(dir));
            log.printf("variability of %s: inputs changed (%s): the old analysis is now in %s%n", task,
                    String.join("; ", c.changes()), aside.resolve(out.relativize(dir)));
        }
        JsonNode j = c.state() == ResultGuard.State.SAME && Files.exists(json) ? AtomicFiles.JSON.readTree(json.toFile()) : null;
        if (j == null || !fp.sha256().equals(j.path("fingerprint_sha256").asText())) {
            ResultGuard.record(dir, fp);                                  // before the pass writes its checkpoint
            Path md = modelDir();
            Tokenizer tok = Tokenizers.load(md);
            Encoder enc = Encoder.load(md, kernels());
            log.printf("variability of %s on %s (%d examples)%n", config.model(), task, d.train().examples().size());
            LongConsumer progress = passProgress == null ? null
                    : passProgress.create("variability " + task, d.train().examples().size());
            Analysis.Result r = Analysis.run(config.model(), task, enc, tok, d, o, dir, progress);
            Analysis.printTable(log, r.report(), r.recommendation());
            j = stamp(json, fp);
        }
        return Analysis.Stored.of(json, j);
    }

    /** Adds the fingerprint to a JSON result file written without it; returns the stamped content. */
    public static JsonNode stamp(Path json, Fingerprint fp) throws IOException {
        ObjectNode o = (ObjectNode) AtomicFiles.JSON.readTree(json.toFile());
        fp.writeTo(o);
        AtomicFiles.writeJson(json, o);
        return o;
    }

    /**
     * Resolves a run into its training config and {@link LayerPlan} (head_layer {@code auto} = l* of the task's
     * {@link Analysis.Stored}), fingerprints it, and checks its directory. A k above the tuned block's top is planned
     * with k = that top and skipped by {@link #runOne}.
     */
    private Planned plan(RunSpec r) throws IOException {
        Path dir = out.resolve("runs").resolve(r.id());
        int L = EncoderConfig.read(modelDir()).numHiddenLayers();
        String where = r.id() + ": ";
        OptionalInt asked = r.headLayer().equals("auto") ? OptionalInt.of(variability(r.task()).headLayer())
                : LayerPlan.parseHeadLayer(where + "head_layer", r.headLayer());
        TuningMode mode = Spelled.parse(TuningMode.class, r.mode(), "method '" + r.method() + "': mode");
        ExperimentConfig.Train t = config.trainFor(r.task(), r.method());
        int head = asked.orElse(L);
        OptionalInt last = t.tuneLastLayer() == null ? OptionalInt.empty() : OptionalInt.of(t.tuneLastLayer());
        // the head on the top layer is stored as 'top' (so a guided l* = L is the top-k run), a block ending at the
        // head as no tune_last_layer, and partial tuning of the k layers under a head on the top layer as top-k
        TrainConfig.Builder b = t.applyTo(TrainConfig.builder().mode(mode)).seed(r.seed())
                .headLayer(head == L ? OptionalInt.empty() : asked);
        if (last.isPresent() && last.getAsInt() != head) b.tuneLastLayer(last.getAsInt());
        boolean blockAtTop = head == L && (last.isEmpty() || last.getAsInt() == L);
        if (mode == TuningMode.PARTIAL && blockAtTop) b.mode(TuningMode.TOP_K);
        if (mode.usesK()) b.tuneLayers(Math.min(r.k(), last.orElse(head)));   // k > the block's top: skipped
        TrainConfig tc;
        LayerPlan plan;
        try {
            tc = b.build();
            plan = tc.layerPlan(L);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
        String key = r.task() + "#" + t.maxTrainExamples();
        String examples = exampleHashes.get(key);
        if (examples == null) {
            examples = RunIdentity.examples(splits(data(r.task(), t.maxTrainExamples())));
            exampleHashes.put(key, examples);
        }
        Fingerprint fp = RunIdentity.training(modelHashes(), r.task(), examples, t.maxTrainExamples(), tc, r.method(),
                r.k(), r.seed(), plan.headLayer(), kernels());
        return new Planned(r, dir, plan, t, tc, fp, ResultGuard.check(dir, fp, ResultGuard.contents(dir)));
    }

    private JsonNode runOne(Planned p) throws IOException {
        RunSpec r = p.spec();
        Path dir = p.dir();
        LayerPlan plan = p.plan();
        TrainConfig tc = p.tc();
        ResultGuard.record(dir, p.fingerprint());                     // before anything else lands in the directory
        ObjectNode res = AtomicFiles.JSON.createObjectNode();
        res.put("id", r.id());
        res.put("experiment", config.name());
        res.put("model", config.model());
        res.put("task", r.task());
        res.put("method", r.method());
        res.put("mode", r.mode());
        res.put("head_rule", r.headLayer());                  // auto | top | a number: how the report pairs methods
        res.put("k", r.k());
        res.put("seed", r.seed());
        res.put("head_layer", plan.headLayer());
        res.put("num_hidden_layers", plan.numLayers());
        p.fingerprint().writeTo(res);
        if (plan.mode().usesK() && r.k() > plan.lastTuned()) {  // e.g. guided k = 4 with l* = 2: no such block
            res.put("status", SKIPPED);
            res.put("reason", "k = " + r.k() + " exceeds " + (plan.lastTuned() == plan.headLayer() ? "the head layer "
                    : "tune_last_layer ") + plan.lastTuned());
            AtomicFiles.writeJson(dir.resolve("result.json"), res);
            log.printf("  skipped: %s%n", res.get("reason").asText());
            return res;
        }
        JsonNode same = findDone(p.fingerprint(), r.id());
        if (same != null) {                                    // e.g. guided with l* = L equals top-k with the same k
            for (String key : new String[] {"status", "tune_layers", "main_metric", "best_epoch", "best_dev", "score",
                    "trainable_parameters", "full_parameters", "trainable_fraction", "uses_prefix_cache",
                    "relative_compute", "seconds", "epochs"}) {
                if (same.has(key)) res.set(key, same.get(key));
            }
            res.put("equivalent_to", same.get("id").asText());
            AtomicFiles.writeJson(dir.resolve("result.json"), res);
            log.printf("  same training as %s (resolved head layer %d): result reused%n", same.get("id").asText(),
                    plan.headLayer());
            return res;
        }
        Path md = modelDir();
        Encoder enc = Encoder.load(md, kernels(), plan.headLayer());      // layers above the head dropped
        Tokenizer tok = Tokenizers.load(md);
        TaskData data = data(r.task(), p.train().maxTrainExamples());
        String examples = RunIdentity.examples(splits(data));
        if (!examples.equals(p.fingerprint().get("examples").asText())) {
            throw new IllegalStateException(r.id() + ": the data of task " + r.task() + " changed while the sweep ran"
                    + " (examples " + p.fingerprint().get("examples").asText() + " -> " + examples + "); rerun the sweep");
        }
        TokenizedDataset train = TokenizedSplits.of(data.train(), "train", tok, tc.maxLength());
        List<TokenizedDataset> devs = new ArrayList<>();
        for (Dataset d : data.devs()) devs.add(TokenizedSplits.of(d, d.split(), tok, tc.maxLength()));
        SequenceClassifier clf = Classifiers.build(enc, tc, plan, data.numLabels());
        Map<String, String> info = new LinkedHashMap<>();
        info.put("model", config.model());
        info.put("experiment", config.name());
        info.put("run", r.id());
        info.put("fingerprint_sha256", p.fingerprint().sha256());   // the trainer resumes only this run's checkpoint
        ObjectNode resolved = AtomicFiles.JSON.valueToTree(tc.toMap());
        resolved.put("task", r.task());
        resolved.put("head_layer_resolved", plan.headLayer());
        RunEnvironment.write(dir, argv, enc.kernels().name(), resolved);
        Trainer trainer = new Trainer(tc, plan, clf, train, devs, data.name(), data.mainMetric(), dir, info, listener);
        long t0 = System.nanoTime();
        TrainResult tr = trainer.run();
        double seconds = (System.nanoTime() - t0) / 1e9;

        long total = fullParameters(EncoderConfig.read(md), data.numLabels());
        res.put("status", DONE);
        res.put("tune_layers", plan.tunedLayerCount());
        res.put("main_metric", data.mainMetric());
        res.put("best_epoch", tr.bestEpoch());
        res.set("best_dev", AtomicFiles.JSON.valueToTree(tr.bestDev()));
        res.put("score", tr.bestDev().getOrDefault(data.mainMetric(), Double.NaN));
        res.put("trainable_parameters", tr.trainableParameters());
        res.put("full_parameters", total);
        res.put("trainable_fraction", (double) tr.trainableParameters() / total);
        res.put("uses_prefix_cache", plan.cachesPrefix());
        res.put("relative_compute", plan.relativeCompute());   // (forward + 2·tuned layers) / 3L of a training step
        res.put("seconds", seconds);
        res.put("epochs", tr.epochs().size());
        res.put("metrics_file", dir.relativize(tr.metricsFile()).toString());
        AtomicFiles.writeJson(dir.resolve("result.json"), res);
        log.printf(Locale.ROOT, "  %s = %.4f (epoch %d), %.1f s, %d trainable parameters%n", data.mainMetric(),
                res.get("score").asDouble(), tr.bestEpoch(), seconds, tr.trainableParameters());
        return res;
    }

    /**
     * A finished, trained run (other than {@code id}) whose fingerprint equals {@code fp} but for the method label
     * (same model, data, resolved training config, k, seed, head layer, numerics), or null.
     */
    private JsonNode findDone(Fingerprint fp, String id) throws IOException {
        Path runs = out.resolve("runs");
        if (!Files.isDirectory(runs)) return null;
        String want = fp.without(LABEL).sha256();
        for (Path p : AtomicFiles.find(runs, "result.json")) {               // other shards write here meanwhile
            JsonNode j = AtomicFiles.JSON.readTree(p.toFile());
            boolean trained = DONE.equals(j.path("status").asText()) && !j.has("equivalent_to");
            if (!trained || id.equals(j.path("id").asText())) continue;
            Fingerprint other = Fingerprint.fromJson(j.get("fingerprint"), p.toString());
            if (other != null && want.equals(other.without(LABEL).sha256())) return j;
        }
        return null;
    }

    /** Parameters of the whole model under full fine-tuning: embeddings, L layers, pooler-sized head, classifier. */
    static long fullParameters(EncoderConfig c, int numLabels) {
        long C = c.hiddenSize();
        long emb = (long) (c.vocabSize() + c.maxPositionEmbeddings() + c.typeVocabSize()) * C + 2 * C;
        return emb + c.numHiddenLayers() * LayerSelection.layerParams(c) + (C * C + C) + (C * numLabels + numLabels);
    }
}

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
import org.varitune.metrics.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.models.ModelResolver;
import org.varitune.transformer.models.ProgressListener;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Runs the runs of an experiment config (or one shard of them), each in its own directory
 * {@code <out>/runs/<task>/<method>-k<k>/seed-<s>/}: nu is computed once per (model, task, pooling, variant) under
 * {@code <out>/variability/<task>/} and reused to resolve {@code head_layer: auto}; a run whose {@code result.json}
 * says done is skipped, and an interrupted run resumes from its trainer checkpoint, so a killed sweep resumes without
 * redoing finished work.
 */
public final class SweepRunner {
    /** Run status in result.json. */
    public static final String DONE = "done", SKIPPED = "skipped";

    private final ExperimentConfig config;
    private final Path out;
    private final List<String> argv;
    private final PrintStream log;
    private final TrainListener listener;
    private final LongConsumerFactory passProgress;
    private final Map<String, Path> modelDirs = new HashMap<>();

    /** Creates a progress consumer for a variability pass over {@code total} examples (may return null). */
    public interface LongConsumerFactory { LongConsumer create(String label, long total); }

    public SweepRunner(ExperimentConfig config, Path out, List<String> argv, PrintStream log, TrainListener listener,
                       LongConsumerFactory passProgress) {
        this.config = config;
        this.out = out;
        this.argv = List.copyOf(argv);
        this.log = log;
        this.listener = listener;
        this.passProgress = passProgress;
    }

    /** Runs shard {@code i} of {@code n} (0/1 = everything). Returns the results of this shard's runs, in order. */
    public List<JsonNode> run(int shard, int shards) throws IOException {
        List<RunSpec> runs = RunSpec.shard(RunSpec.expand(config), shard, shards);
        List<JsonNode> results = new ArrayList<>();
        int i = 0;
        for (RunSpec r : runs) {
            i++;
            Path dir = out.resolve("runs").resolve(r.id());
            Path result = dir.resolve("result.json");
            if (Files.exists(result)) {
                JsonNode j = AtomicFiles.JSON.readTree(result.toFile());
                if (DONE.equals(j.path("status").asText()) || SKIPPED.equals(j.path("status").asText())) {
                    log.printf("[%d/%d] %s: already %s%n", i, runs.size(), r.id(), j.path("status").asText());
                    results.add(j);
                    continue;
                }
            }
            log.printf("[%d/%d] %s%n", i, runs.size(), r.id());
            results.add(runOne(r, dir));
        }
        return results;
    }

    private Path modelDir() throws IOException {
        Path p = modelDirs.get(config.model());
        if (p == null) {
            p = ModelResolver.resolve(config.model(), ProgressListener.NONE);
            modelDirs.put(config.model(), p);
        }
        return p;
    }

    /** The task's data: a GLUE task id (needs glue_dir) or a built-in task name. */
    public TaskData taskData(String task, int maxTrain) throws IOException {
        if (BuiltinTasks.names().contains(task)) {
            TaskData d = TaskData.builtin(task);
            return maxTrain > 0 ? d.truncateTrain(maxTrain) : d;
        }
        GlueTask g;
        try {
            g = GlueTask.fromName(task);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("task '" + task + "' is neither a GLUE task nor a built-in task "
                    + BuiltinTasks.names(), e);
        }
        if (config.glueDir() == null) throw new IllegalArgumentException("task '" + task + "' needs glue_dir in the config");
        return TaskData.glue(g, Path.of(config.glueDir()), maxTrain);
    }

    /** The variability analysis of a task (computed once, then read back), and its recommendation. */
    public JsonNode variability(String task) throws IOException {
        ExperimentConfig.Variability v = config.variability();
        Path dir = out.resolve("variability").resolve(task + "-" + v.pooling().toLowerCase(Locale.ROOT) + "-"
                + v.variant().toLowerCase(Locale.ROOT));
        Path json = dir.resolve("variability.json");
        if (!Files.exists(json)) {
            Path md = modelDir();
            Tokenizer tok = Tokenizers.load(md);
            Encoder enc = Encoder.load(md, Kernels.fromSystemProperty());
            TaskData data = taskData(task, v.maxExamples());
            log.printf("variability of %s on %s (%d examples)%n", config.model(), task, data.train().examples().size());
            VariabilityPass.Options o = new VariabilityPass.Options(config.trainFor(task, config.methods().get(0).name())
                    .maxLength(), 32, Pooling.valueOf(v.pooling()), Variant.valueOf(v.variant()),
                    VariabilityPass.DEFAULT_RESERVOIR_PER_CLASS, 17L, null, 20);
            LongConsumer progress = passProgress == null ? null
                    : passProgress.create("variability " + task, data.train().examples().size());
            Analysis.Result r = Analysis.run(config.model(), task, enc, tok, data, o, dir,
                    progress);
            Analysis.printTable(log, r.report(), r.recommendation());
        }
        return AtomicFiles.JSON.readTree(json.toFile());
    }

    private JsonNode runOne(RunSpec r, Path dir) throws IOException {
        Path md = modelDir();
        EncoderConfig full = EncoderConfig.read(md);
        int L = full.numHiddenLayers();
        int head = switch (r.headLayer()) {
            case "top" -> L;
            case "auto" -> variability(r.task()).path("recommendation").path("head_layer").asInt();
            default -> Integer.parseInt(r.headLayer());
        };
        TuningMode mode = switch (r.mode()) {
            case "full" -> TuningMode.FULL;
            case "top-k" -> TuningMode.TOP_K;
            case "partial" -> TuningMode.PARTIAL;
            case "adapters" -> TuningMode.ADAPTERS;
            case "probe" -> TuningMode.PROBE;
            default -> throw new IllegalArgumentException("unknown mode " + r.mode());
        };
        ObjectNode res = AtomicFiles.JSON.createObjectNode();
        res.put("id", r.id());
        res.put("experiment", config.name());
        res.put("model", config.model());
        res.put("task", r.task());
        res.put("method", r.method());
        res.put("mode", r.mode());
        res.put("k", r.k());
        res.put("seed", r.seed());
        res.put("head_layer", head);
        res.put("num_hidden_layers", L);
        if (head < 1 || head > L) throw new IllegalArgumentException(r.id() + ": head layer " + head + " outside 1.." + L);
        if (r.k() > head) {                                    // e.g. guided k = 4 with l* = 2: no such block
            res.put("status", SKIPPED);
            res.put("reason", "k = " + r.k() + " exceeds the head layer " + head);
            AtomicFiles.writeJson(dir.resolve("result.json"), res);
            log.printf("  skipped: %s%n", res.get("reason").asText());
            return res;
        }
        ExperimentConfig.Train t = config.trainFor(r.task(), r.method());
        TrainConfig.Builder b = TrainConfig.builder().mode(mode).epochs(t.epochs()).lr(t.lr()).batchSize(t.batchSize())
                .maxLength(t.maxLength()).warmupRatio(t.warmupRatio()).weightDecay(t.weightDecay())
                .maxGradNorm(t.maxGradNorm()).adapterBottleneck(t.adapterSize()).earlyStoppingPatience(t.earlyStopping())
                .seed(r.seed());
        if (mode == TuningMode.FULL || mode == TuningMode.TOP_K) b.headLayer(0);
        else b.headLayer(head == L ? 0 : head);
        if (mode != TuningMode.FULL && mode != TuningMode.PROBE) b.tuneLayers(r.k());
        // partial tuning of the k layers ending at the top layer is top-k tuning: same run
        if (mode == TuningMode.PARTIAL && head == L) b.mode(TuningMode.TOP_K).headLayer(0);
        TrainConfig tc = b.build();
        String signature = config.model() + "|" + r.task() + "|" + t.maxTrainExamples() + "|" + tc.toMap();
        res.put("signature", signature);
        JsonNode same = findDone(signature, r.id());
        if (same != null) {                                    // e.g. guided with l* = L equals top-k with the same k
            for (String key : new String[] {"status", "tune_layers", "main_metric", "best_epoch", "best_dev", "score",
                    "trainable_parameters", "full_parameters", "trainable_fraction", "uses_prefix_cache",
                    "relative_compute", "seconds", "epochs"}) {
                if (same.has(key)) res.set(key, same.get(key));
            }
            res.put("equivalent_to", same.get("id").asText());
            AtomicFiles.writeJson(dir.resolve("result.json"), res);
            log.printf("  same training as %s (resolved head layer %d): result reused%n", same.get("id").asText(), head);
            return res;
        }
        int keep = tc.headLayer() == 0 ? -1 : tc.headLayer();
        Encoder enc = Encoder.load(md, Kernels.fromSystemProperty(), keep);
        Tokenizer tok = Tokenizers.load(md);
        TaskData data = taskData(r.task(), t.maxTrainExamples());
        TokenizedDataset train = TokenizedSplits.of(data.train(), "train", tok, tc.maxLength());
        List<TokenizedDataset> devs = new ArrayList<>();
        for (Dataset d : data.devs()) devs.add(TokenizedSplits.of(d, d.split(), tok, tc.maxLength()));
        SequenceClassifier clf = Classifiers.build(enc, tc, data.numLabels());
        Map<String, String> info = new LinkedHashMap<>();
        info.put("model", config.model());
        info.put("experiment", config.name());
        info.put("run", r.id());
        ObjectNode resolved = AtomicFiles.JSON.valueToTree(tc.toMap());
        resolved.put("task", r.task());
        resolved.put("head_layer_resolved", head);
        RunEnvironment.write(dir, argv, enc.kernels().name(), resolved);
        Trainer trainer = new Trainer(tc, clf, train, devs, data.name(), data.mainMetric(), dir, info, listener);
        long t0 = System.nanoTime();
        TrainResult tr = trainer.run();
        double seconds = (System.nanoTime() - t0) / 1e9;

        int tuned = trainer.tunedLayerCount();
        int fwdLayers = trainer.usesCache() ? head - trainer.fromLayer() : head;
        long total = fullParameters(full, data.numLabels());
        res.put("status", DONE);
        res.put("tune_layers", tuned);
        res.put("main_metric", data.mainMetric());
        res.put("best_epoch", tr.bestEpoch());
        res.set("best_dev", AtomicFiles.JSON.valueToTree(tr.bestDev()));
        res.put("score", tr.bestDev().getOrDefault(data.mainMetric(), Double.NaN));
        res.put("trainable_parameters", tr.trainableParameters());
        res.put("full_parameters", total);
        res.put("trainable_fraction", (double) tr.trainableParameters() / total);
        res.put("uses_prefix_cache", trainer.usesCache());
        // compute of a training step relative to full fine-tuning (forward ≈ 1, backward ≈ 2 units per layer)
        res.put("relative_compute", (fwdLayers + 2.0 * tuned) / (3.0 * L));
        res.put("seconds", seconds);
        res.put("epochs", tr.epochs().size());
        res.put("metrics_file", dir.relativize(tr.metricsFile()).toString());
        AtomicFiles.writeJson(dir.resolve("result.json"), res);
        log.printf(Locale.ROOT, "  %s = %.4f (epoch %d), %.1f s, %d trainable parameters%n", data.mainMetric(),
                res.get("score").asDouble(), tr.bestEpoch(), seconds, tr.trainableParameters());
        return res;
    }

    /** A finished run (other than {@code id}) with the same resolved training, or null. */
    private JsonNode findDone(String signature, String id) throws IOException {
        Path runs = out.resolve("runs");
        if (!Files.isDirectory(runs)) return null;
        try (var s = Files.walk(runs)) {
            for (Path p : s.filter(p -> p.getFileName().toString().equals("result.json")).sorted().toList()) {
                JsonNode j = AtomicFiles.JSON.readTree(p.toFile());
                if (DONE.equals(j.path("status").asText()) && signature.equals(j.path("signature").asText())
                        && !id.equals(j.path("id").asText()) && !j.has("equivalent_to")) {
                    return j;
                }
            }
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

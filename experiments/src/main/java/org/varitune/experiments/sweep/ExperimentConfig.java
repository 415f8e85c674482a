package org.varitune.experiments.sweep;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.varitune.training.Pooling;
import org.varitune.training.trainer.PrefixCachePolicy;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.layers.Adapter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One experiment file (YAML), e.g. one paper table: a model, tasks, tuning methods, seeds and hyperparameters.
 * Strict: an unknown key, a missing required key or a value of the wrong type is an error naming the key, the file and
 * the line. Paths may use {@code ${NAME}} placeholders resolved from {@code --set NAME=value} or the environment.
 *
 * @param name         the experiment's name (required)
 * @param model        built-in model name or HF model directory (required)
 * @param glueDir      GLUE directory for GLUE tasks (null when every task is built-in)
 * @param tasks        GLUE task ids ({@code cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli}) or built-in names
 *                     (required, non-empty)
 * @param seeds        seeds, one run per seed (default [1, 2, 3])
 * @param methods      tuning methods (required, non-empty)
 * @param variability  how nu is computed for the guided methods (defaults: see {@link Variability})
 * @param train        hyperparameters shared by every run (defaults: see {@link Train})
 * @param taskOverrides per-task hyperparameter overrides: task id -> Train fields to change (default none)
 */
public record ExperimentConfig(
        @JsonProperty(value = "name", required = true) String name,
        @JsonProperty(value = "model", required = true) String model,
        @JsonProperty("glue_dir") String glueDir,
        @JsonProperty(value = "tasks", required = true) List<String> tasks,
        @JsonProperty("seeds") List<Long> seeds,
        @JsonProperty(value = "methods", required = true) List<Method> methods,
        @JsonProperty("variability") Variability variability,
        @JsonProperty("train") Train train,
        @JsonProperty("task_overrides") Map<String, Train> taskOverrides) {

    public ExperimentConfig {
        if (tasks == null || tasks.isEmpty()) throw new IllegalArgumentException("'tasks' must list at least one task");
        if (methods == null || methods.isEmpty()) throw new IllegalArgumentException("'methods' must list at least one method");
        seeds = seeds == null ? List.of(1L, 2L, 3L) : List.copyOf(seeds);
        if (seeds.isEmpty()) throw new IllegalArgumentException("'seeds' must not be empty");
        variability = variability == null ? Variability.DEFAULTS : variability;
        train = train == null ? Train.DEFAULTS : Train.DEFAULTS.overriddenBy(train);
        taskOverrides = taskOverrides == null ? Map.of() : Map.copyOf(taskOverrides);
        for (String t : taskOverrides.keySet()) {
            if (!tasks.contains(t)) throw new IllegalArgumentException("task_overrides names '" + t + "', which is not in tasks " + tasks);
        }
        for (Method m : methods) {
            if (methods.stream().filter(o -> o.name().equals(m.name())).count() > 1) {
                throw new IllegalArgumentException("method name '" + m.name() + "' is used twice");
            }
        }
    }

    /**
     * A tuning method.
     *
     * @param name      label in reports (required), e.g. {@code full}, {@code top-k}, {@code guided}
     * @param mode      {@code full | top-k | partial | adapters | probe} (required)
     * @param headLayer {@code auto} = the variability-guided l* (argmin nu), {@code top} = L, or a number (default top)
     * @param k         numbers of tuned layers, one run each (required except for full and probe)
     * @param train     hyperparameters of this method's runs, overriding the shared and per-task ones (default none)
     */
    public record Method(@JsonProperty(value = "name", required = true) String name,
                         @JsonProperty(value = "mode", required = true) String mode,
                         @JsonProperty("head_layer") String headLayer,
                         @JsonProperty("k") List<Integer> k,
                         @JsonProperty("train") Train train) {
        static final List<String> MODES = List.of("full", "top-k", "partial", "adapters", "probe");

        public Method {
            if (!MODES.contains(mode)) throw new IllegalArgumentException("method '" + name + "': mode '" + mode + "' is not one of " + MODES);
            headLayer = headLayer == null ? "top" : headLayer;
            if (!headLayer.equals("auto") && !headLayer.equals("top") && !headLayer.matches("\\d+")) {
                throw new IllegalArgumentException("method '" + name + "': head_layer must be auto, top or a layer number, got '" + headLayer + "'");
            }
            boolean needsK = !mode.equals("full") && !mode.equals("probe");
            if (needsK && (k == null || k.isEmpty())) throw new IllegalArgumentException("method '" + name + "' (" + mode + ") needs k: [..]");
            if (!needsK && k != null && !k.isEmpty()) throw new IllegalArgumentException("method '" + name + "' (" + mode + ") takes no k");
            k = k == null ? List.of(0) : List.copyOf(k);
        }
    }

    /**
     * @param pooling     MEAN_NON_SPECIAL (default), CLS or MEAN_NON_PAD
     * @param variant     PAPER_CLASS_BALANCED (default) or PAPYAN_SAMPLE_WEIGHTED
     * @param maxExamples training examples used for nu, first N in file order (default 0 = all)
     */
    public record Variability(@JsonProperty("pooling") String pooling, @JsonProperty("variant") String variant,
                              @JsonProperty("max_examples") Integer maxExamples) {
        static final Variability DEFAULTS = new Variability("MEAN_NON_SPECIAL", "PAPER_CLASS_BALANCED", 0);

        public Variability {
            pooling = pooling == null ? "MEAN_NON_SPECIAL" : pooling;
            variant = variant == null ? "PAPER_CLASS_BALANCED" : variant;
            maxExamples = maxExamples == null ? 0 : maxExamples;
        }
    }

    /**
     * Hyperparameters; a null field means "inherit" in overrides, and where it is still null for a run, the
     * {@code TrainConfig} default. The values of {@link #DEFAULTS} are this project's choices, not the paper's (its
     * appendix values are not available offline) nor the authors' scripts' (see {@code configs/authors/}): max length
     * 128, batch 32, AdamW lr 2e-5, linear decay after 6% warmup, weight decay 0.1, 10 epochs, clipping at 1.0,
     * adapter bottleneck 64.
     *
     * @param warmupSteps      warmup length in updates, overriding warmup_ratio (default: the ratio)
     * @param tuneLastLayer    M, the top layer (1-based) of the tuned block of partial / adapters runs; default the head
     *                         layer. Layers M+1..head then run frozen under the head.
     * @param headPooling      what the head pools: {@code first-token} (HF's heads), {@code mean} (text tokens) or
     *                         {@code mean-with-special} (every attended token); default the trainer's
     * @param prefixPolicy     the frozen layers below the tuned block: {@code cached} (evaluation mode, computed once),
     *                         {@code recompute} (evaluation mode, every step) or {@code authors-dropout} (training mode:
     *                         dropout on, as in the authors' scripts); default the trainer's
     * @param attentionAdapter the adapter after {@code attention.output.dense} (adapters runs); {@code size: 0} = none
     * @param outputAdapter    the adapter after {@code output.dense} (the FFN); {@code size: 0} = none
     */
    public record Train(@JsonProperty("epochs") Integer epochs,
                        @JsonProperty("lr") Double lr,
                        @JsonProperty("batch_size") Integer batchSize,
                        @JsonProperty("max_length") Integer maxLength,
                        @JsonProperty("warmup_ratio") Double warmupRatio,
                        @JsonProperty("weight_decay") Double weightDecay,
                        @JsonProperty("max_grad_norm") Double maxGradNorm,
                        @JsonProperty("adapter_size") Integer adapterSize,
                        @JsonProperty("max_train_examples") Integer maxTrainExamples,
                        @JsonProperty("early_stopping") Integer earlyStopping,
                        @JsonProperty("warmup_steps") Integer warmupSteps,
                        @JsonProperty("tune_last_layer") Integer tuneLastLayer,
                        @JsonProperty("head_pooling") String headPooling,
                        @JsonProperty("prefix_policy") String prefixPolicy,
                        @JsonProperty("attention_adapter") AdapterSite attentionAdapter,
                        @JsonProperty("output_adapter") AdapterSite outputAdapter) {
        public static final Train DEFAULTS = new Train(10, 2e-5, 32, 128, 0.06, 0.1, 1.0, 64, 0, 0);
        static final List<String> HEAD_POOLINGS = List.of("first-token", "mean", "mean-with-special");
        static final List<String> PREFIX_POLICIES = List.of("cached", "recompute", "authors-dropout");

        public Train {
            if (headPooling != null && !HEAD_POOLINGS.contains(headPooling)) {
                throw new IllegalArgumentException("head_pooling '" + headPooling + "' is not one of " + HEAD_POOLINGS);
            }
            if (prefixPolicy != null && !PREFIX_POLICIES.contains(prefixPolicy)) {
                throw new IllegalArgumentException("prefix_policy '" + prefixPolicy + "' is not one of " + PREFIX_POLICIES);
            }
            if (warmupSteps != null && warmupSteps < 0) throw new IllegalArgumentException("warmup_steps " + warmupSteps + " must be >= 0");
            if (tuneLastLayer != null && tuneLastLayer < 1) {
                throw new IllegalArgumentException("tune_last_layer " + tuneLastLayer + " must be a layer number >= 1");
            }
        }

        /** The first ten keys only; the others unset. */
        public Train(Integer epochs, Double lr, Integer batchSize, Integer maxLength, Double warmupRatio,
                     Double weightDecay, Double maxGradNorm, Integer adapterSize, Integer maxTrainExamples,
                     Integer earlyStopping) {
            this(epochs, lr, batchSize, maxLength, warmupRatio, weightDecay, maxGradNorm, adapterSize, maxTrainExamples,
                    earlyStopping, null, null, null, null, null, null);
        }

        /**
         * Sets the fields this record holds on {@code b}, the others keep the builder's defaults. Not set here:
         * {@code tune_last_layer} (the caller knows the head layer) and {@code max_train_examples} (data, not training).
         * Modifies {@code b}; returns it.
         */
        public TrainConfig.Builder applyTo(TrainConfig.Builder b) {
            if (epochs != null) b.epochs(epochs);
            if (lr != null) b.lr(lr);
            if (batchSize != null) b.batchSize(batchSize);
            if (maxLength != null) b.maxLength(maxLength);
            if (warmupRatio != null) b.warmupRatio(warmupRatio);
            if (warmupSteps != null) b.warmupSteps(warmupSteps);
            if (weightDecay != null) b.weightDecay(weightDecay);
            if (maxGradNorm != null) b.maxGradNorm(maxGradNorm);
            if (earlyStopping != null) b.earlyStoppingPatience(earlyStopping);
            if (headPooling != null) {
                b.pooling(switch (headPooling) {
                    case "first-token" -> Pooling.Mode.FIRST_TOKEN;
                    case "mean" -> Pooling.Mode.MEAN_NON_SPECIAL;
                    default -> Pooling.Mode.MEAN_NON_PAD;                      // mean-with-special
                });
            }
            if (prefixPolicy != null) {
                b.cache(switch (prefixPolicy) {
                    case "cached" -> PrefixCachePolicy.AUTO;
                    case "recompute" -> PrefixCachePolicy.OFF;
                    default -> PrefixCachePolicy.AUTHORS_DROPOUT;              // authors-dropout
                });
            }
            int size = adapterSize != null ? adapterSize : 64;
            b.attentionAdapter(AdapterSite.resolve(attentionAdapter, size));
            b.outputAdapter(AdapterSite.resolve(outputAdapter, size));
            return b;
        }

        /** This record with every non-null field of {@code o} taking precedence (adapter sites field by field). */
        public Train overriddenBy(Train o) {
            return new Train(o.epochs != null ? o.epochs : epochs, o.lr != null ? o.lr : lr,
                    o.batchSize != null ? o.batchSize : batchSize, o.maxLength != null ? o.maxLength : maxLength,
                    o.warmupRatio != null ? o.warmupRatio : warmupRatio,
                    o.weightDecay != null ? o.weightDecay : weightDecay,
                    o.maxGradNorm != null ? o.maxGradNorm : maxGradNorm,
                    o.adapterSize != null ? o.adapterSize : adapterSize,
                    o.maxTrainExamples != null ? o.maxTrainExamples : maxTrainExamples,
                    o.earlyStopping != null ? o.earlyStopping : earlyStopping,
                    o.warmupSteps != null ? o.warmupSteps : warmupSteps,
                    o.tuneLastLayer != null ? o.tuneLastLayer : tuneLastLayer,
                    o.headPooling != null ? o.headPooling : headPooling,
                    o.prefixPolicy != null ? o.prefixPolicy : prefixPolicy,
                    AdapterSite.merge(attentionAdapter, o.attentionAdapter),
                    AdapterSite.merge(outputAdapter, o.outputAdapter));
        }
    }

    /**
     * One adapter site of adapters runs; a null field inherits (from an outer level, else from {@code adapter_size}
     * and the trainer's site defaults: near-identity init, after the dropout, no bottleneck dropout).
     *
     * @param size     bottleneck width; 0 = no adapter at this site
     * @param init     {@code near-identity} or {@code bert}
     * @param position {@code after-dropout} or {@code before-dropout} (of the dense the adapter follows)
     * @param dropout  dropout rate on the bottleneck activation, in [0, 1)
     */
    public record AdapterSite(@JsonProperty("size") Integer size, @JsonProperty("init") String init,
                              @JsonProperty("position") String position, @JsonProperty("dropout") Double dropout) {
        static final List<String> INITS = List.of("near-identity", "bert");
        static final List<String> POSITIONS = List.of("after-dropout", "before-dropout");

        public AdapterSite {
            if (size != null && size < 0) throw new IllegalArgumentException("adapter size " + size + " must be >= 0 (0 = none)");
            if (init != null && !INITS.contains(init)) throw new IllegalArgumentException("adapter init '" + init + "' is not one of " + INITS);
            if (position != null && !POSITIONS.contains(position)) {
                throw new IllegalArgumentException("adapter position '" + position + "' is not one of " + POSITIONS);
            }
            if (dropout != null && !(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("adapter dropout " + dropout + " outside [0, 1)");
        }

        /** The trainer's site: {@code houlsby(defaultSize)} overridden by the given fields; null for size 0. */
        static Adapter.Site resolve(AdapterSite s, int defaultSize) {
            if (s == null) return Adapter.Site.houlsby(defaultSize);
            int size = s.size != null ? s.size : defaultSize;
            if (size == 0) return null;
            return new Adapter.Site(size,
                    s.init == null ? Adapter.Init.NEAR_IDENTITY : Adapter.unkebab(Adapter.Init.class, "init", s.init),
                    s.position == null ? Adapter.Position.AFTER_DROPOUT : Adapter.unkebab(Adapter.Position.class, "position", s.position),
                    s.dropout == null ? 0 : s.dropout);
        }

        static AdapterSite merge(AdapterSite base, AdapterSite o) {
            if (o == null) return base;
            if (base == null) return o;
            return new AdapterSite(o.size != null ? o.size : base.size, o.init != null ? o.init : base.init,
                    o.position != null ? o.position : base.position, o.dropout != null ? o.dropout : base.dropout);
        }
    }

    /** The hyperparameters of one run: shared ones, then the task's overrides, then the method's. */
    public Train trainFor(String task, String methodName) {
        Train t = train;
        Train o = taskOverrides.get(task);
        if (o != null) t = t.overriddenBy(o);
        for (Method m : methods) if (m.name().equals(methodName) && m.train() != null) t = t.overriddenBy(m.train());
        return t;
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Reads a config, resolving {@code ${NAME}} from {@code vars} then the environment. */
    public static ExperimentConfig read(Path file, Map<String, String> vars) throws IOException {
        return parse(Files.readString(file), file, vars);
    }

    /** Parses config text; {@code source} names it in errors. */
    public static ExperimentConfig parse(String text, Path file, Map<String, String> vars) throws IOException {
        text = substitute(text, vars, file);
        try {
            return YAML.readValue(text, ExperimentConfig.class);
        } catch (UnrecognizedPropertyException e) {
            throw new IOException(file + ": unknown key '" + e.getPropertyName() + "' at " + keyLine(text, e.getPropertyName(), e)
                    + " (in " + path(e) + "); known keys: "
                    + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")), e);
        } catch (JsonMappingException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            String msg = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            throw new IOException(file + ": " + msg + " (at " + path(e) + ", " + where(e) + ")", e);
        }
    }

    /**
     * The line of the first occurrence of {@code key} used as a YAML key. Records are built through buffered tokens,
     * so Jackson's own location points past the offending object; the text search is exact for keys used once.
     */
    private static String keyLine(String text, String key, JsonMappingException e) {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile("(^|[\\s{,\\-])" + java.util.regex.Pattern.quote(key) + "\\s*:");
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].contains("#") ? lines[i].substring(0, lines[i].indexOf('#')) : lines[i];
            if (p.matcher(l).find()) return "line " + (i + 1);
        }
        return where(e);
    }

    private static String where(JsonMappingException e) {
        if (e.getProcessor() instanceof JsonParser p && p.getTokenLocation() != null) {
            return "line " + p.getTokenLocation().getLineNr();          // where the offending token starts
        }
        return e.getLocation() == null ? "unknown position" : "line " + e.getLocation().getLineNr();
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    static String substitute(String text, Map<String, String> vars, Path file) throws IOException {
        var m = java.util.regex.Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}").matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String key = m.group(1);
            String v = vars.containsKey(key) ? vars.get(key) : System.getenv(key);
            if (v == null) {
                throw new IOException(file + ": placeholder ${" + key + "} is not set: pass --set " + key + "=VALUE or export " + key);
            }
            m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}

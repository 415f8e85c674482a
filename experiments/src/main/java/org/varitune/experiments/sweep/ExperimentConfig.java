package org.varitune.experiments.sweep;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

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
        train = train == null ? Train.DEFAULTS : Train.DEFAULTS.overriddenBy(train);
        variability = variability == null ? Variability.DEFAULTS : variability;
        if (variability.maxLength() == null) {
            variability = new Variability(variability.pooling(), variability.variant(), variability.maxExamples(),
                    train.maxLength());
        }
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
     * @param maxLength   tokens per example in the nu pass (default: the shared {@code train.max_length}; null here
     *                    until the config resolves it)
     */
    public record Variability(@JsonProperty("pooling") String pooling, @JsonProperty("variant") String variant,
                              @JsonProperty("max_examples") Integer maxExamples,
                              @JsonProperty("max_length") Integer maxLength) {
        static final Variability DEFAULTS = new Variability("MEAN_NON_SPECIAL", "PAPER_CLASS_BALANCED", 0, null);

        public Variability {
            pooling = pooling == null ? "MEAN_NON_SPECIAL" : pooling;
            variant = variant == null ? "PAPER_CLASS_BALANCED" : variant;
            maxExamples = maxExamples == null ? 0 : maxExamples;
            if (maxLength != null && maxLength < 2) throw new IllegalArgumentException("variability max_length must be >= 2, got " + maxLength);
        }

        /** With max_length left to the shared {@code train.max_length}. */
        public Variability(String pooling, String variant, Integer maxExamples) {
            this(pooling, variant, maxExamples, null);
        }
    }

    /**
     * Hyperparameters; a null field means "inherit" in overrides. Defaults follow the paper's setup (RoBERTa GLUE
     * fine-tuning as in the authors' scripts): max length 128, batch 32, AdamW lr 2e-5, linear decay after 6% warmup,
     * weight decay 0.1, 10 epochs, clipping at 1.0, adapter bottleneck 64.
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
                        @JsonProperty("early_stopping") Integer earlyStopping) {
        public static final Train DEFAULTS = new Train(10, 2e-5, 32, 128, 0.06, 0.1, 1.0, 64, 0, 0);

        /** This record with every non-null field of {@code o} taking precedence. */
        public Train overriddenBy(Train o) {
            return new Train(o.epochs != null ? o.epochs : epochs, o.lr != null ? o.lr : lr,
                    o.batchSize != null ? o.batchSize : batchSize, o.maxLength != null ? o.maxLength : maxLength,
                    o.warmupRatio != null ? o.warmupRatio : warmupRatio,
                    o.weightDecay != null ? o.weightDecay : weightDecay,
                    o.maxGradNorm != null ? o.maxGradNorm : maxGradNorm,
                    o.adapterSize != null ? o.adapterSize : adapterSize,
                    o.maxTrainExamples != null ? o.maxTrainExamples : maxTrainExamples,
                    o.earlyStopping != null ? o.earlyStopping : earlyStopping);
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

package org.varitune.experiments.sweep;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import org.varitune.training.method.MethodOption;
import org.varitune.training.method.TuningMethods;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.training.TuningMode;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.io.Spelled;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One experiment file (YAML), e.g. one paper table: a model, tasks, tuning methods, seeds and hyperparameters.
 * Strict: an unknown key, a missing required key, a value of the wrong type or a misspelled value ({@link Spelled}: the
 * same spellings as the command line, e.g. {@code pooling: mean}) is an error naming the key, the file and the line,
 * raised when the file is read; so is a combination of hyperparameters {@link TrainConfig} rejects. Paths may use
 * {@code ${NAME}} placeholders resolved from {@code --set NAME=value} or the environment.
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
 * @param datasets     users' own tasks: task name (as listed in {@code tasks}) -> its data files and columns
 *                     ({@link DataFiles}; default none)
 * @param device       {@code cpu} or {@code cuda[:N]} (default: the process's, i.e. cpu); the command line's
 *                     {@code --device} wins
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
        @JsonProperty("task_overrides") Map<String, Train> taskOverrides,
        @JsonProperty("datasets") Map<String, DataFiles> datasets,
        @JsonProperty("device") String device) {

    /** The config without datasets and device (the fields added last). */
    public ExperimentConfig(String name, String model, String glueDir, List<String> tasks, List<Long> seeds,
                            List<Method> methods, Variability variability, Train train, Map<String, Train> taskOverrides) {
        this(name, model, glueDir, tasks, seeds, methods, variability, train, taskOverrides, null, null);
    }

    /**
     * A user's task from data files, read as {@code --train-file} etc. read them (CSV, TSV or JSON Lines; columns and
     * labels as HF {@code run_glue}).
     *
     * @param trainFile      required
     * @param validationFile required
     * @param testFile       optional, may lack the label column
     * @param textColumn     default: run_glue's rule; textPairColumn likewise; labelColumn default {@code label}
     * @param taskType       {@code classification}, {@code regression} or {@code auto} (default)
     */
    public record DataFiles(@JsonProperty(value = "train_file", required = true) String trainFile,
                            @JsonProperty(value = "validation_file", required = true) String validationFile,
                            @JsonProperty("test_file") String testFile,
                            @JsonProperty("text_column") String textColumn,
                            @JsonProperty("text_pair_column") String textPairColumn,
                            @JsonProperty("label_column") String labelColumn,
                            @JsonProperty("task_type") org.varitune.experiments.data.DataFileOptions.TaskType taskType) {
        public DataFiles {
            if (trainFile == null) throw new IllegalArgumentException("datasets: train_file is required");
            if (validationFile == null) throw new IllegalArgumentException("datasets: validation_file is required");
        }

        /** The reader's options. */
        public org.varitune.experiments.data.DataFileOptions options() {
            var d = org.varitune.experiments.data.DataFileOptions.DEFAULTS;
            return new org.varitune.experiments.data.DataFileOptions(textColumn, textPairColumn,
                    labelColumn != null ? labelColumn : d.labelColumn(), taskType != null ? taskType : d.taskType(), null);
        }
    }

    public ExperimentConfig {
        if (name == null) throw new IllegalArgumentException("'name' is required");
        if (model == null) throw new IllegalArgumentException("'model' is required");
        if (tasks == null || tasks.isEmpty()) throw new IllegalArgumentException("'tasks' must list at least one task");
        if (methods == null || methods.isEmpty()) throw new IllegalArgumentException("'methods' must list at least one method");
        noNulls("tasks", tasks);
        noNulls("methods", methods);
        noNulls("seeds", seeds);
        if (taskOverrides != null) noNulls("task_overrides", taskOverrides.values());
        seeds = seeds == null ? List.of(1L, 2L, 3L) : List.copyOf(seeds);
        if (seeds.isEmpty()) throw new IllegalArgumentException("'seeds' must not be empty");
        train = train == null ? Train.DEFAULTS : Train.DEFAULTS.overriddenBy(train);
        variability = variability == null ? Variability.DEFAULTS : variability;
        if (variability.maxLength() == null) {
            variability = new Variability(variability.pooling(), variability.variant(), variability.maxExamples(),
                    train.maxLength());
        }
        datasets = datasets == null ? Map.of() : Map.copyOf(datasets);
        for (String t : datasets.keySet()) {
            if (!tasks.contains(t)) throw new IllegalArgumentException("datasets names '" + t + "', which is not in tasks " + tasks);
        }
        if (device != null) org.varitune.transformer.kernels.cuda.Device.parse(device);   // malformed: an error at load
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

    /** Rejects a null element ({@code ~} or an empty item in YAML) of a list or map naming the key. */
    private static void noNulls(String key, java.util.Collection<?> values) {
        if (values != null && values.stream().anyMatch(java.util.Objects::isNull)) {  // List.of rejects contains(null)
            throw new IllegalArgumentException("'" + key + "' holds a null element (~ or an empty item): " + values);
        }
    }

    /**
     * A tuning method.
     *
     * @param name      label in reports (required), e.g. {@code full}, {@code top-k}, {@code guided}
     * @param mode      {@code full | top-k | partial | adapters | probe | lora} (required)
     * @param headLayer {@code auto} = the variability-guided l* (argmin nu), {@code top} = L, or a number (default top)
     * @param k         numbers of tuned layers, one run each (required except for full and probe)
     * @param train     hyperparameters of this method's runs, overriding the shared and per-task ones (default none)
     */
    public record Method(@JsonProperty(value = "name", required = true) String name,
                         @JsonProperty(value = "mode", required = true) String mode,
                         @JsonProperty("head_layer") String headLayer,
                         @JsonProperty("k") List<Integer> k,
                         @JsonProperty("train") Train train) {
        public Method {
            if (name == null) throw new IllegalArgumentException("a method needs a 'name'");
            if (mode == null) throw new IllegalArgumentException("method '" + name + "' needs a 'mode'");
            boolean needsK = Spelled.parse(TuningMode.class, mode, "method '" + name + "': mode").usesK();
            headLayer = headLayer == null ? "top" : headLayer;
            if (!headLayer.equals("auto") && !headLayer.equals("top") && !isLayerNumber(headLayer)) {
                throw new IllegalArgumentException("method '" + name + "': head_layer must be auto, top or a layer "
                        + "number in [1, 2^31 - 1], got '" + headLayer + "'");
            }
            noNulls("k", k);
            if (k != null && k.stream().anyMatch(x -> x < 1)) {
                throw new IllegalArgumentException("method '" + name + "': k values must be >= 1, got " + k);
            }
            if (needsK && (k == null || k.isEmpty())) throw new IllegalArgumentException("method '" + name + "' (" + mode + ") needs k: [..]");
            if (!needsK && k != null && !k.isEmpty()) throw new IllegalArgumentException("method '" + name + "' (" + mode + ") takes no k");
            k = k == null ? List.of(0) : List.copyOf(k);
        }

        private static boolean isLayerNumber(String s) {
            if (!s.matches("[0-9]{1,10}")) return false;
            long v = Long.parseLong(s);
            return v >= 1 && v <= Integer.MAX_VALUE;
        }
    }

    /**
     * How nu is computed; the same options as {@code varitune analyze}.
     *
     * @param pooling     nu's pooling ({@code analyze --pooling}): {@code mean} (default), {@code mean-with-special}
     *                    or {@code first-token}; not the head's, which is {@code train.head_pooling}
     * @param variant     {@code paper} (default) or {@code papyan} ({@code analyze --variant})
     * @param maxExamples training examples used for nu, first N in file order (default 0 = all)
     * @param maxLength   tokens per example in the nu pass (default: the shared {@code train.max_length}; null here
     *                    until the config resolves it)
     */
    public record Variability(@JsonProperty("pooling") Pooling pooling, @JsonProperty("variant") Variant variant,
                              @JsonProperty("max_examples") Integer maxExamples,
                              @JsonProperty("max_length") Integer maxLength) {
        /** The defaults, also {@code varitune analyze}'s: {@code mean}, {@code paper}, every example. */
        public static final Variability DEFAULTS = new Variability(null, null, null, null);

        public Variability {
            pooling = pooling == null ? Pooling.MEAN_NON_SPECIAL : pooling;
            variant = variant == null ? Variant.PAPER_CLASS_BALANCED : variant;
            maxExamples = maxExamples == null ? 0 : maxExamples;
            if (maxLength != null && maxLength < 2) throw new IllegalArgumentException("variability max_length must be >= 2, got " + maxLength);
        }

        /** With max_length left to the shared {@code train.max_length}. */
        public Variability(Pooling pooling, Variant variant, Integer maxExamples) {
            this(pooling, variant, maxExamples, null);
        }
    }

    /**
     * Hyperparameters, each key the {@code train} flag of the same name in snake case ({@code --head-pooling} =
     * {@code head_pooling}; {@code early_stopping} =
     * {@code --early-stopping}); a null field means "inherit" in overrides, and in the shared block "the default".
     * The defaults are {@link TrainConfig}'s, the same as {@code varitune train}'s (see its table): {@link #DEFAULTS}
     * is read from {@link TrainConfig#builder()}, with {@code lr} left unset so that each mode gets its default
     * ({@link TrainConfig#defaultLr}). {@code max_train_examples} (default 0 = all) truncates the training set. They
     * are this project's choices, not the paper's (its appendix values are not available offline) nor the authors'
     * scripts' (see {@code configs/authors/}).
     *
     * @param warmupSteps      warmup length in updates, overriding warmup_ratio (default: the ratio)
     * @param tuneLastLayer    M, the top layer (1-based) of the tuned block of partial / adapters runs; default the head
     *                         layer. Layers M+1..head then run frozen under the head.
     * @param headPooling      what the head pools: {@code first-token} (HF's heads), {@code mean} (text tokens) or
     *                         {@code mean-with-special} (every attended token); default {@code mean}
     * @param prefixPolicy     the frozen layers below the tuned block: {@code cached} (evaluation mode, computed once),
     *                         {@code recompute} (evaluation mode, every step) or {@code authors-dropout} (training mode:
     *                         dropout on, as the authors' scripts run them); default {@code cached}
     * @param methodOptions    the tuning methods' options, YAML key -> value as given (a list is joined with
     *                         commas, a map of values becomes {@code key=value,...}): every key a method declares
     *                         ({@link TuningMethods#allOptions()}; the adapters' {@code adapter_size},
     *                         {@code attention_adapter} and {@code output_adapter} as a map {@code {size: 32, init:
     *                         bert}} or its text, {@code adapter_activation}; LoRA's {@code lora_rank},
     *                         {@code lora_alpha}, {@code lora_dropout}, {@code lora_targets} as a list or a comma
     *                         string, {@code lora_layers}), read generically; any other key is an unknown key. Merged
     *                         key by key, each as its option merges ({@link MethodOption#merge}: an adapter site key by
     *                         key, others replaced). The shared block and task_overrides may hold options of any
     *                         method: each reaches only the runs of its method; a method's own {@code train:} may hold
     *                         only its mode's options.
     */
    public record Train(@JsonProperty("epochs") Integer epochs,
                        @JsonProperty("lr") Double lr,
                        @JsonProperty("batch_size") Integer batchSize,
                        @JsonProperty("max_length") Integer maxLength,
                        @JsonProperty("warmup_ratio") Double warmupRatio,
                        @JsonProperty("weight_decay") Double weightDecay,
                        @JsonProperty("max_grad_norm") Double maxGradNorm,
                        @JsonProperty("max_train_examples") Integer maxTrainExamples,
                        @JsonProperty("early_stopping") Integer earlyStopping,
                        @JsonProperty("warmup_steps") Integer warmupSteps,
                        @JsonProperty("grad_accumulation") Integer gradAccumulation,
                        @JsonProperty("head_pooling") Pooling headPooling,
                        @JsonProperty("prefix_policy") PrefixCachePolicy prefixPolicy,
                        @JsonProperty("tune_last_layer") Integer tuneLastLayer,
                        @JsonAnySetter @JsonDeserialize(contentUsing = OptionText.class) Map<String, String> methodOptions) {
        /** Every field at {@link TrainConfig}'s default, except {@code lr} and {@code warmup_steps} (unset). */
        public static final Train DEFAULTS = defaults();

        private static Train defaults() {
            TrainConfig d = TrainConfig.builder().build();
            return new Train(d.epochs(), null, d.batchSize(), d.maxLength(), d.warmupRatio(), d.weightDecay(),
                    d.maxGradNorm(), 0, d.earlyStoppingPatience(), null, d.gradAccumulation(), d.headPooling(),
                    d.prefixPolicy(), null, Map.of());
        }

        /** The keys a {@code train:} block may hold: the fields', then the methods' options'. */
        static List<String> keys() {
            List<String> keys = new java.util.ArrayList<>();
            for (var c : Train.class.getRecordComponents()) {
                JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
                if (p != null) keys.add(p.value());
            }
            TuningMethods.allOptions().forEach(o -> keys.add(o.yamlKey()));
            return keys;
        }

        public Train {
            java.util.TreeMap<String, String> options = new java.util.TreeMap<>();
            if (methodOptions != null) {
                for (var e : methodOptions.entrySet()) {
                    var option = TuningMethods.optionByYamlKey(e.getKey());
                    if (option.isEmpty()) throw new UnknownKey(e.getKey());
                    if (e.getValue() == null) continue;                                   // ~: inherit
                    check(option.get(), e.getValue());           // a bad value is an error here, whatever the methods
                    options.put(e.getKey(), e.getValue());
                }
            }
            methodOptions = java.util.Collections.unmodifiableSortedMap(options);
            if (warmupSteps != null && warmupSteps < 0) throw new IllegalArgumentException("warmup_steps " + warmupSteps + " must be >= 0");
            if (tuneLastLayer != null && tuneLastLayer < 1) {
                throw new IllegalArgumentException("tune_last_layer " + tuneLastLayer + " must be a layer number >= 1");
            }
        }

        /** The first nine keys only; the others unset. */
        public Train(Integer epochs, Double lr, Integer batchSize, Integer maxLength, Double warmupRatio,
                     Double weightDecay, Double maxGradNorm, Integer maxTrainExamples, Integer earlyStopping) {
            this(epochs, lr, batchSize, maxLength, warmupRatio, weightDecay, maxGradNorm, maxTrainExamples,
                    earlyStopping, null, null, null, null, null, Map.of());
        }

        /** This record with every non-null field of {@code o} taking precedence (method options as each merges). */
        public Train overriddenBy(Train o) {
            return new Train(o.epochs != null ? o.epochs : epochs, o.lr != null ? o.lr : lr,
                    o.batchSize != null ? o.batchSize : batchSize, o.maxLength != null ? o.maxLength : maxLength,
                    o.warmupRatio != null ? o.warmupRatio : warmupRatio,
                    o.weightDecay != null ? o.weightDecay : weightDecay,
                    o.maxGradNorm != null ? o.maxGradNorm : maxGradNorm,
                    o.maxTrainExamples != null ? o.maxTrainExamples : maxTrainExamples,
                    o.earlyStopping != null ? o.earlyStopping : earlyStopping,
                    o.warmupSteps != null ? o.warmupSteps : warmupSteps,
                    o.gradAccumulation != null ? o.gradAccumulation : gradAccumulation,
                    o.headPooling != null ? o.headPooling : headPooling,
                    o.prefixPolicy != null ? o.prefixPolicy : prefixPolicy,
                    o.tuneLastLayer != null ? o.tuneLastLayer : tuneLastLayer, merge(methodOptions, o.methodOptions));
        }

        /** {@code o}'s options over {@code base}'s, each merged as its option says ({@link MethodOption#merge}). */
        private static Map<String, String> merge(Map<String, String> base, Map<String, String> o) {
            Map<String, String> m = new java.util.TreeMap<>(base);
            o.forEach((k, v) -> m.put(k, TuningMethods.optionByYamlKey(k).orElseThrow().merge(base.get(k), v)));
            return m;
        }

        /** This record keeping only the method options of {@code mode}'s method. */
        Train withOptionsOf(TuningMode mode) {
            Map<String, String> kept = new java.util.TreeMap<>(methodOptions);
            kept.keySet().removeIf(k -> !TuningMethods.isOptionOf(TuningMethods.optionByYamlKey(k).orElseThrow().name(), mode));
            return new Train(epochs, lr, batchSize, maxLength, warmupRatio, weightDecay, maxGradNorm, maxTrainExamples,
                    earlyStopping, warmupSteps, gradAccumulation, headPooling, prefixPolicy, tuneLastLayer, kept);
        }

        /**
         * Sets every non-null field on {@code b} (a null {@code lr} leaves the mode's default). Not set here:
         * {@code tune_last_layer} (the caller knows the head layer) and {@code max_train_examples} (data, not
         * training). Modifies {@code b}; returns it.
         */
        public TrainConfig.Builder applyTo(TrainConfig.Builder b) {
            if (epochs != null) b.epochs(epochs);
            if (lr != null) b.lr(lr);
            if (batchSize != null) b.batchSize(batchSize);
            if (maxLength != null) b.maxLength(maxLength);
            if (warmupRatio != null) b.warmupRatio(warmupRatio);
            if (weightDecay != null) b.weightDecay(weightDecay);
            if (maxGradNorm != null) b.maxGradNorm(maxGradNorm);
            if (earlyStopping != null) b.earlyStoppingPatience(earlyStopping);
            if (warmupSteps != null) b.warmupSteps(warmupSteps);
            if (gradAccumulation != null) b.gradAccumulation(gradAccumulation);
            if (headPooling != null) b.headPooling(headPooling);
            if (prefixPolicy != null) b.prefixPolicy(prefixPolicy);
            methodOptions.forEach((k, v) -> b.methodOption(TuningMethods.optionByYamlKey(k).orElseThrow().name(), v));
            return b;
        }
    }

    /**
     * The hyperparameters of one run: shared ones, then the task's overrides, then the method's. Of the shared and the
     * task's method options, only those of the method's mode are kept; the method's own are kept all (another mode's
     * is then an error, see {@link TuningMethods#check}).
     */
    public Train trainFor(String task, String methodName) {
        Train t = train;
        Train o = taskOverrides.get(task);
        if (o != null) t = t.overriddenBy(o);
        for (Method m : methods) {
            if (!m.name().equals(methodName)) continue;
            t = t.withOptionsOf(Spelled.parse(TuningMode.class, m.mode(), "method '" + m.name() + "': mode"));
            if (m.train() != null) t = t.overriddenBy(m.train());
        }
        return t;
    }

    /** A key of a {@code train:} block that is neither a field nor a registered method option. */
    static final class UnknownKey extends IllegalArgumentException {
        final String key;

        UnknownKey(String key) {
            super("unknown key '" + key + "'");
            this.key = key;
        }
    }

    /**
     * A method option's value as text: a scalar as written, a list of scalars joined with commas, a map of scalars as
     * {@code key=value} joined with commas.
     */
    static final class OptionText extends com.fasterxml.jackson.databind.JsonDeserializer<String> {
        /** The value as text, checked by its option when the key is one (so that an error names the key's line). */
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String key = p.currentName();
            String text = text(p);
            var option = key == null ? java.util.Optional.<MethodOption<?>>empty() : TuningMethods.optionByYamlKey(key);
            if (option.isPresent()) {
                try {
                    check(option.get(), text);
                } catch (IllegalArgumentException e) {
                    throw JsonMappingException.from(p, e.getMessage());
                }
            }
            return text;
        }

        private static String text(JsonParser p) throws IOException {
            com.fasterxml.jackson.databind.JsonNode n = p.readValueAsTree();
            if (n.isValueNode()) return n.asText();
            if (n.isArray()) {
                java.util.StringJoiner j = new java.util.StringJoiner(",");
                for (var item : n) {
                    if (!item.isValueNode() || item.isNull()) {
                        throw JsonMappingException.from(p, "expected a value or a list of values, got a list holding " + item);
                    }
                    j.add(item.asText());
                }
                return j.toString();
            }
            if (n.isObject()) {                                              // {size: 32, init: bert} -> size=32,init=bert
                java.util.StringJoiner j = new java.util.StringJoiner(",");
                for (var e : (Iterable<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>>) n::fields) {
                    if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                        throw JsonMappingException.from(p, "expected a map of values, got " + e.getKey() + ": " + e.getValue());
                    }
                    j.add(e.getKey() + "=" + e.getValue().asText());
                }
                return j.toString();
            }
            throw JsonMappingException.from(p, "expected a value, a list of values or a map of values, got " + n);
        }
    }

    /** Parses {@code text} as {@code option} does; an error names the YAML key: {@code adapter_activation 'tanh' is ...}. */
    static void check(MethodOption<?> option, String text) {
        try {
            option.parse().apply(text);
        } catch (IllegalArgumentException e) {                    // no cause: the message is the one to show
            String m = e.getMessage();
            throw new IllegalArgumentException(option.yamlKey() + (m != null && m.startsWith("'" + text + "'") ? " " + m
                    : " '" + text + "': " + m));
        }
    }

    /**
     * Checks what Jackson cannot: every (task, method) combination's hyperparameters make a valid {@link TrainConfig}
     * (e.g. {@code grad_accumulation <= batch_size}); the error names the task, the method and the field.
     */
    void validateTrainSettings() {
        for (String task : tasks) {
            for (Method m : methods) {
                TuningMode mode = Spelled.parse(TuningMode.class, m.mode(), "mode");
                try {
                    trainFor(task, m.name()).applyTo(TrainConfig.builder().mode(mode)).tuneLayers(1).build();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("task '" + task + "', method '" + m.name() + "': " + e.getMessage(), e);
                }
            }
        }
    }

    /** Reads a {@link Spelled} value; a misspelling is an error naming the key (the message says which spelling). */
    private static <E extends Enum<E> & Spelled> void spelled(SimpleModule module, Class<E> type) {
        module.addDeserializer(type, new StdScalarDeserializer<E>(type) {
            @Override
            public E deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                if (!p.hasToken(JsonToken.VALUE_STRING)) {           // the path in the message names the key
                    throw JsonMappingException.from(p, "expected one of " + Spelled.choices(type) + ", got " + p.currentToken());
                }
                var context = p.getParsingContext();                  // a list element: the list's key
                String key = context.inArray() ? context.getParent().getCurrentName() : context.getCurrentName();
                if (key == null) key = "";
                try {
                    return Spelled.parse(type, p.getText(), key);
                } catch (IllegalArgumentException e) {
                    throw JsonMappingException.from(p, e.getMessage(), e);
                }
            }
        });
    }

    private static SimpleModule spellings() {
        SimpleModule m = new SimpleModule("varitune-spellings");
        spelled(m, Pooling.class);
        spelled(m, Variant.class);
        spelled(m, PrefixCachePolicy.class);
        spelled(m, org.varitune.experiments.data.DataFileOptions.TaskType.class);
        return m;
    }

    /** Keys that are easy to put in the wrong block or under an old name: what to write instead. */
    private static final Map<String, String> KEY_HINTS = Map.of(
            "Train.pooling", "the head's pooling is train.head_pooling; nu's pooling is variability.pooling",
            "Train.cache", "the frozen-prefix policy is train.prefix_policy",
            "Train.prefix_cache", "the frozen-prefix policy is train.prefix_policy",
            "Variability.head_pooling", "nu's pooling is variability.pooling; the head's is train.head_pooling");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .registerModule(spellings())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(com.fasterxml.jackson.databind.MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /**
     * Reads a config, resolving {@code ${NAME}} from {@code vars} then the environment.
     *
     * @throws IOException whose message names the file, the line and the key, for every defect found at load time:
     *                     invalid UTF-8, a YAML syntax error (tab indentation, unclosed brackets, nesting deeper than
     *                     the YAML reader's limit), a duplicate key, an empty document, an unknown key, a missing
     *                     required key, a null list element, a wrong type, an out-of-range number, a misspelled value,
     *                     or hyperparameters {@link TrainConfig} rejects
     */
    public static ExperimentConfig read(Path file, Map<String, String> vars) throws IOException {
        return parse(utf8(file, Files.readAllBytes(file)), file, vars);
    }

    /** Strict UTF-8; a malformed byte is an error naming the file, its line and byte offset. */
    private static String utf8(Path file, byte[] bytes) throws IOException {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        try {
            return java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(in).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            int at = in.position(), line = 1;
            for (int i = 0; i < at && i < bytes.length; i++) if (bytes[i] == '\n') line++;
            throw new IOException(file + ": line " + line + ": not valid UTF-8 (byte 0x"
                    + String.format("%02X", at < bytes.length ? bytes[at] & 0xFF : 0) + " at byte offset " + at + ")", e);
        }
    }

    /** Parses config text; {@code source} names it in errors. */
    public static ExperimentConfig parse(String text, Path file, Map<String, String> vars) throws IOException {
        text = substitute(text, vars, file);
        ExperimentConfig c;
        try {
            c = YAML.readValue(text, ExperimentConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String hint = e.getReferringClass() == null ? null
                    : KEY_HINTS.get(e.getReferringClass().getSimpleName() + "." + e.getPropertyName());
            throw new IOException(file + ": unknown key '" + e.getPropertyName() + "' at " + keyLine(text, e.getPropertyName(), e)
                    + " (in " + path(e) + ")" + (hint == null ? "" : ": " + hint) + "; known keys: "
                    + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", ")), e);
        } catch (JsonMappingException e) {
            Throwable cause = e;
            while (cause.getCause() != null && cause.getCause() != cause && !(cause instanceof UnknownKey)) cause = cause.getCause();
            if (cause instanceof UnknownKey u) {                 // a train: block's key (methods' options read generically)
                String hint = KEY_HINTS.get("Train." + u.key);
                throw new IOException(file + ": unknown key '" + u.key + "' at " + keyLine(text, u.key, e) + " (in "
                        + (path(e).equals("the top level") ? "" : path(e) + ".") + u.key + ")"
                        + (hint == null ? "" : ": " + hint) + "; known keys: "
                        + Train.keys().stream().sorted().collect(Collectors.joining(", ")), e);
            }
            if (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("No content to map")) {
                throw new IOException(file + ": line 1: the document is empty; expected a mapping with the keys name, "
                        + "model, tasks and methods", e);
            }
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            String msg = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            throw new IOException(file + ": " + msg + " (at " + path(e) + ", " + where(e) + ")", e);
        } catch (JacksonException e) {                     // syntax, duplicate key, number out of range, nesting
            int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            String msg = e.getOriginalMessage();
            if (e.getCause() instanceof org.yaml.snakeyaml.error.MarkedYAMLException m && m.getProblemMark() != null) {
                line = m.getProblemMark().getLine() + 1;  // SnakeYAML's own mark: where the problem is, 0-based
                msg = m.getContext() == null ? m.getProblem() : m.getContext() + ": " + m.getProblem();
            }
            throw new IOException(file + ": " + oneLine(msg) + " (at " + key(e) + ", "
                    + (line < 0 ? "unknown position" : "line " + line) + ")", e);
        } catch (RuntimeException e) {                     // SnakeYAML errors Jackson does not wrap
            throw new IOException(file + ": not valid YAML: " + oneLine(String.valueOf(e.getMessage())), e);
        } catch (StackOverflowError e) {
            throw new IOException(file + ": not readable: the YAML is nested too deeply", e);
        }
        if (c == null) {
            throw new IOException(file + ": line 1: the document is empty or null; expected a mapping with the keys "
                    + "name, model, tasks and methods");
        }
        try {
            c.validateTrainSettings();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return c;
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

    /** The key being read when a parse error occurred, as a dotted path, or "the top level". */
    private static String key(JacksonException e) {
        if (e.getProcessor() instanceof JsonParser p) {
            List<String> parts = new java.util.ArrayList<>();
            for (var ctx = p.getParsingContext(); ctx != null && !ctx.inRoot(); ctx = ctx.getParent()) {
                if (ctx.inArray()) parts.add(0, "[" + Math.max(0, ctx.getCurrentIndex()) + "]");
                else if (ctx.getCurrentName() != null) parts.add(0, ctx.getCurrentName());
            }
            StringBuilder b = new StringBuilder();
            for (String part : parts) b.append(b.length() == 0 || part.startsWith("[") ? "" : ".").append(part);
            if (b.length() > 0) return "key " + b;
        }
        return "the top level";
    }

    private static String oneLine(String s) {
        return s == null ? "parse error" : s.strip().replaceAll("\\s*\n\\s*", "; ");
    }

    private static String path(JsonMappingException e) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : e.getPath()) {
            if (r.getFieldName() != null) b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            else b.append('[').append(r.getIndex()).append(']');
        }
        return b.length() == 0 ? "the top level" : b.toString();
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

package org.varitune.training.trainer;

import org.varitune.training.LayerPlan;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.TuningMode;
import org.varitune.training.method.TuningMethod;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.io.Spelled;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedMap;

/**
 * Everything that decides a training run, with a documented default per field (build one with {@link #builder()}).
 * The record is validated on construction: a bad value is an error naming the field. These defaults are the only
 * ones: {@code varitune train} starts from {@link #builder()}, and a YAML experiment's {@code train:} block overrides
 * only the keys it sets (ExperimentConfig.Train reads its defaults from here).
 *
 * <p>The defaults, one table ({@code train} flag / YAML key under {@code train:} = value; lr is per mode in both):
 * <pre>
 *   --mode                   (method mode)         full
 *   --epochs                 epochs                10      Liu et al. 2019 (RoBERTa), GLUE: at most 10 epochs, the
 *                                                          best dev epoch kept (here: loadBestAtEnd)
 *   --lr                     lr                    2e-5    full, top-k, partial (in RoBERTa's GLUE grid {1e-5, 2e-5, 3e-5})
 *                                                  1e-4    adapters  } this project's choices: freshly initialised
 *                                                  1e-3    probe     } modules take larger steps
 *                                                  5e-4    lora      }
 *   --batch-size             batch_size            32      RoBERTa's GLUE grid {16, 32}
 *   --grad-accumulation      grad_accumulation     1
 *   --max-length             max_length            128
 *   --warmup-ratio           warmup_ratio          0.06    RoBERTa, GLUE (linear warmup, then linear decay to 0)
 *   --warmup-steps           warmup_steps          unset (the ratio decides)
 *   --weight-decay           weight_decay          0.1     RoBERTa, GLUE
 *   --max-grad-norm          max_grad_norm         1.0     HF Trainer's default
 *   --tune-last-layer        tune_last_layer       the head layer (the tuned block ends at the head)
 *   --adapter-size,          adapter_size,         each method's options: declared by its class, with their
 *   --lora-rank etc.         lora_rank etc.        defaults ({@link org.varitune.training.method.AdapterTuning#OPTIONS}:
 *                                                          64-wide Houlsby sites after both denses' dropouts, relu;
 *                                                          {@link org.varitune.training.method.LoraTuning#OPTIONS}:
 *                                                          PEFT's LoraConfig defaults), see {@link #methodOptions}
 *   --head-pooling           head_pooling          mean    see {@link #headPooling}
 *   --prefix-policy          prefix_policy         cached  see {@link PrefixCachePolicy}
 *   --early-stopping         early_stopping        0 (off)
 *   --seed                   (the sweep's seeds)   42
 * </pre>
 * The other fields (head layer, k, the separate seeds, evaluation, checkpointing, bucketing, cache memory) have the
 * defaults listed below.
 *
 * @param mode                  what trains ({@link TuningMode}); default {@code full}
 * @param headLayer             layer l (1..L) the head sits on, as requested; 0 = the top layer L (default). Stored so
 *                              for stable run records; {@link #layerPlan} resolves it
 * @param tuneLayers            k, the number of tuned layers for TOP_K / PARTIAL / ADAPTERS (layers M−k+1..M);
 *                              ignored by FULL and PROBE; default 1
 * @param tuneLastLayer         M, the top layer of the tuned block (1-based) for PARTIAL / ADAPTERS; 0 = the head
 *                              layer l (default; resolved by {@link #layerPlan}). With M &lt; l, layers M+1..l are frozen but run in every step (with
 *                              dropout, like the head), and the gradient flows through them to the tuned block: the
 *                              authors' {@code --last_finetune_layer} below {@code --head_layer}. Only the layers at or
 *                              below M−k can be a cached prefix.
 * @param epochs                passes over the training set; default 10
 * @param lr                    peak learning rate; default by mode ({@link #defaultLr}): 2e-5 for FULL / TOP_K /
 *                              PARTIAL, 1e-4 for ADAPTERS, 1e-3 for PROBE, 5e-4 for LORA
 * @param batchSize             examples per optimizer update (the effective batch); default 32
 * @param gradAccumulation      micro-batches each update is split into (ceil(batchSize/m) rows each), with the
 *                              loss of each weighted by its share of rows, so the update equals the large-batch one;
 *                              default 1. Unlike HF, changing it does not change the effective batch.
 * @param maxLength             tokens per example after truncation (the caller tokenizes; recorded); default 128
 * @param warmupRatio           linear warmup over ceil(ratio·total steps) steps, then linear decay to 0; default 0.06
 * @param warmupSteps           when &gt;= 0, the warmup length in steps, overriding warmupRatio; default −1 (unset)
 * @param weightDecay           AdamW decoupled weight decay (not on biases and LayerNorm weights); default 0.1
 * @param maxGradNorm           global L2 norm clipping; 0 = off; default 1.0
 * @param initSeed              seed of the head and adapter initialisation; default 42
 * @param dropoutSeed           seed of the dropout masks (a mask is a function of seed, micro-step, site); default 42
 * @param dataSeed              seed of the data order (epoch e's order is a function of (dataSeed, e)); default 42
 * @param methodOptions         the options of the mode's tuning method, option name -> value as given
 *                              ({@code lora-rank -> 16}, {@code attention-adapter -> size=32,init=bert}); an immutable
 *                              map sorted by name; default empty (the method's
 *                              defaults). Declared by the method's class ({@link org.varitune.training.method.MethodOption})
 *                              and checked by {@link TuningMethods#check}: an unknown option, an option of another
 *                              mode's method or a value the method rejects is an error naming it. Not recorded as
 *                              such: the run record holds the method's resolved options under the mode's name
 *                              ({@code lora}, {@code adapters}), see {@link #toMap()}.
 * @param headPooling           what the head pools; default {@code mean} (the mean over text tokens, as the
 *                              variability metric pools). HF's heads use {@code first-token}, which is right at the
 *                              top layer of models pre-trained with a [CLS] objective but not for a head on a lower
 *                              layer: in all-MiniLM-L6-v2 the [CLS] state at layer 3 varies 4e5 times less than a text
 *                              token's (variance 3e-7 vs 0.12), and a guided head there stays at chance. Set
 *                              {@code first-token} for HF parity.
 * @param prefixPolicy          how the frozen prefix runs ({@link PrefixCachePolicy}); default {@code cached}
 * @param cacheMemoryLimitBytes a prefix cache above this size is spilled to a memory-mapped file in the run
 *                              directory; default 2 GiB
 * @param earlyStoppingPatience stop after this many epochs without a better main dev metric; 0 = off (default)
 * @param evalBatchSize         rows per evaluation (and cache-building) batch; default 64
 * @param checkpointEverySteps  save {@code checkpoints/last} every this many updates (and at each epoch end); 0 =
 *                              epoch ends only; default 50
 * @param bucketChunkBatches    length bucketing: the shuffled examples are cut into chunks of this many batches,
 *                              each chunk sorted by length, cut into batches, and the batch order shuffled; 1 = no
 *                              bucketing beyond a batch; default 50
 * @param loadBestAtEnd         after training, load the best checkpoint's weights into the model (HF
 *                              {@code load_best_model_at_end}) before the finish hook; default true
 */
public record TrainConfig(TuningMode mode, int headLayer, int tuneLayers, int tuneLastLayer, int epochs, double lr,
                          int batchSize, int gradAccumulation, int maxLength, double warmupRatio, int warmupSteps,
                          double weightDecay, double maxGradNorm, long initSeed, long dropoutSeed, long dataSeed,
                          SortedMap<String, String> methodOptions, Pooling headPooling, PrefixCachePolicy prefixPolicy,
                          long cacheMemoryLimitBytes, int earlyStoppingPatience, int evalBatchSize,
                          int checkpointEverySteps, int bucketChunkBatches, boolean loadBestAtEnd) {

    /** Fields that may change between a run and its resumption: they do not change the trained weights. */
    public static final Set<String> OPERATIONAL = Set.of("cacheMemoryLimitBytes", "evalBatchSize", "checkpointEverySteps",
            "loadBestAtEnd");

    public TrainConfig {
        Objects.requireNonNull(mode, "mode");
        try {
            methodOptions = TuningMethods.check(mode, Objects.requireNonNull(methodOptions, "methodOptions"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train config: " + e.getMessage(), e);
        }
        Objects.requireNonNull(headPooling, "headPooling");
        Objects.requireNonNull(prefixPolicy, "prefixPolicy");
        require(headLayer >= 0, "headLayer", headLayer, ">= 0 (0 = top layer)");
        require(tuneLayers >= 0, "tuneLayers", tuneLayers, ">= 0");
        require(tuneLastLayer >= 0, "tuneLastLayer", tuneLastLayer, ">= 0 (0 = the head layer)");
        require(tuneLastLayer == 0 || mode.tunesBelowHead(), "tuneLastLayer",
                tuneLastLayer, "0 (the head layer) for " + mode + "; a block ending below the head needs one of " + TuningMode.tuningBelowHead());
        require(tuneLastLayer == 0 || tuneLastLayer >= tuneLayers, "tuneLastLayer", tuneLastLayer,
                ">= tuneLayers = " + tuneLayers + " (the block M-k+1..M starts at layer 1 or above)");
        require(!mode.usesK() || tuneLayers >= 1, "tuneLayers", tuneLayers, ">= 1 for " + mode);
        require(epochs >= 1, "epochs", epochs, ">= 1");
        require(lr > 0 && Double.isFinite(lr), "lr", lr, "finite and > 0");
        require(batchSize >= 1, "batchSize", batchSize, ">= 1");
        require(gradAccumulation >= 1 && gradAccumulation <= batchSize, "gradAccumulation", gradAccumulation,
                "in [1, batchSize = " + batchSize + "]");
        require(maxLength >= 2, "maxLength", maxLength, ">= 2");
        require(warmupRatio >= 0 && warmupRatio <= 1, "warmupRatio", warmupRatio, "in [0, 1]");
        require(warmupSteps >= -1, "warmupSteps", warmupSteps, ">= 0, or -1 to use warmupRatio");
        require(weightDecay >= 0 && Double.isFinite(weightDecay), "weightDecay", weightDecay, "finite and >= 0");
        require(maxGradNorm >= 0 && Double.isFinite(maxGradNorm), "maxGradNorm", maxGradNorm, "finite and >= 0 (0 = off)");
        require(cacheMemoryLimitBytes >= 0, "cacheMemoryLimitBytes", cacheMemoryLimitBytes, ">= 0");
        require(earlyStoppingPatience >= 0, "earlyStoppingPatience", earlyStoppingPatience, ">= 0 (0 = off)");
        require(evalBatchSize >= 1, "evalBatchSize", evalBatchSize, ">= 1");
        require(checkpointEverySteps >= 0, "checkpointEverySteps", checkpointEverySteps, ">= 0 (0 = epoch ends only)");
        require(bucketChunkBatches >= 1, "bucketChunkBatches", bucketChunkBatches, ">= 1");
    }

    private static void require(boolean ok, String field, Object value, String what) {
        if (!ok) throw new IllegalArgumentException("train config: " + field + " = " + value + " must be " + what);
    }

    /**
     * The layers of this run on an encoder of {@code numLayers} layers: {@link LayerPlan#of}(L, mode, headLayer or the
     * top layer when 0, tuneLayers, tuneLastLayer or the head layer when 0, prefixPolicy). The one place the stored 0s
     * of headLayer and tuneLastLayer are read; build it once, at the boundary, and hand it on.
     *
     * @throws IllegalArgumentException naming the option, when the layers do not fit L (see {@link LayerPlan#of})
     */
    public LayerPlan layerPlan(int numLayers) {
        // a method in every layer (LoRA with layers all): the tuned block is 1..l whatever k says
        boolean all = everyLayerToTheHead(TuningMethods.of(this));
        int k = all ? (headLayer == 0 ? numLayers : headLayer) : tuneLayers;
        return LayerPlan.of(numLayers, mode, headLayer == 0 ? OptionalInt.empty() : OptionalInt.of(headLayer), k,
                tuneLastLayer == 0 ? OptionalInt.empty() : OptionalInt.of(tuneLastLayer), prefixPolicy);
    }

    /**
     * Whether {@code method} tunes every layer up to the head ({@link TuningMethod#tunesEveryLayerToTheHead()});
     * a tuned block ending below the head ({@code tuneLastLayer} &gt; 0) cannot be honoured then, and is an error.
     */
    private boolean everyLayerToTheHead(TuningMethod method) {
        boolean all = method.tunesEveryLayerToTheHead();
        require(!all || tuneLastLayer == 0, "tuneLastLayer", tuneLastLayer, "0 with " + method.describe()
                + " (the method is in every layer up to the head)");
        return all;
    }

    /**
     * The default peak learning rate of a mode, registered with its method ({@link TuningMethods#defaultLr}): 2e-5
     * (FULL, TOP_K, PARTIAL), 1e-4 (ADAPTERS), 1e-3 (PROBE), 5e-4 (LORA); used by {@code train} without {@code --lr}
     * and by a YAML run without {@code lr}.
     */
    public static double defaultLr(TuningMode mode) { return TuningMethods.defaultLr(mode); }

    /** A builder holding every default. */
    public static Builder builder() { return new Builder(); }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.mode = mode; b.headLayer = headLayer; b.tuneLayers = tuneLayers; b.tuneLastLayer = tuneLastLayer;
        b.epochs = epochs; b.lr = lr;
        b.batchSize = batchSize; b.gradAccumulation = gradAccumulation; b.maxLength = maxLength;
        b.warmupRatio = warmupRatio; b.warmupSteps = warmupSteps; b.weightDecay = weightDecay;
        b.maxGradNorm = maxGradNorm; b.initSeed = initSeed; b.dropoutSeed = dropoutSeed; b.dataSeed = dataSeed;
        b.methodOptions.putAll(methodOptions); b.headPooling = headPooling; b.prefixPolicy = prefixPolicy; b.cacheMemoryLimitBytes = cacheMemoryLimitBytes;
        b.earlyStoppingPatience = earlyStoppingPatience; b.evalBatchSize = evalBatchSize;
        b.checkpointEverySteps = checkpointEverySteps; b.bucketChunkBatches = bucketChunkBatches;
        b.loadBestAtEnd = loadBestAtEnd;
        return b;
    }

    /**
     * Every field by its name, in declaration order (enums as their spellings, e.g. {@code top-k}): the run record and
     * the resume check. In place of {@code methodOptions}, the method's resolved options
     * ({@link TuningMethod#recordedOptions()}) under the mode's name, for a method that has options:
     * {@code lora: r=8,alpha=8.0,dropout=0.0,targets=query+value,layers=tuned}, {@code adapters: attention(size=64,...)
     * output(...) activation=relu}. (Records written before the adapters' options were the method's held
     * {@code attentionAdapter}, {@code outputAdapter} and {@code adapterActivation} fields in every run; such a run
     * is not resumed, the change is named.)
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            try {
                if (c.getName().equals(METHOD_OPTIONS)) {
                    TuningMethods.of(this).recordedOptions().ifPresent(spec -> m.put(mode.spelling(), spec));
                    continue;
                }
                Object v = c.getAccessor().invoke(this);
                m.put(c.getName(), v instanceof Spelled e ? e.spelling() : v);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
        return m;
    }

    /**
     * The names of the fields outside {@link #OPERATIONAL} whose values differ between two field maps (from
     * {@link #toMap()}, possibly read back from JSON: numbers compare by value), in declaration order.
     */
    public static List<String> differingKeys(Map<String, ?> a, Map<String, ?> b) {
        List<String> keys = new ArrayList<>();
        for (RecordComponent c : TrainConfig.class.getRecordComponents()) {
            List<String> ks = c.getName().equals(METHOD_OPTIONS) ? modeKeys() : List.of(c.getName());
            for (String k : ks) {
                if (OPERATIONAL.contains(k)) continue;
                if (!sameValue(a.get(k), b.get(k))) keys.add(k + " (" + a.get(k) + " vs " + b.get(k) + ")");
            }
        }
        return keys;
    }

    private static final String METHOD_OPTIONS = "methodOptions";

    /** The keys {@link #toMap()} may record a method's options under: the modes' spellings. */
    private static List<String> modeKeys() {
        List<String> l = new ArrayList<>();
        for (TuningMode m : TuningMode.values()) l.add(m.spelling());
        return l;
    }

    private static boolean sameValue(Object x, Object y) {
        if (x instanceof Number nx && y instanceof Number ny) {
            return Double.compare(nx.doubleValue(), ny.doubleValue()) == 0 && nx.longValue() == ny.longValue();
        }
        return Objects.equals(x == null ? null : x.toString(), y == null ? null : y.toString());
    }

    /** Mutable builder; every field starts at its documented default; {@link #build()} validates. */
    public static final class Builder {
        private TuningMode mode = TuningMode.FULL;
        private int headLayer = 0, tuneLayers = 1, tuneLastLayer = 0, epochs = 10;
        private Double lr;                              // null = unset: the mode's default, resolved in build()
        private int batchSize = 32, gradAccumulation = 1, maxLength = 128;
        private double warmupRatio = 0.06;
        private int warmupSteps = -1;
        private double weightDecay = 0.1, maxGradNorm = 1.0;
        private long initSeed = 42, dropoutSeed = 42, dataSeed = 42;
        private final Map<String, String> methodOptions = new java.util.TreeMap<>();
        private Pooling headPooling = Pooling.MEAN_NON_SPECIAL;
        private PrefixCachePolicy prefixPolicy = PrefixCachePolicy.CACHED;
        private long cacheMemoryLimitBytes = 2L << 30;
        private int earlyStoppingPatience = 0, evalBatchSize = 64, checkpointEverySteps = 50, bucketChunkBatches = 50;
        private boolean loadBestAtEnd = true;

        public Builder mode(TuningMode v) { mode = v; return this; }
        public Builder headLayer(int v) { headLayer = v; return this; }
        /** The head layer l, or empty for the top layer (stored as 0). */
        public Builder headLayer(OptionalInt v) { headLayer = v.orElse(0); return this; }
        public Builder tuneLayers(int v) { tuneLayers = v; return this; }
        public Builder tuneLastLayer(int v) { tuneLastLayer = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        /** Sets the peak learning rate; every value, NaN included, reaches {@link TrainConfig}'s validation. */
        public Builder lr(double v) { lr = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradAccumulation(int v) { gradAccumulation = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder warmupRatio(double v) { warmupRatio = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        /** Sets the init, dropout and data seeds together. */
        public Builder seed(long v) { initSeed = v; dropoutSeed = v; dataSeed = v; return this; }
        public Builder initSeed(long v) { initSeed = v; return this; }
        public Builder dropoutSeed(long v) { dropoutSeed = v; return this; }
        public Builder dataSeed(long v) { dataSeed = v; return this; }
        /** Sets one option of the mode's tuning method ({@code lora-rank}, {@code "16"}); a null value removes it. */
        public Builder methodOption(String name, String value) {
            if (value == null) methodOptions.remove(name);
            else methodOptions.put(name, value);
            return this;
        }
        /** Sets every option in {@code v} (name -> value as given), keeping the others set before. */
        public Builder methodOptions(Map<String, String> v) { v.forEach(this::methodOption); return this; }
        public Builder headPooling(Pooling v) { headPooling = v; return this; }
        public Builder prefixPolicy(PrefixCachePolicy v) { prefixPolicy = v; return this; }
        public Builder cacheMemoryLimitBytes(long v) { cacheMemoryLimitBytes = v; return this; }
        public Builder earlyStoppingPatience(int v) { earlyStoppingPatience = v; return this; }
        public Builder evalBatchSize(int v) { evalBatchSize = v; return this; }
        public Builder checkpointEverySteps(int v) { checkpointEverySteps = v; return this; }
        public Builder bucketChunkBatches(int v) { bucketChunkBatches = v; return this; }
        public Builder loadBestAtEnd(boolean v) { loadBestAtEnd = v; return this; }

        /**
         * The config, validated: its fields, then its method (built once, so that options that conflict with each
         * other or with the layers, e.g. LoRA in every layer with a tuned block ending below the head, fail here).
         */
        public TrainConfig build() {
            TrainConfig c = new TrainConfig(mode, headLayer, tuneLayers, tuneLastLayer, epochs,
                    lr == null ? defaultLr(mode) : lr, batchSize, gradAccumulation, maxLength, warmupRatio,
                    warmupSteps, weightDecay, maxGradNorm, initSeed, dropoutSeed, dataSeed,
                    new java.util.TreeMap<>(methodOptions), headPooling, prefixPolicy,
                    cacheMemoryLimitBytes, earlyStoppingPatience, evalBatchSize, checkpointEverySteps,
                    bucketChunkBatches, loadBestAtEnd);
            TuningMethod method;
            try {
                method = TuningMethods.of(c);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("train config: " + e.getMessage(), e);
            }
            c.everyLayerToTheHead(method);
            return c;
        }
    }
}

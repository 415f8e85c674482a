package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.StringJoiner;

/**
 * {@code lora}: LoRA (Hu et al. 2021) with HF PEFT's semantics. On each target Linear {@code W} of the chosen layers:
 * <pre>
 *   h = x·Wᵀ + b + s·(dropout(x)·Aᵀ)·Bᵀ        s = lora_alpha / r,  A: (r, in),  B: (out, r)
 * </pre>
 * A is initialised as PEFT does, {@code kaiming_uniform_(a = √5)}, i.e. U(−1/√in, 1/√in); B = 0, so training starts
 * from the pretrained function. Only A and B train (and the head); W and b stay frozen. Targets are named by
 * {@link LinearRole} and mapped by the family ({@code query} is BERT's {@code attention.self.query}, DistilBERT's
 * {@code attention.q_lin}). Parameters are named {@code <linear>.lora_A.weight} and {@code <linear>.lora_B.weight},
 * PEFT's names without its adapter name.
 */
public final class LoraTuning implements TuningMethod {

    /** Where LoRA goes: the layers the plan tunes ({@code tuned}, the default) or every layer up to the head ({@code all}). */
    public enum Layers implements Spelled {
        TUNED("tuned"), ALL("all");

        private final String spelling;

        Layers(String spelling) { this.spelling = spelling; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /**
     * LoRA's options, with PEFT's {@code LoraConfig} defaults ({@link #OPTIONS} reads them from a run).
     *
     * @param rank    r ({@code --lora-rank}, {@code lora_rank}); default 8
     * @param alpha   {@code lora_alpha} ({@code --lora-alpha}); the update is scaled by alpha / r; default 8
     * @param dropout {@code lora_dropout} on the LoRA branch's input ({@code --lora-dropout}); default 0
     * @param targets the Linears by role ({@code --lora-targets query,value}); default query and value (PEFT's
     *                default targets for BERT, RoBERTa and DistilBERT)
     * @param layers  {@code --lora-layers tuned|all}; default tuned
     */
    public record Config(int rank, double alpha, double dropout, List<LinearRole> targets, Layers layers) {
        public static final Config DEFAULTS = new Config(8, 8, 0, List.of(LinearRole.QUERY, LinearRole.VALUE), Layers.TUNED);

        public Config {
            targets = List.copyOf(targets);
            Objects.requireNonNull(layers, "layers");
            if (rank < 1) throw new IllegalArgumentException("lora rank (--lora-rank, lora_rank) " + rank + " must be >= 1");
            if (!(alpha > 0) || !Double.isFinite(alpha)) {
                throw new IllegalArgumentException("lora alpha (--lora-alpha, lora_alpha) " + alpha + " must be finite and > 0");
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("lora dropout (--lora-dropout, lora_dropout) " + dropout + " outside [0, 1)");
            }
            if (targets.isEmpty()) throw new IllegalArgumentException("lora targets (--lora-targets, lora_targets): none given");
            if (new HashSet<>(targets).size() != targets.size()) {
                throw new IllegalArgumentException("lora targets (--lora-targets, lora_targets) " + targets + " name a Linear twice");
            }
        }

        /** The config {@code options} (option name -> value as given) describe: each given one parsed, the others {@link #DEFAULTS}. */
        public static Config of(Map<String, String> options) {
            return new Config(RANK.value(options, DEFAULTS.rank), ALPHA.value(options, DEFAULTS.alpha),
                    DROPOUT.value(options, DEFAULTS.dropout), TARGETS.value(options, DEFAULTS.targets),
                    LAYERS.value(options, DEFAULTS.layers));
        }

        /** Every field as the option value that gives it ({@link #of} reads them back to this config). */
        public Map<String, String> options() {
            StringJoiner t = new StringJoiner(",");
            targets.forEach(r -> t.add(r.spelling()));
            return Map.of(RANK.name(), Integer.toString(rank), ALPHA.name(), Double.toString(alpha),
                    DROPOUT.name(), Double.toString(dropout), TARGETS.name(), t.toString(), LAYERS.name(), layers.spelling());
        }

        /** alpha / r. */
        public double scaling() { return alpha / rank; }

        /** {@code r=8,alpha=8.0,dropout=0.0,targets=query+value,layers=tuned}: the run record's value. */
        public String spec() {
            StringJoiner t = new StringJoiner("+");
            targets.forEach(r -> t.add(r.spelling()));
            return "r=" + rank + ",alpha=" + alpha + ",dropout=" + dropout + ",targets=" + t + ",layers=" + layers;
        }
    }

    /** {@code --lora-rank} / {@code lora_rank}: r, at least 1. */
    public static final MethodOption<Integer> RANK = new MethodOption<>("lora-rank", "R", "LoRA rank r (default 8, PEFT's).",
            v -> atLeast(MethodOption.integer(v), 1));
    /** {@code --lora-alpha} / {@code lora_alpha}: the update is scaled by alpha / r; finite and &gt; 0. */
    public static final MethodOption<Double> ALPHA = new MethodOption<>("lora-alpha", "ALPHA",
            "LoRA alpha; the update is scaled by alpha/r (default 8, PEFT's).", v -> {
                double a = MethodOption.decimal(v);
                if (!(a > 0)) throw new IllegalArgumentException("must be > 0");
                return a;
            });
    /** {@code --lora-dropout} / {@code lora_dropout}: dropout on the branch's input, in [0, 1). */
    public static final MethodOption<Double> DROPOUT = new MethodOption<>("lora-dropout", "P",
            "Dropout on the LoRA branch's input (default 0, PEFT's).", v -> {
                double p = MethodOption.decimal(v);
                if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("outside [0, 1)");
                return p;
            });
    /** {@code --lora-targets query,value} / {@code lora_targets: [query, value]}: the Linears by {@link LinearRole}. */
    public static final MethodOption<List<LinearRole>> TARGETS = new MethodOption<>("lora-targets", "ROLE[,ROLE...]",
            "Linears by role: query, key, value, attention-output, intermediate, output (default query,value, PEFT's "
                    + "for BERT/RoBERTa/DistilBERT).", v -> {
                List<LinearRole> roles = MethodOption.list(v, r -> MethodOption.spelled(LinearRole.class, r));
                if (new HashSet<>(roles).size() != roles.size()) throw new IllegalArgumentException("names a Linear twice");
                return roles;
            });
    /** {@code --lora-layers tuned|all}. */
    public static final MethodOption<Layers> LAYERS = new MethodOption<>("lora-layers", "tuned|all",
            "tuned (the plan's tuned layers, default) or all (every layer up to the head).",
            v -> MethodOption.spelled(Layers.class, v));

    /** LoRA's options, for the command line and the YAML ({@link TuningMethods} registers them). */
    public static final List<MethodOption<?>> OPTIONS = List.of(RANK, ALPHA, DROPOUT, TARGETS, LAYERS);

    /** The default peak learning rate of lora runs: 5e-4, this project's choice (freshly initialised modules). */
    public static final double DEFAULT_LR = 5e-4;

    private static int atLeast(int v, int min) {
        if (v < min) throw new IllegalArgumentException("must be >= " + min);
        return v;
    }

    private final Config config;

    public LoraTuning(Config config) { this.config = Objects.requireNonNull(config, "config"); }

    /** LoRA with the options of a run (option name -> value as given; see {@link Config#of}). */
    public static LoraTuning of(Map<String, String> options) { return new LoraTuning(Config.of(options)); }

    public Config config() { return config; }

    /** The layers that carry LoRA under {@code plan}: its tuned layers, or 1..l for {@link Layers#ALL}. */
    public List<Integer> layers(LayerPlan plan) {
        List<Integer> ls = new ArrayList<>();
        int from = config.layers() == Layers.ALL ? 1 : Math.max(plan.firstTuned(), 1);
        int to = config.layers() == Layers.ALL ? plan.headLayer() : plan.lastTuned();
        for (int l = from; l <= to; l++) ls.add(l);
        return ls;
    }

    @Override
    public void insert(Encoder encoder, LayerPlan plan, Random rng) {
        for (int l : layers(plan)) {
            EncoderLayer layer = encoder.layers().get(l - 1);
            for (LinearRole role : config.targets()) {
                Linear lin = layer.linear(role);
                Module m = new Module(encoder.kernels(), lin.weight().name().replaceFirst("\\.weight$", ""), lin.in(),
                        lin.out(), config, Dropout.site(l - 1, DROPOUT_SLOT + role.ordinal()));
                m.initialize(rng);
                lin.setDelta(m);
            }
        }
    }

    @Override
    public Set<Parameter> trainable(Encoder encoder, LayerPlan plan) {
        Set<Parameter> t = new HashSet<>();
        for (int l : layers(plan)) {
            EncoderLayer layer = encoder.layers().get(l - 1);
            for (LinearRole role : config.targets()) {
                Linear lin = layer.linear(role);
                if (!(lin.delta() instanceof Module m)) {
                    throw new IllegalStateException("lora: " + lin.weight().name() + " (layer " + l + ", " + role
                            + ") has no LoRA module; insert it first");
                }
                t.addAll(m.parameters());
            }
        }
        return t;
    }

    /** The subdirectory of an export holding PEFT's unmerged adapter. */
    public static final String PEFT_DIR = "peft";

    /**
     * Writes PEFT's unmerged adapter into {@code exportDir/peft/} (the export's own {@code model.safetensors} holds the
     * merged weights): {@code adapter_model.safetensors} with PEFT's saved names ({@code base_model.model.} + the HF
     * name: {@code ...query.lora_A.weight}, {@code ...lora_B.weight}, and the trained head, which PEFT keeps in
     * {@code modules_to_save} and saves under its plain name) and {@code adapter_config.json} ({@code LoraConfig}'s
     * keys; {@code target_modules} lists the full module names, so that PEFT's suffix match cannot pick another
     * Linear). Load it with {@code PeftModel.from_pretrained(AutoModelForSequenceClassification(base), dir)}, the base
     * being {@code base_model_name_or_path}.
     */
    @Override
    public void exportExtras(org.varitune.training.SequenceClassifier model, java.nio.file.Path sourceModelDir,
                             java.nio.file.Path exportDir) throws java.io.IOException {
        Encoder enc = model.encoder();
        String prefix = enc.config().family().prefix(), peft = "base_model.model.";
        var weights = new org.varitune.transformer.io.SafetensorsWriter().metadata("format", "pt");
        List<String> targets = new ArrayList<>();
        for (int l = 1; l <= model.headLayer(); l++) {
            for (LinearRole role : LinearRole.values()) {
                Linear lin = enc.layers().get(l - 1).linear(role);
                if (!(lin.delta() instanceof Module m)) continue;
                targets.add(prefix + lin.weight().name().replaceFirst("\\.weight$", ""));
                for (Parameter p : m.parameters()) weights.addF32(peft + prefix + p.name(), p.data(), p.shape());
            }
        }
        var head = model.head();
        for (Parameter p : head.parameters()) weights.addF32(peft + head.checkpointName(p), p.data(), p.shape());
        var spec = enc.config().family().head();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var c = json.createObjectNode();
        c.put("peft_type", "LORA").put("task_type", "SEQ_CLS").put("r", config.rank()).put("lora_alpha", config.alpha())
                .put("lora_dropout", config.dropout()).put("bias", "none").put("fan_in_fan_out", false)
                .put("inference_mode", true).put("init_lora_weights", true).put("use_rslora", false).put("use_dora", false)
                .put("base_model_name_or_path", sourceModelDir.toAbsolutePath().normalize().toString());
        targets.forEach(c.putArray("target_modules")::add);
        c.putArray("modules_to_save").add(spec.dense()).add(spec.out());
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(exportDir.resolve(PEFT_DIR));
        weights.write(dir.resolve("adapter_model.safetensors"));
        int layers = model.headLayer();
        java.nio.file.Files.writeString(dir.resolve("README.md"), String.join("\n",
                "# PEFT adapter (unmerged LoRA)",
                "",
                "The parent directory's model.safetensors already holds these updates merged into the weights. To run the",
                "unmerged adapter with HF PEFT, load the base with the layers the model keeps (num_hidden_layers = " + layers
                        + ": varitune drops the layers above the head):",
                "",
                "```python",
                "from transformers import AutoModelForSequenceClassification",
                "from peft import PeftModel",
                "base = AutoModelForSequenceClassification.from_pretrained(",
                "    \"" + sourceModelDir.toAbsolutePath().normalize() + "\", num_labels=" + model.head().numLabels()
                        + ", num_hidden_layers=" + layers + ")",
                "model = PeftModel.from_pretrained(base, \"" + dir.toAbsolutePath().normalize() + "\")",
                "```",
                "",
                "The stock class pools the first token; the model computes what varitune computes only when the run's head",
                "pooling was first-token (see ../config.json, varitune.pooling).", ""));
        java.nio.file.Files.writeString(dir.resolve("adapter_config.json"),
                json.writerWithDefaultPrettyPrinter().writeValueAsString(c) + "\n");
    }

    @Override public String describe() { return "lora (" + config.spec() + ")"; }

    /** {@link Config#spec()}, recorded under {@code lora}. */
    @Override public java.util.Optional<String> recordedOptions() { return java.util.Optional.of(config.spec()); }

    /** With {@code --lora-layers all}: LoRA in every layer 1..l, whatever k says. */
    @Override public boolean tunesEveryLayerToTheHead() { return config.layers() == Layers.ALL; }

    /** Dropout sites of the LoRA branches: slot 16 + role of their layer (the encoder's own use slots 0..7). */
    static final int DROPOUT_SLOT = 16;

    /** PEFT's {@code lora.Linear} branch on one Linear: {@code y += s·(dropout(x)·Aᵀ)·Bᵀ}. */
    public static final class Module implements Linear.Delta {
        private final Kernels kernels;
        private final Parameter a, b;                 // lora_A.weight: (r, in); lora_B.weight: (out, r)
        private final Dropout dropout;
        private final int in, out, r;
        private final float scaling;

        /** What backward needs: u = dropout(x)·Aᵀ and the dropout mask (null when off). u: (N, r) */
        record Saved(float[] u, Dropout.Mask mask) {}

        Module(Kernels kernels, String linear, int in, int out, Config c, long dropoutSite) {
            this.kernels = kernels;
            this.in = in;
            this.out = out;
            this.r = c.rank();
            this.scaling = (float) c.scaling();
            this.a = Parameter.zeros(linear + ".lora_A.weight", r, in);
            this.b = Parameter.zeros(linear + ".lora_B.weight", out, r);
            this.dropout = new Dropout(c.dropout(), dropoutSite);
        }

        /** PEFT's init: A ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in), B = 0. Modifies A and B. */
        void initialize(Random rng) {
            double bound = 1.0 / Math.sqrt(in);
            float[] d = a.data();
            for (int i = 0; i < d.length; i++) d[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
            java.util.Arrays.fill(b.data(), 0f);
        }

        public Parameter loraA() { return a; }
        public Parameter loraB() { return b; }
        public float scaling() { return scaling; }

        @Override
        public Object forwardAdd(float[] y, float[] x, int n, boolean keep, DropoutContext drop) {
            Dropout.Mask mask = dropout.mask(drop, n * in);
            float[] xd = x;
            if (mask != null) {
                xd = new float[n * in];                                    // xd: (N, in) = dropout(x)
                Dropout.apply(xd, x, mask);
            }
            float[] u = new float[n * r];                                  // u: (N, r) = xd·Aᵀ
            kernels.matmulForward(u, xd, a.data(), null, n, in, r);
            float[] v = new float[n * out];                                // v: (N, out) = u·Bᵀ
            kernels.matmulForward(v, u, b.data(), null, n, r, out);
            for (int i = 0; i < v.length; i++) y[i] += scaling * v[i];     // y += s·v
            return keep ? new Saved(u, mask) : null;
        }

        @Override
        public void backward(float[] dY, float[] x, Object saved, float[] dX) {
            Saved s = (Saved) saved;
            int n = s.u().length / r;
            // forward was: y += s·v, v = u·Bᵀ
            float[] dV = new float[n * out];                               // dV: (N, out) = s·dY
            for (int i = 0; i < dV.length; i++) dV[i] = scaling * dY[i];
            boolean needU = a.trainable() || dX != null;
            float[] dU = needU ? new float[n * r] : null;                  // dU: (N, r)
            if (dU != null || b.trainable()) {
                kernels.matmulBackward(dU, b.trainable() ? b.grad() : null, null, dV, s.u(), b.data(), n, r, out);
            }
            if (!needU) return;
            // forward was: u = xd·Aᵀ, xd = dropout(x)
            float[] xd = x;
            if (s.mask() != null) {
                xd = new float[n * in];
                Dropout.apply(xd, x, s.mask());
            }
            float[] dXd = dX != null ? new float[n * in] : null;           // dXd: (N, in)
            kernels.matmulBackward(dXd, a.trainable() ? a.grad() : null, null, dU, xd, a.data(), n, in, r);
            if (dXd == null) return;
            Dropout.applyInPlace(dXd, s.mask());                           // d(x) = d(xd)⊙m/(1−p)
            kernels.add(dX, dX, dXd, dX.length);
        }

        @Override public List<Parameter> parameters() { return List.of(a, b); }

        /** {@code W' = W + s·B·A} (out, in), summed in double: what PEFT's {@code merge_and_unload} computes. */
        @Override
        public float[] merged(float[] weight) {
            float[] w = new float[out * in];
            float[] A = a.data(), B = b.data();
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double acc = 0;
                    for (int k = 0; k < r; k++) acc += (double) B[o * r + k] * A[k * in + i];
                    w[o * in + i] = (float) (weight[o * in + i] + scaling * acc);
                }
            }
            return w;
        }
    }
}

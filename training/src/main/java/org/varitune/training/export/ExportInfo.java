package org.varitune.training.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.ClassificationHead;
import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.TuningMode;
import org.varitune.training.method.ExportedModules;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.ModelFamilies;
import org.varitune.transformer.model.ModelFamily;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What an exported classifier is, beyond its weights: the task, the labels, how it was tuned, and everything needed to
 * rebuild its head and the modules that HF's class has no place for ({@link ExportedModules}: adapters). Written by
 * {@link ModelExport#save} into {@code config.json} (HF keys plus the {@value #JSON_KEY} object), read back by
 * {@link ModelExport#info}.
 *
 * @param taskName          the task, e.g. {@code sst2} (may be empty, never null)
 * @param labels            label names, index = class id (HF {@code id2label}); one per label. Given empty, they
 *                          default to HF's {@code LABEL_<i>}. For regression, the single target's name.
 * @param mode              how it was tuned; null for a name-based {@link org.varitune.training.FreezePolicy}
 * @param headLayer         1-based layer whose hidden states the head reads = the layers kept in the export
 * @param tuneLayers        tuned encoder layers ({@link LayerPlan#tunedLayerCount()}): k in 1..headLayer for TOP_K, PARTIAL,
 *                          ADAPTERS; any value &gt;= 0 (as given, unused) for the other modes
 * @param pooling           the head's pooling ({@link Pooling#FIRST_TOKEN} is what HF computes)
 * @param headKind          whose head ({@link ModelFamily#head()}): BERT's (pooler + classifier), RoBERTa's
 *                          (classifier.dense + out_proj), ...; written as its {@code model_type}
 * @param numLabels         K; 1 = regression (HF {@code problem_type} "regression")
 * @param classifierDropout the head's dropout probability (HF {@code classifier_dropout})
 * @param modules           the modules outside HF's tree that the model holds, by kind: {@link ExportedModules#key()}
 *                          ({@code adapters}) -> its description as {@link ExportedModules#read} normalises it; one
 *                          entry per kind present, none for a kind the model lacks; immutable (the nodes are copies,
 *                          not to be modified), empty when none (null is read as empty)
 * @param sourceModel       name of the model that was tuned (e.g. the HF id or directory name)
 * @param sourceNumLayers   {@code num_hidden_layers} of the source model, before truncation at the head layer
 */
public record ExportInfo(String taskName, List<String> labels, TuningMode mode, int headLayer, int tuneLayers,
                         Pooling pooling, ModelFamily headKind, int numLabels, double classifierDropout,
                         SortedMap<String, ObjectNode> modules,
                         String sourceModel, int sourceNumLayers) {

    /**
     * The keys of the {@value #JSON_KEY} object that are the export's own ({@link #writeTo}, and {@code max_length}
     * from {@link ModelExport#recordTrainedMaxLength}); a registered {@link ExportedModules} may use none of them.
     */
    static final Set<String> OWN_KEYS = Set.of("format_version", "task", "mode", "head_layer", "tune_layers", "pooling",
            "head_kind", "source_model", "source_num_hidden_layers", "max_length");

    static {
        for (ExportedModules m : TuningMethods.exportedModules()) {
            if (OWN_KEYS.contains(m.key())) throw new IllegalStateException("exported modules key '" + m.key() + "' is the export's own");
            if (ModelExport.OWN_FILES.contains(m.file()) || m.file().contains("/")) {
                throw new IllegalStateException("exported modules file '" + m.file() + "' is the export's own or not a plain name");
            }
        }
    }

    /** Key of the varitune object in {@code config.json}. */
    public static final String JSON_KEY = "varitune";
    /**
     * Version of the export's layout, all still read. 4: {@code architectures} names HF's class only when that class
     * computes the model ({@link #hfComputable()}), else varitune's own ({@link #architecture()}), and the two must
     * agree with the {@value #JSON_KEY} object; 3: enum values by their spelling (1, 2: Java names), and
     * {@code architectures} always HF's class, whatever the pooling and adapters (read as the {@value #JSON_KEY}
     * object says, the name ignored); 2: per-site adapters ({@code adapters.attention}, {@code adapters.output} as
     * site specs or null); 1: one {@code adapters.bottleneck} for both sites, near identity, after the dropouts. Each
     * {@link ExportedModules} reads its own description of every version ({@link ExportedModules#read}).
     */
    public static final int FORMAT_VERSION = 4;
    /**
     * Prefix of varitune's own architecture names ({@code VarituneBertForSequenceClassification}): the family's
     * encoder and head layout, but a pooling or modules that HF's class does not compute.
     */
    public static final String VARITUNE_ARCHITECTURE_PREFIX = "Varitune";

    public ExportInfo {
        Objects.requireNonNull(taskName, "taskName");
        Objects.requireNonNull(pooling, "pooling");
        Objects.requireNonNull(headKind, "headKind");
        Objects.requireNonNull(sourceModel, "sourceModel");
        if (numLabels < 1) throw new IllegalArgumentException("numLabels " + numLabels + " must be >= 1");
        if (headLayer < 1) throw new IllegalArgumentException("headLayer " + headLayer + " must be >= 1");
        if (sourceNumLayers < headLayer) {
            throw new IllegalArgumentException("source has " + sourceNumLayers + " layers, below the head layer " + headLayer);
        }
        if (tuneLayers < 0) throw new IllegalArgumentException("tuneLayers " + tuneLayers + " must be >= 0");
        if (mode != null && mode.usesK() && (tuneLayers < 1 || tuneLayers > headLayer)) {
            throw new IllegalArgumentException(mode + ": tuneLayers " + tuneLayers + " outside [1, headLayer = "
                    + headLayer + "]");
        }
        if (!(classifierDropout >= 0 && classifierDropout < 1)) {
            throw new IllegalArgumentException("classifierDropout " + classifierDropout + " outside [0, 1)");
        }
        if (labels == null || labels.isEmpty()) {
            List<String> dflt = new ArrayList<>();
            for (int i = 0; i < numLabels; i++) dflt.add("LABEL_" + i);
            labels = dflt;
        }
        labels = List.copyOf(labels);
        if (labels.size() != numLabels) {
            throw new IllegalArgumentException(labels.size() + " label names " + labels + " for numLabels " + numLabels);
        }
        if (new HashSet<>(labels).size() != labels.size()) {
            throw new IllegalArgumentException("label names " + labels + " repeat (HF label2id needs them distinct)");
        }
        SortedMap<String, ObjectNode> checked = new TreeMap<>();
        if (modules != null) {
            for (Map.Entry<String, ObjectNode> e : modules.entrySet()) {
                ExportedModules kind = kind(e.getKey());
                if (e.getValue() == null) throw new IllegalArgumentException("modules " + e.getKey() + ": no description");
                checked.put(e.getKey(), kind.read(e.getValue(), FORMAT_VERSION, headLayer));   // a normalised copy
            }
        }
        modules = Collections.unmodifiableSortedMap(checked);
    }

    /** The registered kind whose key is {@code key}. */
    private static ExportedModules kind(String key) {
        for (ExportedModules m : TuningMethods.exportedModules()) if (m.key().equals(key)) return m;
        List<String> keys = new ArrayList<>();
        for (ExportedModules m : TuningMethods.exportedModules()) keys.add(m.key());
        throw new IllegalArgumentException("modules '" + key + "' is no registered kind " + keys);
    }

    /**
     * The info of {@code model}, tuned from the HF directory {@code sourceModelDir}: head layer, pooling, head kind,
     * label count, head dropout and the modules outside HF's tree (each registered {@link ExportedModules}'s
     * {@link ExportedModules#describe}) are read off the model; the source name (the directory's name) and its
     * {@code num_hidden_layers} off the directory. Modifies nothing.
     *
     * @param labels     label names (empty = HF's {@code LABEL_<i>})
     * @param mode       the tuning mode (null for a name-based policy)
     * @param tuneLayers the policy's k (0 when the mode takes none)
     */
    public static ExportInfo of(SequenceClassifier model, Path sourceModelDir, String taskName, List<String> labels,
                                TuningMode mode, int tuneLayers) throws IOException {
        EncoderConfig src = EncoderConfig.read(sourceModelDir);
        Path name = sourceModelDir.toAbsolutePath().normalize().getFileName();
        return of(model, name == null ? sourceModelDir.toString() : name.toString(), src.numHiddenLayers(), taskName,
                labels, mode, tuneLayers);
    }

    /**
     * The info of {@code model}, tuned under {@code plan} from the model named {@code sourceModel}: mode, tuned-layer
     * count ({@link LayerPlan#tunedLayerCount()}) and the source's L come from the plan, the rest off the model as in
     * {@link #of(SequenceClassifier, Path, String, List, TuningMode, int)}. Fails when the model's head is not on the
     * plan's head layer. Modifies nothing.
     */
    public static ExportInfo of(SequenceClassifier model, String sourceModel, LayerPlan plan, String taskName,
                                List<String> labels) {
        if (model.headLayer() != plan.headLayer()) {
            throw new IllegalArgumentException("the model's head is on layer " + model.headLayer() + ", the plan's on "
                    + plan.headLayer());
        }
        return of(model, sourceModel, plan.numLayers(), taskName, labels, plan.mode(), plan.tunedLayerCount());
    }

    /**
     * As {@link #of(SequenceClassifier, Path, String, List, TuningMode, int)} with the source named explicitly.
     *
     * @throws IllegalArgumentException when a kind of module cannot describe the model's ({@link ExportedModules#describe})
     */
    public static ExportInfo of(SequenceClassifier model, String sourceModel, int sourceNumLayers, String taskName,
                                List<String> labels, TuningMode mode, int tuneLayers) {
        ClassificationHead head = model.head();
        ModelFamily kind = head.family();
        float drop = head.dropoutProb();
        SortedMap<String, ObjectNode> modules = new TreeMap<>();
        for (ExportedModules m : TuningMethods.exportedModules()) {
            Optional<ObjectNode> d = m.describe(model);
            d.ifPresent(description -> modules.put(m.key(), description));
        }
        return new ExportInfo(taskName, labels, mode, model.headLayer(), tuneLayers, head.pooling(), kind,
                head.numLabels(), Double.parseDouble(Float.toString(drop)), modules, sourceModel, sourceNumLayers);
    }

    /** Whether the head regresses one value (K = 1, MSE) rather than classifying. */
    public boolean regression() { return numLabels == 1; }

    /**
     * Whether the export holds modules outside HF's tree ({@link #modules()} not empty), each kind in its own file
     * ({@link ExportedModules#file()}: {@code adapters.safetensors}).
     */
    public boolean hasModules() { return !modules.isEmpty(); }

    /**
     * Whether HF's {@code <Family>ForSequenceClassification} computes exactly this model: it pools the first token
     * ({@link Pooling#FIRST_TOKEN}) and runs no module outside its own tree ({@link #hasModules()} false: no adapters;
     * LoRA is exported merged, so it adds none).
     */
    public boolean hfComputable() { return pooling == Pooling.FIRST_TOKEN && !hasModules(); }

    /**
     * The {@code architectures} entry: HF's class ({@code BertForSequenceClassification}) when
     * {@link #hfComputable()}, else varitune's own name for the same layout, {@value #VARITUNE_ARCHITECTURE_PREFIX} +
     * HF's class ({@code VarituneBertForSequenceClassification}), which no HF class claims.
     */
    public String architecture() {
        String hf = headKind.head().architecture();
        return hfComputable() ? hf : VARITUNE_ARCHITECTURE_PREFIX + hf;
    }

    /** HF {@code problem_type}. */
    public String problemType() { return regression() ? "regression" : "single_label_classification"; }

    /**
     * Writes the HF classification keys ({@code architectures} = {@link #architecture()}, {@code id2label},
     * {@code label2id}, {@code num_labels}, {@code problem_type}, {@code classifier_dropout}) and the
     * {@value #JSON_KEY} object into {@code config}; the object holds every registered kind of module under its
     * {@link ExportedModules#key()}: the description, or null when the model has none ({@code "adapters": null}).
     * Modifies {@code config}.
     */
    void writeTo(ObjectNode config) {
        config.putArray("architectures").add(architecture());
        ObjectNode id2label = config.putObject("id2label");
        ObjectNode label2id = config.putObject("label2id");
        for (int i = 0; i < numLabels; i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        config.put("num_labels", numLabels);
        config.put("problem_type", problemType());
        config.put("classifier_dropout", classifierDropout);
        ObjectNode v = config.putObject(JSON_KEY);
        v.put("format_version", FORMAT_VERSION);
        v.put("task", taskName);
        if (mode == null) v.putNull("mode"); else v.put("mode", mode.spelling());
        v.put("head_layer", headLayer);
        v.put("tune_layers", tuneLayers);
        v.put("pooling", pooling.spelling());
        v.put("head_kind", headKind.modelType());
        v.put("source_model", sourceModel);
        v.put("source_num_hidden_layers", sourceNumLayers);
        for (ExportedModules m : TuningMethods.exportedModules()) {
            ObjectNode d = modules.get(m.key());
            if (d == null) v.putNull(m.key()); else v.set(m.key(), d.deepCopy());
        }
    }

    /**
     * Parses a {@code config.json} tree: the {@value #JSON_KEY} object when present, else a plain HF
     * {@code *ForSequenceClassification} config (full tuning, head on the top layer, first-token pooling, no
     * modules outside HF's tree). Each registered kind of module reads its own key ({@link ExportedModules#read});
     * absent or null = none. From format 4 on, {@code architectures} must be the object's {@link #architecture()}; formats 1 to 3
     * wrote HF's class for every export and are read by the object alone. {@code file} names the file in errors.
     */
    static ExportInfo fromJson(JsonNode config, Path file) {
        try {
            return parse(config, file);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private static ExportInfo parse(JsonNode config, Path file) {
        EncoderConfig encoder = EncoderConfig.fromJson(config);
        int layers = encoder.numHiddenLayers();
        List<String> labels = new ArrayList<>();
        JsonNode id2label = config.get("id2label");
        if (id2label != null && id2label.isObject()) {
            for (int i = 0; i < id2label.size(); i++) {
                JsonNode n = id2label.get(Integer.toString(i));
                if (n == null || !n.isTextual()) throw new IllegalArgumentException("id2label has no string for id " + i);
                labels.add(n.asText());
            }
        }
        int numLabels = config.hasNonNull("num_labels") ? requireInt(config, "num_labels")
                : labels.isEmpty() ? 2 : labels.size();
        JsonNode cd = config.get("classifier_dropout");
        double dropout = cd != null && cd.isNumber() ? cd.asDouble() : encoder.classifierDropout();
        JsonNode v = config.get(JSON_KEY);
        JsonNode arch = config.get("architectures");
        String named = arch != null && arch.isArray() && arch.size() == 1 ? arch.get(0).asText() : null;
        if (v == null || v.isNull()) {
            if (named != null && named.startsWith(VARITUNE_ARCHITECTURE_PREFIX)) {
                throw new IllegalArgumentException("architectures names varitune's " + named + " but there is no '"
                        + JSON_KEY + "' object saying how it pools and which modules outside HF's tree it holds");
            }
            String kind = named != null ? named : requireText(config, "model_type");
            return new ExportInfo("", labels, TuningMode.FULL, layers, layers, Pooling.FIRST_TOKEN,
                    ModelFamilies.ofName(kind), numLabels, dropout, null, file.getParent() == null ? ""
                    : String.valueOf(file.getParent().getFileName()), layers);
        }
        if (!v.isObject()) throw new IllegalArgumentException("'" + JSON_KEY + "' must be an object, got " + v);
        int version = requireInt(v, "format_version");
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IllegalArgumentException(JSON_KEY + ".format_version " + version + " is not 1.." + FORMAT_VERSION);
        }
        int headLayer = requireInt(v, "head_layer");
        if (headLayer != layers) {
            throw new IllegalArgumentException(JSON_KEY + ".head_layer " + headLayer + " but num_hidden_layers " + layers
                    + " (an export keeps exactly the layers up to the head)");
        }
        JsonNode modeNode = v.get("mode");
        TuningMode mode = modeNode == null || modeNode.isNull() ? null : value(TuningMode.class, modeNode.asText(), version, "mode");
        SortedMap<String, ObjectNode> modules = new TreeMap<>();
        for (ExportedModules m : TuningMethods.exportedModules()) {
            JsonNode d = v.get(m.key());
            if (d != null && !d.isNull()) modules.put(m.key(), m.read(d, version, headLayer));
        }
        ExportInfo info = new ExportInfo(requireText(v, "task"), labels, mode, headLayer, requireInt(v, "tune_layers"),
                value(Pooling.class, requireText(v, "pooling"), version, "pooling"), ModelFamilies.ofName(requireText(v, "head_kind")),
                numLabels, dropout, modules, requireText(v, "source_model"), requireInt(v, "source_num_hidden_layers"));
        if (version >= 4 && !info.architecture().equals(named)) {
            throw new IllegalArgumentException("architectures " + arch + " but the " + JSON_KEY + " object (pooling "
                    + info.pooling() + ", modules outside HF's tree " + (info.hasModules() ? info.modules().keySet() : "none")
                    + ") describes [\"" + info.architecture() + "\"]" + (info.hfComputable() ? ""
                    : ", a model that HF's " + info.headKind().head().architecture() + " does not compute"));
        }
        return info;
    }

    /** An enum value as written by format {@code version} ({@link ExportedModules#enumValue}). */
    private static <E extends Enum<E> & Spelled> E value(Class<E> type, String text, int version, String key) {
        return ExportedModules.enumValue(type, text, version, JSON_KEY + "." + key);
    }

    private static int requireInt(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("key '" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static String requireText(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || !n.isTextual()) throw new IllegalArgumentException("key '" + key + "' must be a string, got " + n);
        return n.asText();
    }
}

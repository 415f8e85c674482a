package org.varitune.training.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.ClassificationHead;
import org.varitune.transformer.layers.Pooling;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.method.ExportedModules;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.ModelFamily;
import org.varitune.transformer.model.WeightLoader;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Exports a tuned {@link SequenceClassifier} as a Hugging Face model directory, and loads one back.
 *
 * <p><b>What the directory claims.</b> Its {@code architectures} names HF's {@code <Family>ForSequenceClassification}
 * ({@code BertForSequenceClassification}, {@code RobertaForSequenceClassification},
 * {@code DistilBertForSequenceClassification}) only when that class computes exactly the exported model
 * ({@link ExportInfo#hfComputable()}): first-token pooling, as every HF head reads {@code h[:, 0]}, and no module
 * outside HF's tree ({@link ExportedModules}; LoRA is written merged, so it qualifies; adapters do not). Such a
 * directory is a stock HF checkpoint: {@code from_pretrained} of that class gives varitune's logits (to float32
 * rounding; checked against a double-precision oracle of HF's class in {@code HfClassSemanticsTest}, and by
 * {@code tools/reference/make_fixtures.py --check-export}). Any other export ({@code mean} or
 * {@code mean-with-special} pooling, adapters) names varitune's own architecture,
 * {@value ExportInfo#VARITUNE_ARCHITECTURE_PREFIX}{@code <Family>ForSequenceClassification}
 * ({@link ExportInfo#architecture()}), which no HF class claims; the {@value ExportInfo#JSON_KEY} object records the
 * pooling and the modules outside HF's tree. Its tensors keep HF's names, but HF's
 * {@code AutoModelForSequenceClassification} does not read {@code architectures}: it builds the stock class from
 * {@code model_type}, loads these tensors without an error and computes a different model (pooling {@code [CLS]} /
 * {@code <s>}, dropping the adapters). Run such a directory
 * with {@code varitune predict} or {@link #load}, which run every export as it was trained.
 *
 * <p>The directory ({@link #save}):
 * <ul>
 *   <li>{@value #CONFIG_FILE}: the source model's config with {@code num_hidden_layers} = the head layer (the layers
 *       above the head are dropped), our encoder's HF keys, the HF classification keys ({@code architectures} as
 *       above, {@code id2label}, {@code label2id}, {@code num_labels}, {@code problem_type},
 *       {@code classifier_dropout}) and the {@value ExportInfo#JSON_KEY} object ({@link ExportInfo}: format version,
 *       task, mode, head layer, tuned layers, pooling, source model and its layer count, and under each registered
 *       {@link ExportedModules#key()} the description of those modules or null: {@code "adapters": null}).</li>
 *   <li>{@value Safetensors#SINGLE_FILE} (F32, metadata {@code format = pt}): the encoder's embeddings and kept
 *       layers under the family's prefix ({@code bert.}, {@code roberta.}, {@code distilbert.}), LoRA merged
 *       ({@link Linear.Delta#merged}), and the head under HF's names: BERT {@code bert.pooler.dense.*} (the head's
 *       pooler) + {@code classifier.*}; RoBERTa {@code classifier.dense.*} + {@code classifier.out_proj.*};
 *       DistilBERT {@code pre_classifier.*} + {@code classifier.*}. No tensor of an {@link ExportedModules}.</li>
 *   <li>for each kind of {@link ExportedModules} the model holds, its {@link ExportedModules#file()} (F32, metadata
 *       {@code format = pt} and {@link ExportedModules#metadata}): its tensors under their own names, no encoder
 *       prefix. Adapters: {@code adapters.safetensors} with
 *       {@code encoder.layer.<i>.attention.output.adapter.{down,up}.*} and/or
 *       {@code encoder.layer.<i>.output.adapter.{down,up}.*}, metadata {@code attention}, {@code output} (site specs or
 *       {@code none}), {@code activation}, {@code layers}. HF transformers does not read these files.</li>
 *   <li>the source's tokenizer files ({@link #TOKENIZER_FILES}), whichever exist, copied byte for byte.</li>
 * </ul>
 * {@link #load} rebuilds the same model: same parameter names, values bit for bit, same head layer, so the same
 * kernels give the same logits bit for bit (a LoRA model comes back merged, as a plain model: its logits agree to
 * float32 rounding, {@code x·(W + ΔW)ᵀ} against {@code x·Wᵀ + x·ΔWᵀ}). It reads both kinds of export, exports of earlier format versions
 * (which named HF's class whatever the pooling; see {@link ExportInfo#FORMAT_VERSION}) and plain HF
 * {@code *ForSequenceClassification} directories.
 */
public final class ModelExport {
    private ModelExport() {}

    public static final String CONFIG_FILE = "config.json";
    /** Tokenizer files copied from the source directory when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.txt", "vocab.json",
            "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");

    /** The files an export writes itself (config, weights, tokenizer, LoRA's {@code peft/}); no module file may be one. */
    static final Set<String> OWN_FILES;

    static {
        Set<String> own = new HashSet<>(List.of(CONFIG_FILE, Safetensors.SINGLE_FILE,
                org.varitune.training.method.LoraTuning.PEFT_DIR));
        own.addAll(TOKENIZER_FILES);
        OWN_FILES = Set.copyOf(own);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes {@code model} as an HF directory at {@code outDir} (see the class doc). The directory is built in a temporary
     * sibling and renamed into place: readers see the old directory, none, or the complete new one, never a mix. An
     * existing {@code outDir} is replaced only when it is empty or an earlier export (its {@value #CONFIG_FILE} holds
     * the {@value ExportInfo#JSON_KEY} object); anything else is refused, untouched. On failure the temporary
     * directory is removed and an existing {@code outDir} is left as it was. Modifies nothing in memory.
     *
     * @param sourceModelDir the HF directory the model was tuned from: its {@value #CONFIG_FILE} is the base of ours,
     *                       its tokenizer files are copied
     * @param info           must describe {@code model} (head layer, pooling, head kind, labels, dropout, modules
     *                       are checked against it; see {@link ExportInfo#of})
     * @throws IllegalArgumentException when {@code info} or the source disagree with the model (fields named)
     */
    public static void save(SequenceClassifier model, Path sourceModelDir, Path outDir, ExportInfo info) throws IOException {
        Objects.requireNonNull(info, "info");
        Path source = sourceModelDir.toAbsolutePath().normalize();
        Path out = outDir.toAbsolutePath().normalize();
        Path sourceConfigFile = source.resolve(CONFIG_FILE);
        EncoderConfig sourceConfig = EncoderConfig.read(sourceConfigFile);
        checkAgainstModel(model, sourceConfig, sourceConfigFile, info);
        ObjectNode config = configJson(model, sourceConfigFile, info);
        SafetensorsWriter weights = new SafetensorsWriter().metadata("format", "pt");
        Map<String, SafetensorsWriter> apart = new LinkedHashMap<>();             // file -> the modules' tensors
        Set<Parameter> notInWeights = new HashSet<>();
        for (ExportedModules kind : TuningMethods.exportedModules()) {
            List<Parameter> ps = kind.parameters(model);
            notInWeights.addAll(ps);
            ObjectNode description = info.modules().get(kind.key());
            if (description == null) continue;                                  // ps is empty: checked against the model
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (Parameter p : ps) w.addF32(p.name(), p.data(), p.shape());
            kind.metadata(description).forEach(w::metadata);
            apart.put(kind.file(), w);
        }
        addWeights(model, weights, notInWeights);
        checkReplaceable(out);

        Path parent = out.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".tmp-");
        try {
            Files.write(tmp.resolve(CONFIG_FILE), JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsString(config).concat("\n").getBytes(StandardCharsets.UTF_8));
            weights.write(tmp.resolve(Safetensors.SINGLE_FILE));
            for (Map.Entry<String, SafetensorsWriter> f : apart.entrySet()) f.getValue().write(tmp.resolve(f.getKey()));
            for (String name : TOKENIZER_FILES) {
                Path f = source.resolve(name);
                if (Files.isRegularFile(f)) Files.copy(f, tmp.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
            }
            replace(tmp, out);
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Records in {@code dir}'s {@value #CONFIG_FILE} the length ({@code varitune.max_length}) the model was trained and
     * evaluated with, which {@code predict} uses by default. Rewrites the file atomically; modifies nothing else.
     */
    public static void recordTrainedMaxLength(Path dir, int maxLength) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        JsonNode v = root.get(ExportInfo.JSON_KEY);
        if (!(v instanceof ObjectNode vo)) throw new IOException(file + ": no " + ExportInfo.JSON_KEY + " object (not an export)");
        vo.put("max_length", maxLength);
        org.varitune.transformer.io.AtomicWrite.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }

    /** The length recorded by {@link #recordTrainedMaxLength}, or empty (a plain HF directory, an older export). */
    public static java.util.OptionalInt trainedMaxLength(Path dir) throws IOException {
        JsonNode root = JSON.readTree(dir.resolve(CONFIG_FILE).toFile());
        JsonNode m = root == null ? null : root.path(ExportInfo.JSON_KEY).get("max_length");
        if (m == null || m.isNull()) return java.util.OptionalInt.empty();
        if (!m.canConvertToInt() || m.asInt() < 2) {
            throw new IOException(dir.resolve(CONFIG_FILE) + ": " + ExportInfo.JSON_KEY + ".max_length " + m + " is not an integer >= 2");
        }
        return java.util.OptionalInt.of(m.asInt());
    }

    /** The {@link ExportInfo} of an exported (or plain HF {@code *ForSequenceClassification}) directory. */
    public static ExportInfo info(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no " + CONFIG_FILE);
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IOException(file + ": not a JSON object");
        return ExportInfo.fromJson(root, file);
    }

    /**
     * Loads a directory written by {@link #save} (or a plain HF {@code *ForSequenceClassification} directory: full
     * tuning, first-token pooling, no modules outside HF's tree): the encoder by the standard loader (all kept layers;
     * BERT's {@code bert.pooler} goes to the encoder too, unused by the model), each kind of module that
     * {@code config.json} describes from its file ({@link ExportedModules#load}: adapters from
     * {@code adapters.safetensors}), then the head. Every parameter is trainable (apply a
     * {@link org.varitune.training.FreezePolicy} to train on).
     *
     * @throws IOException naming the file and the tensors when a tensor is missing, misshapen or unused, or a kind's
     *                     file is absent though described, present though not described, or unreadable
     */
    public static SequenceClassifier load(Path dir, Kernels kernels) throws IOException {
        ExportInfo info = info(dir);
        Path configFile = dir.resolve(CONFIG_FILE);
        EncoderConfig config = EncoderConfig.read(configFile);
        if (!info.headKind().modelType().equals(config.modelType())) {
            throw new IOException(configFile + ": a " + info.headKind().head().architecture() + " head on a "
                    + config.modelType() + " encoder");
        }
        for (ExportedModules kind : TuningMethods.exportedModules()) {
            Path file = dir.resolve(kind.file());
            if (!info.modules().containsKey(kind.key()) && Files.exists(file)) {
                throw new IOException(file + ": present, but " + configFile + " lists no " + kind.key() + " ("
                        + ExportInfo.JSON_KEY + "." + kind.key() + " is null)");
            }
        }
        try (WeightSource src = Safetensors.open(dir)) {
            Encoder enc = WeightLoader.load(src, config, kernels, config.numHiddenLayers());
            for (ExportedModules kind : TuningMethods.exportedModules()) {
                ObjectNode description = info.modules().get(kind.key());
                if (description != null) kind.load(enc, description, dir.resolve(kind.file()));
            }
            ClassificationHead head = new ClassificationHead(kernels, info.headKind(), config.hiddenSize(), info.numLabels(),
                    info.classifierDropout(), info.pooling());
            head.loadFrom(src);
            checkNoStrayTensors(src, head);
            return new SequenceClassifier(enc, head, info.headLayer());
        }
    }

    // ---- save helpers ----

    /** Fails, naming the fields, when {@code info} or the source config does not describe {@code model}. */
    private static void checkAgainstModel(SequenceClassifier model, EncoderConfig source, Path sourceFile, ExportInfo info) {
        EncoderConfig enc = model.encoder().config();
        List<String> bad = new ArrayList<>();
        if (!source.modelType().equals(enc.modelType())) bad.add("model_type " + source.modelType() + " vs the encoder's " + enc.modelType());
        if (source.vocabSize() != enc.vocabSize()) bad.add("vocab_size " + source.vocabSize() + " vs the encoder's " + enc.vocabSize());
        if (source.hiddenSize() != enc.hiddenSize()) bad.add("hidden_size " + source.hiddenSize() + " vs the encoder's " + enc.hiddenSize());
        if (!bad.isEmpty()) throw new IllegalArgumentException(sourceFile + " does not describe the model's encoder: " + bad);
        ExportInfo actual = ExportInfo.of(model, info.sourceModel(), source.numHiddenLayers(), info.taskName(),
                info.labels(), info.mode(), info.tuneLayers());
        compare(bad, "headLayer", info.headLayer(), actual.headLayer());
        compare(bad, "pooling", info.pooling(), actual.pooling());
        compare(bad, "headKind", info.headKind(), actual.headKind());
        compare(bad, "numLabels", info.numLabels(), actual.numLabels());
        compare(bad, "classifierDropout", info.classifierDropout(), actual.classifierDropout());
        compare(bad, "modules", info.modules(), actual.modules());
        compare(bad, "sourceNumLayers (" + sourceFile + ")", info.sourceNumLayers(), actual.sourceNumLayers());
        if (!bad.isEmpty()) throw new IllegalArgumentException("export info does not describe the model: " + bad);
        if (!actual.headKind().modelType().equals(enc.modelType())) {
            throw new IllegalArgumentException("a " + actual.headKind().head().architecture() + " head on a " + enc.modelType()
                    + " encoder has no HF architecture");
        }
        if (model.encoder().config().numHiddenLayers() > source.numHiddenLayers()) {
            throw new IllegalArgumentException("the encoder has " + model.encoder().numLayers() + " layers, "
                    + sourceFile + " only " + source.numHiddenLayers());
        }
    }

    private static void compare(List<String> bad, String field, Object given, Object actual) {
        if (!Objects.equals(given, actual)) bad.add(field + ": info says " + given + ", the model has " + actual);
    }

    /** The source's config.json tree, overlaid with the kept encoder config and the classification keys. */
    private static ObjectNode configJson(SequenceClassifier model, Path sourceConfigFile, ExportInfo info) throws IOException {
        JsonNode src = JSON.readTree(sourceConfigFile.toFile());
        ObjectNode config = src != null && src.isObject() ? (ObjectNode) src : JSON.createObjectNode();
        config.setAll(model.encoder().config().withNumHiddenLayers(model.headLayer()).toJson());
        config.put("torch_dtype", "float32");
        info.writeTo(config);
        return config;
    }

    /**
     * Adds the encoder (embeddings, layers 1..headLayer; HF prefix) and the head to {@code weights}, but not
     * {@code apart} (the tensors of the {@link ExportedModules}, written to their own files). A Linear with a
     * {@link Linear.Delta} (LoRA) is written merged ({@link Linear.Delta#merged}), its delta's own tensors not at all:
     * a plain checkpoint.
     */
    private static void addWeights(SequenceClassifier model, SafetensorsWriter weights, Set<Parameter> apart) {
        Encoder enc = model.encoder();
        String prefix = enc.config().family().prefix();
        for (Parameter p : enc.embeddings().parameters()) weights.addF32(prefix + p.name(), p.data(), p.shape());
        for (int l = 0; l < model.headLayer(); l++) {
            EncoderLayer layer = enc.layers().get(l);
            Map<Parameter, Linear> withDelta = new java.util.HashMap<>();      // weight -> its Linear, for merging
            Set<Parameter> deltaParams = new HashSet<>();
            for (LinearRole role : LinearRole.values()) {
                Linear lin = layer.linear(role);
                if (lin.delta() == null) continue;
                withDelta.put(lin.weight(), lin);
                deltaParams.addAll(lin.delta().parameters());
            }
            for (Parameter p : layer.parameters()) {
                if (deltaParams.contains(p) || apart.contains(p)) continue;   // merged into its Linear's weight; own file
                if (withDelta.containsKey(p)) weights.addF32(prefix + p.name(), withDelta.get(p).delta().merged(p.data()), p.shape());
                else weights.addF32(prefix + p.name(), p.data(), p.shape());
            }
        }
        for (Parameter p : model.head().parameters()) {
            weights.addF32(model.head().checkpointName(p), p.data(), p.shape());   // bert.pooler.dense.*, classifier.*
        }
    }

    /** Refuses to replace an existing path that is not an empty directory or an earlier export. */
    private static void checkReplaceable(Path out) throws IOException {
        if (!Files.exists(out)) return;
        if (!Files.isDirectory(out)) throw new FileAlreadyExistsException(out.toString(), null, "exists and is not a directory");
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isEmpty()) return;
        }
        Path cfg = out.resolve(CONFIG_FILE);
        boolean export = false;
        if (Files.isRegularFile(cfg)) {
            try {
                JsonNode root = JSON.readTree(cfg.toFile());
                export = root != null && root.has(ExportInfo.JSON_KEY);
            } catch (IOException e) {
                export = false;
            }
        }
        if (!export) {
            throw new DirectoryNotEmptyException(out + " (not an earlier export: no " + ExportInfo.JSON_KEY
                    + " object in its " + CONFIG_FILE + "; refusing to replace it)");
        }
    }

    /** Renames {@code tmp} to {@code out}, moving an existing {@code out} aside first and deleting it after. */
    private static void replace(Path tmp, Path out) throws IOException {
        if (!Files.exists(out)) {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        Path old = Files.createTempDirectory(out.getParent(), "." + out.getFileName() + ".old-");
        Files.delete(old);
        Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.move(old, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        deleteTree(old);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    // ---- load helpers ----

    /**
     * Fails naming the tensors of {@code src} that are neither in the encoder's namespace (checked by
     * {@link WeightLoader}) nor read by the head.
     */
    private static void checkNoStrayTensors(WeightSource src, ClassificationHead head) throws IOException {
        ModelFamily family = head.family();
        Set<String> headKeys = new HashSet<>();
        for (Parameter p : head.parameters()) headKeys.add(head.checkpointKey(src, p));
        List<String> stray = new ArrayList<>();
        for (String name : src.names()) {
            if (headKeys.contains(name)) continue;
            String local = name.startsWith(family.prefix()) ? name.substring(family.prefix().length()) : name;
            String root = local.contains(".") ? local.substring(0, local.indexOf('.')) : local;
            if (!family.encoderRoots().contains(root)) stray.add(name);
        }
        if (!stray.isEmpty()) throw new IOException(src.source() + ": tensors neither encoder nor head: " + stray);
    }
}

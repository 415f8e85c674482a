package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.varitune.experiments.analysis.VariabilityPass;
import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.metrics.Variant;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.models.BuiltinModels;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What goes into the {@link Fingerprint} of a training run and of a variability (nu) computation, and the content
 * hashes behind it. Everything that decides the numbers is in; labels that do not (paths, the experiment's name, the
 * git commit, argv) are out and only recorded in {@code run.json}.
 *
 * <ul>
 *   <li>{@code model}: SHA-256 of the lines {@code <file> <sha256>} over {@code config.json} and the weight files the
 *   loader reads ({@code model.safetensors}, else the index and the shards it names), sorted by name. For a built-in
 *   model given by name the sums come from its manifest ({@link BuiltinModels#MANIFEST}), which
 *   {@link BuiltinModels#ensure} has just verified against the files, so a built-in and its directory hash alike.</li>
 *   <li>{@code tokenizer}: the same over the files {@code Tokenizers.load} reads (tokenizer.json; else vocab.txt and
 *   tokenizer_config.json; else vocab.json and merges.txt).</li>
 *   <li>{@code examples}: SHA-256 of the examples actually used, after truncation: per split its name, label names,
 *   regression and pair flags and count, then per example textA, textB, label and score (source line numbers are
 *   left out: moving an example does not change it, reordering does).</li>
 *   <li>the settings: the resolved {@link TrainConfig#toMap()} without {@link TrainConfig#OPERATIONAL} as
 *   {@code train.<field>}, method, k, seed, resolved head layer; for nu the pass settings.</li>
 *   <li>the numerics ({@link RunEnvironment#numerics}): the backend always; the thread count and vector width where
 *   they change bits.</li>
 * </ul>
 *
 * File hashes are cached in memory by (path, size, mtime, file key), so a sweep hashes a 500 MB model once, not once
 * per run; a file rewritten in place gets a new mtime and is hashed again.
 */
public final class RunIdentity {
    private RunIdentity() {}

    /** The content hashes of a model directory: weights + config, and tokenizer. */
    public record ModelHashes(String model, String tokenizer) {}

    private record FileKey(Path path, long size, long mtimeNanos, Object fileKey) {}

    private static final Map<FileKey, String> FILE_HASHES = new ConcurrentHashMap<>();

    /** SHA-256 (hex) of a file's bytes, cached by (path, size, mtime, file key). */
    public static String sha256(Path file) throws IOException {
        Path p = file.toAbsolutePath().normalize();
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        FileKey key = new FileKey(p, a.size(), a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS), a.fileKey());
        String h = FILE_HASHES.get(key);
        if (h != null) return h;
        MessageDigest md = digest();
        try (InputStream in = new DigestInputStream(Files.newInputStream(p), md)) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // reading feeds the digest
            }
        }
        h = HexFormat.of().formatHex(md.digest());
        FILE_HASHES.put(key, h);
        return h;
    }

    /**
     * The hashes of the model that {@code nameOrDir} resolved to ({@code dir}); see the class comment.
     *
     * @throws IOException when a file the loaders read is missing or unreadable
     */
    public static ModelHashes model(String nameOrDir, Path dir) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        if (BuiltinModels.find(nameOrDir).isPresent()) {
            Path mf = dir.resolve(BuiltinModels.MANIFEST);
            JsonNode files = AtomicFiles.JSON.readTree(mf.toFile()).path("files");
            files.fields().forEachRemaining(e -> sums.put(e.getKey(), e.getValue().path("sha256").asText()));
            for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                if (!sums.containsKey(f) || sums.get(f).isEmpty()) throw new IOException(mf + ": no SHA-256 of " + f);
            }
        } else {
            for (String f : modelFiles(dir)) sums.put(f, sha256(dir.resolve(f)));
            for (String f : tokenizerFiles(dir)) sums.put(f, sha256(dir.resolve(f)));
        }
        Map<String, String> model = new TreeMap<>(), tok = new TreeMap<>();
        for (var e : sums.entrySet()) (TOKENIZER_FILES.contains(e.getKey()) ? tok : model).put(e.getKey(), e.getValue());
        return new ModelHashes(sumOfSums(model), sumOfSums(tok));
    }

    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.txt", "tokenizer_config.json",
            "vocab.json", "merges.txt");

    /** config.json and the weight files {@code Safetensors.open} reads from a directory. */
    static List<String> modelFiles(Path dir) throws IOException {
        List<String> files = new ArrayList<>(List.of("config.json"));
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            files.add("model.safetensors");
        } else if (Files.isRegularFile(dir.resolve("model.safetensors.index.json"))) {
            files.add("model.safetensors.index.json");
            JsonNode map = AtomicFiles.JSON.readTree(dir.resolve("model.safetensors.index.json").toFile()).path("weight_map");
            TreeSet<String> shards = new TreeSet<>();
            map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
            files.addAll(shards);
        } else {
            throw new IOException(dir + ": neither model.safetensors nor model.safetensors.index.json to fingerprint");
        }
        return files;
    }

    /** The tokenizer files {@code Tokenizers.load} reads, in its order of preference. */
    static List<String> tokenizerFiles(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("tokenizer.json"))) return List.of("tokenizer.json");
        if (Files.isRegularFile(dir.resolve("vocab.txt"))) {
            return Files.isRegularFile(dir.resolve("tokenizer_config.json"))
                    ? List.of("vocab.txt", "tokenizer_config.json") : List.of("vocab.txt");
        }
        if (Files.isRegularFile(dir.resolve("vocab.json")) && Files.isRegularFile(dir.resolve("merges.txt"))) {
            return List.of("vocab.json", "merges.txt");
        }
        throw new IOException(dir + ": no tokenizer.json, vocab.txt, or vocab.json + merges.txt to fingerprint");
    }

    private static String sumOfSums(Map<String, String> sums) {
        StringBuilder sb = new StringBuilder();
        sums.forEach((f, h) -> sb.append(f).append(' ').append(h).append('\n'));
        return HexFormat.of().formatHex(digest().digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** SHA-256 (hex) of the examples of the given splits, in order; see the class comment. */
    public static String examples(List<Dataset> splits) {
        MessageDigest md = digest();
        for (Dataset d : splits) {
            text(md, d.split());
            md.update(ints(d.labelNames().size()));
            for (String l : d.labelNames()) text(md, l);
            md.update(new byte[] {(byte) (d.regression() ? 1 : 0), (byte) (d.pair() ? 1 : 0)});
            md.update(ints(d.size()));
            for (Example e : d.examples()) {
                text(md, e.textA());
                text(md, e.textB());
                md.update(ints(e.label()));
                md.update(ByteBuffer.allocate(8).putLong(Double.doubleToLongBits(e.score())).array());
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void text(MessageDigest md, String s) {                 // length-prefixed; -1 = null
        if (s == null) {
            md.update(ints(-1));
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(ints(b.length));
        md.update(b);
    }

    private static byte[] ints(int v) { return ByteBuffer.allocate(4).putInt(v).array(); }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /**
     * The fingerprint of a training run: model, tokenizer, task, examples (train and every dev split as used),
     * max_train_examples, {@code train.<field>} for every non-operational field of the resolved config, method, k,
     * seed, resolved head layer, numerics.
     */
    public static Fingerprint training(ModelHashes m, String task, String examples, int maxTrainExamples, TrainConfig tc,
                                       String method, int k, long seed, int headLayer, Kernels kernels) {
        Map<String, Object> train = new LinkedHashMap<>(tc.toMap());
        train.keySet().removeAll(TrainConfig.OPERATIONAL);
        return Fingerprint.builder().put("model", m.model()).put("tokenizer", m.tokenizer()).put("task", task)
                .put("examples", examples).put("max_train_examples", maxTrainExamples).putAll("train.", train)
                .put("method", method).put("k", k).put("seed", seed).put("head_layer", headLayer)
                .putAll("", RunEnvironment.numerics(kernels)).build();
    }

    /**
     * The fingerprint of a variability pass and its report: model, tokenizer, task, examples (the training split as
     * used), max_examples, max_length, pooling, variant, batch size, reservoir size and seed, numerics.
     */
    public static Fingerprint variability(ModelHashes m, String task, Dataset train, int maxExamples,
                                          VariabilityPass.Options o, Variant variant, Kernels kernels) {
        return Fingerprint.builder().put("model", m.model()).put("tokenizer", m.tokenizer()).put("task", task)
                .put("examples", examples(List.of(train))).put("max_examples", maxExamples)
                .put("max_length", o.maxLength()).put("pooling", o.pooling().spelling()).put("variant", variant.spelling())
                .put("batch_size", o.batchSize()).put("reservoir_per_class", o.reservoirPerClass())
                .put("reservoir_seed", o.seed()).putAll("", RunEnvironment.numerics(kernels)).build();
    }
}

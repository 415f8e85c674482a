package org.varitune.training.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.AdamW;
import org.varitune.transformer.io.SafetensorsFile;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Checkpoint directories under {@code <run>/checkpoints/}: {@code last/} (resume) and {@code best/} (model selection).
 * Each holds
 * <ul>
 *   <li>{@code weights.safetensors}: every trainable parameter (F32, HF name verbatim); frozen ones come from the
 *       pretrained model and are not repeated;</li>
 *   <li>{@code optimizer.safetensors} ({@code last/} only): AdamW's {@code <name>.exp_avg}, {@code <name>.exp_avg_sq}
 *       (F32) and {@code <name>.step} (I64), metadata {@code steps};</li>
 *   <li>{@code trainer_state.json}: epoch, step, counters, best metric, history, resolved config;</li>
 *   <li>{@value #MANIFEST}, written last: byte count and CRC-32C of each file above. A directory without it, or whose
 *       files differ from it (truncated, a flipped bit), is corrupt and never read ({@link #verify}).</li>
 * </ul>
 *
 * <p><b>Replacement.</b> {@link #save} writes the new directory complete under a temporary name (every file forced
 * to disk, the manifest last) and verifies it against its manifest; only then does the current {@code <which>/},
 * if it still verifies, become {@code <which>.prev/} (replacing the one before), and the new one is renamed into
 * place. {@code last.prev/} stays as the fallback until the next save; {@code best.prev/} is removed once the new
 * {@code best/} is in place (an older best is another epoch, not a substitute). So whatever is interrupted, killed or
 * later damaged, a verified checkpoint remains: {@link #locate} returns the first of {@code <which>/},
 * {@code <which>.prev/} that verifies and reports each one it skips, with what is wrong with it.
 */
public final class Checkpoints {
    public static final String LAST = "last", BEST = "best";
    public static final String WEIGHTS = "weights.safetensors", OPTIMIZER = "optimizer.safetensors",
            STATE = "trainer_state.json", MANIFEST = "manifest.json";
    /** Suffix of the previous checkpoint kept beside {@code <which>/}. */
    public static final String PREVIOUS = ".prev";
    private static final int MANIFEST_FORMAT = 1;
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {}

    /** A checkpoint directory that is incomplete or differs from its manifest; the message names the file and defect. */
    public static final class CorruptCheckpointException extends IOException {
        public CorruptCheckpointException(String message) { super(message); }
    }

    /**
     * Writes checkpoint {@code which} under {@code checkpointsDir}, keeping the previous one until the new one is
     * complete and verified (see the class comment).
     *
     * @param params    the trainable parameters (data saved; not modified)
     * @param optimizer saved when non-null (not modified)
     * @param state     the trainer state JSON
     */
    public static void save(Path checkpointsDir, String which, List<Parameter> params, AdamW optimizer, JsonNode state)
            throws IOException {
        Files.createDirectories(checkpointsDir);
        Path tmp = Files.createTempDirectory(checkpointsDir, "." + which + ".tmp");
        try {
            List<String> files = new ArrayList<>(List.of(WEIGHTS));
            SafetensorsWriter w = new SafetensorsWriter();
            for (Parameter p : params) w.addF32(p.name(), p.data(), p.shape());
            w.metadata("format", "pt");
            w.write(tmp.resolve(WEIGHTS));
            if (optimizer != null) {
                SafetensorsWriter o = new SafetensorsWriter();
                for (var e : optimizer.state().entrySet()) {
                    int n = e.getValue().expAvg().length;
                    o.addF32(e.getKey() + ".exp_avg", e.getValue().expAvg(), n);
                    o.addF32(e.getKey() + ".exp_avg_sq", e.getValue().expAvgSq(), n);
                    o.addI64(e.getKey() + ".step", new long[] {e.getValue().step()}, 1);
                }
                o.metadata("steps", Long.toString(optimizer.steps()));
                o.write(tmp.resolve(OPTIMIZER));
                files.add(OPTIMIZER);
            }
            writeForced(tmp.resolve(STATE), (JSON.writeValueAsString(state) + "\n").getBytes(StandardCharsets.UTF_8));
            files.add(STATE);
            writeManifest(tmp, files);
            forceDirectory(tmp);
            verify(tmp);
            Path target = checkpointsDir.resolve(which), prev = checkpointsDir.resolve(which + PREVIOUS);
            if (Files.exists(target)) {
                if (isIntact(target)) {
                    discard(prev);
                    Files.move(target, prev, StandardCopyOption.ATOMIC_MOVE);
                } else {
                    discard(target);                          // a corrupt checkpoint never becomes the fallback
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(checkpointsDir);
            if (!LAST.equals(which)) discard(prev);
        } finally {
            deleteRecursively(tmp);
        }
    }

    /**
     * The checkpoint to read for {@code which}: the first of {@code <which>/}, {@code <which>.prev/} that exists and
     * {@link #verify verifies}. Each one skipped (present but corrupt, or {@code <which>/} missing while
     * {@code <which>.prev/} exists, which a kill between the two renames of {@link #save} leaves) is reported to
     * {@code warn} in one line naming the directory and what is wrong.
     *
     * @return the checkpoint directory, or null when neither exists
     * @throws CorruptCheckpointException when some exist and none verifies (the message lists every defect)
     */
    public static Path locate(Path checkpointsDir, String which, Consumer<String> warn) throws IOException {
        List<String> defects = new ArrayList<>();
        for (Path c : List.of(checkpointsDir.resolve(which), checkpointsDir.resolve(which + PREVIOUS))) {
            if (!Files.exists(c)) {
                defects.add(c + " is missing");
                continue;
            }
            try {
                verify(c);
            } catch (CorruptCheckpointException e) {
                defects.add(e.getMessage());
                continue;
            }
            if (!defects.isEmpty()) warn.accept("checkpoint " + defects.get(0) + "; using " + c + " instead");
            return c;
        }
        if (defects.stream().allMatch(d -> d.endsWith(" is missing"))) return null;
        throw new CorruptCheckpointException(checkpointsDir + ": no intact '" + which + "' checkpoint: "
                + String.join("; ", defects));
    }

    /** {@link #locate} without reporting skipped checkpoints. */
    public static Path locate(Path checkpointsDir, String which) throws IOException {
        return locate(checkpointsDir, which, m -> {});
    }

    /**
     * Checks a checkpoint directory against its {@value #MANIFEST}: the manifest exists and lists
     * {@value #STATE} and {@value #WEIGHTS}, and every listed file exists with the listed byte count and CRC-32C.
     *
     * @throws CorruptCheckpointException naming the directory, the file and the defect
     */
    public static void verify(Path checkpoint) throws IOException {
        Path mf = checkpoint.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) {
            throw new CorruptCheckpointException(checkpoint + " has no " + MANIFEST + " (its write did not complete)");
        }
        JsonNode files;
        try {
            JsonNode m = JSON.readTree(mf.toFile());
            if (m == null || m.path("format").asInt() != MANIFEST_FORMAT || !m.path("files").isObject()) {
                throw new CorruptCheckpointException(mf + ": not a format-" + MANIFEST_FORMAT + " manifest with 'files'");
            }
            files = m.get("files");
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new CorruptCheckpointException(mf + ": unreadable JSON (" + e.getOriginalMessage() + ")");
        }
        for (String required : List.of(STATE, WEIGHTS)) {
            if (!files.has(required)) throw new CorruptCheckpointException(mf + " does not list " + required);
        }
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) files::fields) {
            Path f;
            try {
                f = checkpoint.resolve(e.getKey());
            } catch (java.nio.file.InvalidPathException x) {
                throw new CorruptCheckpointException(mf + ": '" + e.getKey() + "' is not a file name");
            }
            if (!checkpoint.equals(f.getParent())) throw new CorruptCheckpointException(mf + ": '" + e.getKey() + "' is not a file name");
            if (!Files.isRegularFile(f)) throw new CorruptCheckpointException(f + " is missing (listed in " + MANIFEST + ")");
            long want = e.getValue().path("bytes").asLong(-1), have = Files.size(f);
            if (have != want) {
                throw new CorruptCheckpointException(f + " has " + have + " bytes, " + MANIFEST + " says " + want);
            }
            String crc = crc32c(f), listed = e.getValue().path("crc32c").asText();
            if (!crc.equals(listed)) {
                throw new CorruptCheckpointException(f + ": CRC-32C " + crc + ", " + MANIFEST + " says " + listed);
            }
        }
    }

    private static boolean isIntact(Path checkpoint) throws IOException {
        try {
            verify(checkpoint);
            return true;
        } catch (CorruptCheckpointException e) {
            return false;
        }
    }

    /** Writes {@value #MANIFEST} (byte count and CRC-32C of each file, as read back from disk) last, forced. */
    private static void writeManifest(Path dir, List<String> files) throws IOException {
        ObjectNode m = JSON.createObjectNode();
        m.put("format", MANIFEST_FORMAT);
        m.put("checksum", "CRC-32C (Castagnoli) of the whole file, hex");
        ObjectNode fs = m.putObject("files");
        for (String f : files) {
            ObjectNode e = fs.putObject(f);
            e.put("bytes", Files.size(dir.resolve(f)));
            e.put("crc32c", crc32c(dir.resolve(f)));
        }
        writeForced(dir.resolve(MANIFEST), (JSON.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** CRC-32C of a file's bytes, 8 lowercase hex digits. */
    static String crc32c(Path file) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buf) >= 0) {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        }
        return String.format(Locale.ROOT, "%08x", crc.getValue());
    }

    private static void writeForced(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
    }

    /** Forces a directory's entries (the renames into it) to disk, where the platform allows opening a directory. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // not supported here (e.g. Windows): the renames are still atomic, only their durability is the OS's
        }
    }

    /** Renames a directory out of the way to a temporary name (atomic), then deletes it. */
    private static void discard(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        Path gone = dir.resolveSibling("." + dir.getFileName() + ".tmp-" + UUID.randomUUID());
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        deleteRecursively(gone);
    }

    /** Deletes the temporary directories an interrupted {@link #save} left (never a readable checkpoint). */
    public static void cleanTemporaries(Path checkpointsDir) throws IOException {
        if (!Files.isDirectory(checkpointsDir)) return;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(checkpointsDir, ".*.tmp*")) {
            for (Path p : ds) deleteRecursively(p);
        }
    }

    public static JsonNode readState(Path checkpoint) throws IOException {
        return JSON.readTree(checkpoint.resolve(STATE).toFile());
    }

    /**
     * Loads {@code weights.safetensors} into {@code params}: the saved names must be exactly the parameters' names,
     * with the same shapes (an error lists the differences). Modifies the parameters' data.
     */
    public static void loadWeights(Path checkpoint, List<Parameter> params) throws IOException {
        Path file = checkpoint.resolve(WEIGHTS);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Set<String> want = new TreeSet<>();
            for (Parameter p : params) want.add(p.name());
            if (!f.names().equals(want)) {
                Set<String> missing = new TreeSet<>(want), extra = new TreeSet<>(f.names());
                missing.removeAll(f.names());
                extra.removeAll(want);
                throw new IOException(file + ": the checkpoint's tensors do not match the trainable parameters; missing "
                        + missing + ", unexpected " + extra);
            }
            for (Parameter p : params) {
                int[] shape = f.info(p.name()).shape();
                if (!Arrays.equals(shape, p.shape())) {
                    throw new IOException(file + ": " + p.name() + " has shape " + Arrays.toString(shape) + ", the model "
                            + Arrays.toString(p.shape()));
                }
                p.copyFrom(f.readFloat(p.name()), shape);
            }
        }
    }

    /** Restores AdamW's state from {@code optimizer.safetensors}. Modifies the optimizer. */
    public static void loadOptimizer(Path checkpoint, AdamW optimizer) throws IOException {
        Path file = checkpoint.resolve(OPTIMIZER);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, AdamW.ParamState> state = new LinkedHashMap<>();
            for (String n : f.names()) {
                if (!n.endsWith(".exp_avg")) continue;
                String name = n.substring(0, n.length() - ".exp_avg".length());
                state.put(name, new AdamW.ParamState(f.readFloat(n), f.readFloat(name + ".exp_avg_sq"),
                        f.readLong(name + ".step")[0]));
            }
            String steps = f.metadata().get("steps");
            if (steps == null) throw new IOException(file + ": no 'steps' metadata");
            optimizer.loadState(Long.parseLong(steps), state);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** Writes a text file atomically (temporary file in the same directory, then an atomic rename). */
    static void writeAtomically(Path file, String text) throws IOException {
        org.varitune.transformer.io.AtomicWrite.writeString(file, text);
    }
}

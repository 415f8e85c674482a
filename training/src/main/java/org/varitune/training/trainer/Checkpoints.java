package org.varitune.training.trainer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.varitune.training.AdamW;
import org.varitune.transformer.io.SafetensorsFile;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Checkpoint directories under {@code <run>/checkpoints/}: {@code last/} (resume) and {@code best/} (model selection).
 * Each holds
 * <ul>
 *   <li>{@code weights.safetensors}: every trainable parameter (F32, HF name verbatim); frozen ones come from the
 *       pretrained model and are not repeated;</li>
 *   <li>{@code optimizer.safetensors} ({@code last/} only): AdamW's {@code <name>.exp_avg}, {@code <name>.exp_avg_sq}
 *       (F32) and {@code <name>.step} (I64), metadata {@code steps};</li>
 *   <li>{@code trainer_state.json}: epoch, step, counters, best metric, history, resolved config.</li>
 * </ul>
 * A directory is replaced atomically: written complete under a temporary name, the old one renamed to
 * {@code .<name>.old}, the new one renamed into place, the old one deleted. A kill between the two renames leaves
 * {@code .<name>.old}, which {@link #locate} returns, so a readable checkpoint always exists once one was written.
 */
public final class Checkpoints {
    public static final String LAST = "last", BEST = "best";
    public static final String WEIGHTS = "weights.safetensors", OPTIMIZER = "optimizer.safetensors",
            STATE = "trainer_state.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Checkpoints() {}

    /**
     * Writes checkpoint {@code which} under {@code checkpointsDir}, replacing the previous one atomically.
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
            }
            Files.writeString(tmp.resolve(STATE), JSON.writeValueAsString(state) + "\n", StandardCharsets.UTF_8);
            Path target = checkpointsDir.resolve(which), old = checkpointsDir.resolve("." + which + ".old");
            deleteRecursively(old);
            if (Files.exists(target)) Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            deleteRecursively(old);
        } finally {
            deleteRecursively(tmp);
        }
    }

    /**
     * The readable checkpoint {@code which}: {@code <which>/}, else the {@code .<which>.old/} a kill between the two
     * renames left behind, else null.
     */
    public static Path locate(Path checkpointsDir, String which) {
        Path target = checkpointsDir.resolve(which), old = checkpointsDir.resolve("." + which + ".old");
        if (Files.isRegularFile(target.resolve(STATE))) return target;
        if (Files.isRegularFile(old.resolve(STATE))) return old;
        return null;
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

package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.varitune.experiments.report.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Keeps a result directory from handing back results of other inputs. Before a job writes anything into its
 * directory it records the {@link Fingerprint} of what it computes in {@value #FILE}; a later job into the same
 * directory {@link #check}s its own fingerprint against that record:
 * <ul>
 *   <li>{@link State#NEW}: nothing there yet (no output exists);</li>
 *   <li>{@link State#SAME}: same fingerprint, so finished outputs can be returned and partial ones resumed;</li>
 *   <li>{@link State#CHANGED}: outputs of other inputs, or outputs without a record (written before fingerprints
 *   were kept): never returned as the new result; the caller refuses, or with the user's consent moves them aside
 *   ({@link #moveAside}: to {@code <root>/stale/<n>/<same relative path>}, never deleted) and starts clean, so no
 *   stale checkpoint or accumulator is resumed either.</li>
 * </ul>
 */
public final class ResultGuard {
    /** Name of the record, next to the outputs. */
    public static final String FILE = "fingerprint.json";

    private ResultGuard() {}

    public enum State { NEW, SAME, CHANGED }

    /**
     * What a directory holds relative to the wanted fingerprint.
     *
     * @param changes for CHANGED, the differing components as {@code key: old -> new} (or why none can be listed)
     */
    public record Check(Path dir, State state, List<String> changes) {}

    /** The refusal to reuse or overwrite results of other inputs; the message lists them and the way out. */
    public static final class ChangedResultsException extends IllegalStateException {
        public ChangedResultsException(String message) { super(message); }
    }

    /**
     * Compares the record in {@code dir} with {@code wanted}.
     *
     * @param outputs the paths whose existence means the directory holds (possibly partial) results
     * @throws IOException when the record is unreadable
     */
    public static Check check(Path dir, Fingerprint wanted, List<Path> outputs) throws IOException {
        if (outputs.stream().noneMatch(Files::exists)) return new Check(dir, State.NEW, List.of());
        Fingerprint recorded = recorded(dir);
        if (recorded == null) {
            return new Check(dir, State.CHANGED, List.of("no " + FILE + " (written before results were fingerprinted)"));
        }
        if (recorded.sha256().equals(wanted.sha256())) return new Check(dir, State.SAME, List.of());
        List<String> changes = wanted.changesSince(recorded);
        return new Check(dir, State.CHANGED, changes.isEmpty() ? List.of("fingerprint_sha256 differs") : changes);
    }

    /** Every entry of {@code dir} but the record: what {@link #check} looks at for a directory owned by one job. */
    public static List<Path> contents(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().equals(FILE)).sorted().toList();
        }
    }

    /** The fingerprint recorded in {@code dir}, or null. */
    public static Fingerprint recorded(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        JsonNode j = AtomicFiles.JSON.readTree(f.toFile());
        return Fingerprint.fromJson(j.get("fingerprint"), f.toString());
    }

    /** Writes the record ({@code fingerprint} and {@code fingerprint_sha256}) into {@code dir}, creating it. */
    public static void record(Path dir, Fingerprint fp) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.writeJson(dir.resolve(FILE), fp.writeTo(AtomicFiles.JSON.createObjectNode()));
    }

    /**
     * Moves the existing {@code paths} (files or directories below {@code root}) to
     * {@code <root>/stale/<n>/<path relative to root>}, with the smallest n ≥ 1 where none of them exists yet.
     * Outside {@code runs/} and {@code variability/}, so reports do not read the moved results.
     *
     * @return the {@code <root>/stale/<n>} directory used
     */
    public static Path moveAside(Path root, List<Path> paths) throws IOException {
        List<Path> present = new ArrayList<>();
        for (Path p : paths) if (Files.exists(p)) present.add(p);
        Path base;
        for (int n = 1; ; n++) {
            Path b = root.resolve("stale").resolve(Integer.toString(n));
            if (present.stream().noneMatch(p -> Files.exists(b.resolve(root.relativize(p))))) {
                base = b;
                break;
            }
        }
        for (Path p : present) {
            Path target = base.resolve(root.relativize(p));
            Files.createDirectories(target.getParent());
            Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return base;
    }

    /**
     * The refusal message: the changed results with their changes, that they are kept, and how to redo them.
     *
     * @param one   what a result is, e.g. "run" (plural: "runs") or "variability analysis" ("variability analyses")
     * @param howTo e.g. "rerun them with --rerun-changed"
     */
    public static String describe(Path root, String one, String many, List<Check> changed, String howTo) {
        StringBuilder sb = new StringBuilder();
        sb.append(root).append(": ").append(changed.size()).append(' ')
                .append(changed.size() == 1 ? one + " was" : many + " were")
                .append(" computed from other inputs than now given:\n");
        int shown = 0;
        for (Check c : changed) {
            if (shown++ == 20) {
                sb.append("  ... and ").append(changed.size() - 20).append(" more\n");
                break;
            }
            String rel = root.relativize(c.dir()).toString();
            sb.append("  ").append(rel.isEmpty() ? "." : rel).append(": ").append(String.join("; ", c.changes())).append('\n');
        }
        if (changed.stream().flatMap(c -> c.changes().stream())
                .anyMatch(c -> c.startsWith("kernels:") || c.startsWith("threads:") || c.startsWith("vector_bits:"))) {
            sb.append("(the backend, thread count and vector width change the last bits of results: to match the old "
                    + "ones run with the same -Dkernels and -Dvaritune.threads, e.g. through VARITUNE_JAVA_OPTS)\n");
        }
        sb.append("the old results are kept; ").append(howTo)
                .append(" (the old files move to ").append(root.resolve("stale")).append("/<n>/), or use a new --out");
        return sb.toString();
    }
}

package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.kernels.Parallel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What a run directory records about where and how it ran: argv, git commit, JVM, backend and threads. */
public final class RunEnvironment {
    private RunEnvironment() {}

    /** The git commit of the working tree the launcher runs from (HEAD, "-dirty" when modified), or "unknown". */
    public static String gitCommit() {
        try {
            Path root = Path.of("").toAbsolutePath();
            while (root != null && !Files.isDirectory(root.resolve(".git"))) root = root.getParent();
            if (root == null) return "unknown";
            String head = run(root, "git", "rev-parse", "HEAD");
            String dirty = run(root, "git", "status", "--porcelain", "--untracked-files=no");
            return head == null ? "unknown" : head + (dirty != null && !dirty.isBlank() ? "-dirty" : "");
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    private static String run(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? out : null;
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * The parts of the environment that change a result's bits, as fingerprint components: {@code kernels} (the
     * backend's name: {@code cpu}, {@code fast(openblas+avx512)}, {@code fast(openblas)}, {@code fast(vector)}, a CUDA device) always; for every
     * backend but the scalar {@code cpu} also {@code threads} ({@link Parallel#threads()}: the fast kernels cut their
     * reductions and GEMM tiles by the thread count, so results repeat bit for bit only for the same count) and
     * {@code vector_bits} (the preferred Vector API width: their lane-order sums group by lane count). The scalar
     * backend runs single-threaded and sums in double, and elementwise parallel loops (AdamW, dropout) give the same
     * bits on any thread count, so its results depend on neither.
     */
    public static Map<String, Object> numerics(Kernels kernels) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kernels", kernels.name());
        if (!kernels.name().equals("cpu")) {
            m.put("threads", Parallel.threads());
            m.put("vector_bits", jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
        }
        return m;
    }

    /** Writes {@code run.json}: argv, commit, JVM, backend, threads, and the resolved settings given. */
    public static void write(Path runDir, List<String> argv, String backend, ObjectNode resolved) throws IOException {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        o.putPOJO("argv", argv);
        o.put("git_commit", gitCommit());
        o.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        o.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        o.put("kernels", backend);
        o.put("threads", Parallel.threads());
        o.set("resolved", resolved);
        AtomicFiles.writeJson(runDir.resolve("run.json"), o);
    }
}

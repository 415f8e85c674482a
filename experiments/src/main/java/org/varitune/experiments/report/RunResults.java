package org.varitune.experiments.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The {@code result.json} files below some directories, checked and merged so that each run counts once.
 *
 * <p><b>Identity.</b> A run's <em>slot</em> is (model, method, k, task, seed): the place its score takes in the
 * table. Two results in one slot are either the same run found twice (e.g. the shared {@code full} runs of a
 * fine-tuning and an adapter sweep, or a shard directory given twice), which collapse into one result listing both
 * experiments and both files, or an error naming both files. The training of the two is compared by the first of
 * these that both results carry: {@code fingerprint_sha256} (a hash of everything that decides the result);
 * otherwise {@code signature} (model, task, training-set cap and the resolved training config, seed included);
 * otherwise the {@code resolved} settings in the run directory's {@code run.json}; otherwise nothing, and the
 * results alone decide. Different trainings in one slot are an error (a cell would mix configurations and repeat a
 * seed); the same training with a different status, score, head layer, trainable fraction or compute is an error
 * too (a stale or non-deterministic result). The method is part of the slot, so a guided run whose training equals
 * a top-k run ({@code equivalent_to} set) stays a run of its own method.
 */
final class RunResults {
    private RunResults() {}

    /** Run status in result.json (as written by {@code SweepRunner}). */
    static final String DONE = "done", SKIPPED = "skipped";

    /**
     * One run's result.
     *
     * @param files        every result.json this run was read from (more than one after collapsing duplicates)
     * @param experiments  sorted distinct experiment names of those files
     * @param headRule     the config's {@code head_layer} rule ({@code auto}, {@code top} or a number); for results
     *                     written before the field existed: {@code top} for mode {@code top-k}, else {@code auto} /
     *                     {@code top} for a method named {@code guided*} / {@code top-k*}, else null
     * @param score        the main dev metric in [0, 1] as written (NaN when skipped)
     * @param headLayer    resolved head layer l (1..L; 0 when skipped)
     * @param numHiddenLayers L of the model
     * @param trainings    the training identities present: {@code fingerprint_sha256}, {@code signature},
     *                     {@code run.json} → the value
     */
    record Run(List<Path> files, List<String> experiments, String model, String task, String method, String mode,
               String headRule, int k, long seed, String status, double score, int headLayer, int numHiddenLayers,
               double trainableFraction, double relativeCompute, String equivalentTo, Map<String, String> trainings) {
        boolean done() { return DONE.equals(status); }

        /** Encoder layers run per prediction relative to the full model: l / L (the head drops layers above l). */
        double inferenceCost() { return (double) headLayer / numHiddenLayers; }

        String slot() { return model + "\u0000" + method + "\u0000" + k + "\u0000" + task + "\u0000" + seed; }

        String describe() {
            return "model " + model + ", task " + task + ", method " + method + ", k " + k + ", seed " + seed;
        }
    }

    /** The merged runs (in the order first found) and how many result files were read. */
    record Merged(List<Run> runs, int filesRead) {}

    /**
     * Reads every {@code result.json} below {@code dirs} (sorted per directory) and merges duplicates. Results that a
     * rerun moved aside ({@code <sweep>/stale/<n>/...}, see {@code ResultGuard.moveAside}) are superseded, not read.
     */
    static Merged read(List<Path> dirs) throws IOException {
        Map<String, Run> bySlot = new LinkedHashMap<>();
        int files = 0;
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) throw new IOException(d + ": not a directory");
            List<Path> found;
            found = AtomicFiles.find(d, "result.json").stream().filter(p -> !movedAside(d.relativize(p))).toList();
            for (Path p : found) {
                Run r = parse(p);
                files++;
                Run seen = bySlot.get(r.slot());
                bySlot.put(r.slot(), seen == null ? r : collapse(seen, r));
            }
        }
        if (files == 0) throw new IOException("no result.json under " + dirs);
        return new Merged(List.copyOf(bySlot.values()), files);
    }

    /** Whether a path below a read directory lies in a {@code stale/<n>/} folder of superseded results. */
    static boolean movedAside(Path relative) {
        for (int i = 0; i + 1 < relative.getNameCount(); i++) {
            if (relative.getName(i).toString().equals("stale") && relative.getName(i + 1).toString().matches("\\d+")) {
                return true;
            }
        }
        return false;
    }

    /** The one run that {@code a} and {@code b} (same slot) both are; throws when they are not the same run. */
    static Run collapse(Run a, Run b) throws IOException {
        for (String kind : List.of("fingerprint_sha256", "signature", "run.json")) {
            String x = a.trainings().get(kind), y = b.trainings().get(kind);
            if (x != null && y != null) {
                if (!x.equals(y)) {
                    throw new IOException(a.describe() + ": two different trainings (" + kind + " differs) in "
                            + a.files().get(0) + " and " + b.files().get(0) + "; a table cell cannot mix them: "
                            + "report them separately or give the methods different names");
                }
                break;
            }
        }
        boolean same = a.status().equals(b.status()) && Double.compare(a.score(), b.score()) == 0
                && a.headLayer() == b.headLayer() && a.numHiddenLayers() == b.numHiddenLayers()
                && Double.compare(a.trainableFraction(), b.trainableFraction()) == 0
                && Double.compare(a.relativeCompute(), b.relativeCompute()) == 0;
        if (!same) {
            throw new IOException(a.describe() + ": the same run has different results in " + a.files().get(0)
                    + " (" + a.status() + ", score " + a.score() + ", head layer " + a.headLayer() + ") and "
                    + b.files().get(0) + " (" + b.status() + ", score " + b.score() + ", head layer " + b.headLayer()
                    + ")");
        }
        List<Path> files = new ArrayList<>(a.files());
        files.addAll(b.files());
        TreeSet<String> exps = new TreeSet<>(a.experiments());
        exps.addAll(b.experiments());
        Map<String, String> trainings = new LinkedHashMap<>(b.trainings());
        trainings.putAll(a.trainings());
        return new Run(List.copyOf(files), List.copyOf(exps), a.model(), a.task(), a.method(), a.mode(),
                a.headRule() != null ? a.headRule() : b.headRule(), a.k(), a.seed(), a.status(), a.score(),
                a.headLayer(), a.numHiddenLayers(), a.trainableFraction(), a.relativeCompute(),
                a.equivalentTo() != null ? a.equivalentTo() : b.equivalentTo(), Map.copyOf(trainings));
    }

    /** One result.json; every error names the file and the key. */
    static Run parse(Path file) throws IOException {
        JsonNode j;
        try {
            j = AtomicFiles.JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (j == null || !j.isObject()) throw new IOException(file + ": not a JSON object");
        String status = text(j, file, "status");
        if (!status.equals(DONE) && !status.equals(SKIPPED)) {
            throw new IOException(file + ": status '" + status + "' is neither '" + DONE + "' nor '" + SKIPPED + "'");
        }
        String model = text(j, file, "model"), task = text(j, file, "task"), method = text(j, file, "method");
        String mode = text(j, file, "mode");
        int k = (int) integer(j, file, "k");
        long seed = integer(j, file, "seed");
        boolean done = status.equals(DONE);
        String headRule = j.hasNonNull("head_rule") ? text(j, file, "head_rule")
                : mode.equals("top-k") ? "top" : method.startsWith("guided") ? "auto"
                : method.startsWith("top-k") ? "top" : null;
        int head = done ? (int) integer(j, file, "head_layer") : 0;
        int layers = done ? (int) integer(j, file, "num_hidden_layers") : 0;
        if (done && (layers < 1 || head < 1 || head > layers)) {
            throw new IOException(file + ": head_layer " + head + " outside 1..num_hidden_layers (" + layers + ")");
        }
        Map<String, String> trainings = new LinkedHashMap<>();
        if (j.hasNonNull("fingerprint_sha256")) trainings.put("fingerprint_sha256", text(j, file, "fingerprint_sha256"));
        if (j.hasNonNull("signature")) trainings.put("signature", text(j, file, "signature"));
        Path runJson = file.resolveSibling("run.json");
        if (Files.exists(runJson)) {
            JsonNode resolved;
            try {
                resolved = AtomicFiles.JSON.readTree(runJson.toFile()).get("resolved");
            } catch (JsonProcessingException e) {
                throw new IOException(runJson + ": not valid JSON: " + e.getOriginalMessage(), e);
            }
            if (resolved != null) trainings.put("run.json", resolved.toString());
        }
        return new Run(List.of(file), List.of(text(j, file, "experiment")), model, task, method, mode, headRule, k, seed,
                status, done ? number(j, file, "score") : Double.NaN, head, layers,
                done ? number(j, file, "trainable_fraction") : Double.NaN,
                done ? number(j, file, "relative_compute") : Double.NaN,
                j.hasNonNull("equivalent_to") ? text(j, file, "equivalent_to") : null, Map.copyOf(trainings));
    }

    private static JsonNode field(JsonNode j, Path file, String key) throws IOException {
        JsonNode n = j.get(key);
        if (n == null || n.isNull()) throw new IOException(file + ": result has no '" + key + "'");
        return n;
    }

    private static String text(JsonNode j, Path file, String key) throws IOException {
        JsonNode n = field(j, file, key);
        if (!n.isTextual()) throw new IOException(file + ": '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    private static long integer(JsonNode j, Path file, String key) throws IOException {
        JsonNode n = field(j, file, key);
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new IOException(file + ": '" + key + "' must be an integer, got " + n);
        }
        return n.asLong();
    }

    private static double number(JsonNode j, Path file, String key) throws IOException {
        JsonNode n = field(j, file, key);
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) {
            throw new IOException(file + ": '" + key + "' must be a finite number, got " + n);
        }
        return n.asDouble();
    }
}

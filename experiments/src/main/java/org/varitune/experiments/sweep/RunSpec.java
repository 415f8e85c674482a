package org.varitune.experiments.sweep;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One training run of a sweep: a task, a method with its k, and a seed. {@link #id()} is stable and names the run's
 * directory ({@code <task>/<method>-k<k>/seed-<seed>}; {@code k0} for methods without k).
 *
 * @param headLayer {@code auto}, {@code top} or a layer number, resolved by the runner
 */
public record RunSpec(String task, String method, String mode, String headLayer, int k, long seed) {

    public String id() {
        return task + "/" + method + "-k" + k + "/seed-" + seed;
    }

    /** Every run of a config, sorted by id (the order shards are cut from). */
    public static List<RunSpec> expand(ExperimentConfig c) {
        List<RunSpec> runs = new ArrayList<>();
        for (String task : c.tasks()) {
            for (ExperimentConfig.Method m : c.methods()) {
                for (int k : m.k()) {
                    for (long seed : c.seeds()) runs.add(new RunSpec(task, m.name(), m.mode(), m.headLayer(), k, seed));
                }
            }
        }
        runs.sort(Comparator.comparing(RunSpec::id));
        return runs;
    }

    /**
     * Shard {@code i} of {@code n} (0-based): the runs whose position in the sorted list is congruent to i mod n.
     * Every run falls in exactly one shard, and the cut depends only on the config.
     */
    public static List<RunSpec> shard(List<RunSpec> sorted, int i, int n) {
        if (n < 1 || i < 0 || i >= n) throw new IllegalArgumentException("shard " + i + "/" + n + ": need 0 <= i < n");
        List<RunSpec> out = new ArrayList<>();
        for (int j = i; j < sorted.size(); j += n) out.add(sorted.get(j));
        return out;
    }

    /** Parses {@code i/n} as given on the command line. */
    public static int[] parseShard(String s) {
        String[] p = s.split("/");
        if (p.length != 2) throw new IllegalArgumentException("--shard must be i/n (e.g. 0/4), got '" + s + "'");
        try {
            return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shard must be i/n with integers, got '" + s + "'");
        }
    }
}

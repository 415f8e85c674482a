package org.varitune.experiments.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.math3.distribution.TDistribution;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The paper-style table of one or more sweep directories, and the paired comparison that tests the paper's claim.
 *
 * <p><b>Rows</b> are keyed by (model, method, k): results of different models are never averaged together. The runs
 * are read and merged by {@link RunResults}: the same run found in two sweeps (e.g. the {@code full} runs shared by a
 * fine-tuning and an adapter sweep) counts once, and the row's experiment column lists every experiment it came
 * from. A guided run whose training equals a top-k run ({@code equivalent_to}) counts in the guided row. Skipped runs
 * (k above the resolved head layer) fill no cell. Columns: per task, mean ± sample standard deviation over seeds of
 * the task's main dev metric ×100; the average over the model's tasks of those means; and, each as a mean over tasks
 * of the per-task mean over seeds: the trainable share of parameters, the compute of a training step relative to
 * full fine-tuning, and the inference cost l / L (encoder layers run per prediction relative to the full model: the
 * head on layer l drops the layers above it).
 *
 * <p><b>Paired comparison.</b> A <em>guided</em> method (head rule {@code auto}, mode {@code partial} or
 * {@code adapters}) is compared with every <em>baseline</em> method (head rule {@code top}) of the same model, the
 * same family (modes {@code top-k} and {@code partial} tune layers, mode {@code adapters} inserts adapters) and the
 * same k, on each task, over the seeds both ran: d_s = 100·(score_guided(s) − score_baseline(s)),
 * d̄ = Σ d_s / n, s_d² = Σ (d_s − d̄)² / (n − 1), and the 95% paired-t interval d̄ ± t_{0.975, n−1}·s_d/√n
 * (none when n &lt; 2). Pairing uses the mode and the head rule recorded in result.json, not the method names.
 *
 * <p>Written as Markdown (both tables), CSV ({@code report.csv}: one line per row and task plus an {@code average}
 * line per row; {@code report-paired.csv}) and JSON (both), with PNG plots of nu per layer and of score against
 * compute. The three formats carry the same numbers; Markdown rounds them.
 */
public final class SweepReport {
    /** Coverage of the paired-difference intervals. */
    public static final double CONFIDENCE = 0.95;

    /**
     * One task of a row.
     *
     * @param seeds      the seeds, ascending
     * @param scores     the main metric ×100 per seed, in the order of {@code seeds}
     * @param trainableFraction mean over the seeds of trainable / full-model parameters
     * @param relativeCompute   mean over the seeds of the training-step compute relative to full fine-tuning
     * @param inferenceCost     mean over the seeds of l / L
     * @param headLayers        distinct resolved head layers l of the task's runs
     */
    public record Cell(List<Long> seeds, double[] scores, double trainableFraction, double relativeCompute,
                       double inferenceCost, List<Integer> headLayers) {
        public double mean() { return SweepReport.mean(scores); }

        /** Sample standard deviation (n − 1); NaN with one seed. */
        public double std() { return SweepReport.std(scores); }
    }

    /**
     * One (model, method, k) row.
     *
     * @param experiments  every experiment the row's runs came from, sorted
     * @param cells        task -> cell, tasks sorted
     * @param averageOver  the model's tasks (every task with a finished run of this model), sorted
     */
    public record Row(String model, List<String> experiments, String method, String mode, String headRule, int k,
                      Map<String, Cell> cells, List<String> averageOver) {
        /** Mean over {@link #averageOver()} of the per-task means; NaN when the row lacks one of them. */
        public double average() {
            double s = 0;
            for (String t : averageOver) {
                Cell c = cells.get(t);
                if (c == null) return Double.NaN;
                s += c.mean();
            }
            return s / averageOver.size();
        }

        /** Mean over the row's tasks of the per-task trainable fraction. */
        public double trainableFraction() { return overTasks(Cell::trainableFraction); }

        /** Mean over the row's tasks of the per-task training compute relative to full fine-tuning. */
        public double relativeCompute() { return overTasks(Cell::relativeCompute); }

        /** Mean over the row's tasks of the per-task l / L. */
        public double inferenceCost() { return overTasks(Cell::inferenceCost); }

        public List<Integer> headLayers() {
            TreeSet<Integer> h = new TreeSet<>();
            cells.values().forEach(c -> h.addAll(c.headLayers()));
            return List.copyOf(h);
        }

        private double overTasks(ToDoubleFunction<Cell> f) {
            return cells.values().stream().mapToDouble(f).average().orElse(Double.NaN);
        }
    }

    /**
     * Guided minus baseline on one task at one k, paired by seed.
     *
     * @param seeds       the seeds both methods ran, ascending
     * @param differences d_s = 100·(guided − baseline) per seed
     * @param mean        d̄
     * @param std         s_d (n − 1); NaN when n &lt; 2
     * @param tQuantile   t_{0.975, n−1}; NaN when n &lt; 2
     * @param low         d̄ − t·s_d/√n; NaN when n &lt; 2
     * @param high        d̄ + t·s_d/√n; NaN when n &lt; 2
     */
    public record Paired(String model, String guided, String baseline, String task, int k, List<Long> seeds,
                         double[] differences, double mean, double std, double tQuantile, double low, double high) {}

    private final List<String> tasks;
    private final List<Row> rows;
    private final List<Paired> paired;
    private final int filesRead, runs, skipped;

    private SweepReport(RunResults.Merged merged) throws IOException {
        this.filesRead = merged.filesRead();
        this.runs = merged.runs().size();
        List<RunResults.Run> done = merged.runs().stream().filter(RunResults.Run::done).toList();
        this.skipped = runs - done.size();
        TreeSet<String> ts = new TreeSet<>();
        Map<String, TreeSet<String>> modelTasks = new TreeMap<>();
        Map<String, List<RunResults.Run>> groups = new TreeMap<>();
        for (RunResults.Run r : done) {
            ts.add(r.task());
            modelTasks.computeIfAbsent(r.model(), m -> new TreeSet<>()).add(r.task());
            List<RunResults.Run> g = groups.computeIfAbsent(r.model() + "\u0000" + r.method() + "\u0000" + r.k(),
                    x -> new ArrayList<>());
            RunResults.Run first = g.isEmpty() ? r : g.get(0);
            if (!first.mode().equals(r.mode()) || !Objects.equals(first.headRule(), r.headRule())) {
                throw new IOException("model " + r.model() + ", method " + r.method() + ": mode/head rule "
                        + first.mode() + "/" + first.headRule() + " in " + first.files().get(0) + " but " + r.mode()
                        + "/" + r.headRule() + " in " + r.files().get(0) + "; one row cannot mix them");
            }
            g.add(r);
        }
        this.tasks = List.copyOf(ts);
        List<Row> rs = new ArrayList<>();
        for (List<RunResults.Run> g : groups.values()) {
            Map<String, List<RunResults.Run>> byTask = new TreeMap<>();
            TreeSet<String> exps = new TreeSet<>();
            for (RunResults.Run r : g) {
                byTask.computeIfAbsent(r.task(), t -> new ArrayList<>()).add(r);
                exps.addAll(r.experiments());
            }
            Map<String, Cell> cells = new LinkedHashMap<>();
            byTask.forEach((t, v) -> cells.put(t, cell(v)));
            RunResults.Run f = g.get(0);
            rs.add(new Row(f.model(), List.copyOf(exps), f.method(), f.mode(), f.headRule(), f.k(), cells,
                    List.copyOf(modelTasks.get(f.model()))));
        }
        rs.sort(Comparator.comparing(Row::model).thenComparingInt(SweepReport::methodOrder)
                .thenComparing(Row::method).thenComparingInt(Row::k));
        this.rows = List.copyOf(rs);
        this.paired = pairs(rows);
    }

    private static Cell cell(List<RunResults.Run> runs) {
        List<RunResults.Run> v = runs.stream().sorted(Comparator.comparingLong(RunResults.Run::seed)).toList();
        TreeSet<Integer> heads = new TreeSet<>();
        v.forEach(r -> heads.add(r.headLayer()));
        return new Cell(v.stream().map(RunResults.Run::seed).toList(),
                v.stream().mapToDouble(r -> 100 * r.score()).toArray(),
                v.stream().mapToDouble(RunResults.Run::trainableFraction).average().orElseThrow(),
                v.stream().mapToDouble(RunResults.Run::relativeCompute).average().orElseThrow(),
                v.stream().mapToDouble(RunResults.Run::inferenceCost).average().orElseThrow(), List.copyOf(heads));
    }

    private static int methodOrder(Row r) {
        if (r.mode().equals("full")) return 0;
        return "top".equals(r.headRule()) ? 1 : "auto".equals(r.headRule()) ? 2 : 3;
    }

    /**
     * Which runs compare: top-k and partial tune whole layers ({@code layers}); every other tuning method (adapters,
     * lora, any method added later) is compared with itself, head on the top layer against the guided head; full and
     * probe take no part in the comparison.
     */
    private static String family(String mode) {
        return switch (mode) {
            case "full", "probe" -> null;
            case "top-k", "partial" -> "layers";
            default -> mode;
        };
    }

    private static boolean isGuided(Row r) {
        return "auto".equals(r.headRule()) && !r.mode().equals("top-k") && family(r.mode()) != null;
    }

    private static boolean isBaseline(Row r) {
        return "top".equals(r.headRule()) && family(r.mode()) != null;
    }

    private static List<Paired> pairs(List<Row> rows) {
        List<Paired> out = new ArrayList<>();
        for (Row g : rows) {
            if (!isGuided(g)) continue;
            for (Row b : rows) {
                if (!isBaseline(b) || !b.model().equals(g.model()) || b.k() != g.k()
                        || !family(b.mode()).equals(family(g.mode()))) continue;
                for (Map.Entry<String, Cell> e : g.cells().entrySet()) {
                    Cell cb = b.cells().get(e.getKey());
                    if (cb == null) continue;
                    Paired p = paired(g, b, e.getKey(), e.getValue(), cb);
                    if (p != null) out.add(p);
                }
            }
        }
        out.sort(Comparator.comparing(Paired::model).thenComparing(Paired::guided).thenComparing(Paired::baseline)
                .thenComparing(Paired::task).thenComparingInt(Paired::k));
        return List.copyOf(out);
    }

    /** The paired difference of two cells over their common seeds; null when they share no seed. */
    static Paired paired(Row g, Row b, String task, Cell cg, Cell cb) {
        List<Long> seeds = new ArrayList<>();
        List<Double> d = new ArrayList<>();
        for (int i = 0; i < cg.seeds().size(); i++) {
            int j = cb.seeds().indexOf(cg.seeds().get(i));
            if (j < 0) continue;
            seeds.add(cg.seeds().get(i));
            d.add(cg.scores()[i] - cb.scores()[j]);
        }
        if (seeds.isEmpty()) return null;
        double[] diffs = d.stream().mapToDouble(Double::doubleValue).toArray();
        int n = diffs.length;
        double mean = mean(diffs), std = std(diffs), t = Double.NaN, lo = Double.NaN, hi = Double.NaN;
        if (n >= 2) {
            t = new TDistribution(null, n - 1).inverseCumulativeProbability(0.5 + CONFIDENCE / 2);
            double half = t * std / Math.sqrt(n);
            lo = mean - half;
            hi = mean + half;
        }
        return new Paired(g.model(), g.method(), b.method(), task, g.k(), List.copyOf(seeds), diffs, mean, std, t,
                lo, hi);
    }

    /** Reads and merges every {@code result.json} below the given directories (see {@link RunResults}). */
    public static SweepReport read(List<Path> dirs) throws IOException {
        return new SweepReport(RunResults.read(dirs));
    }

    public List<Row> rows() { return rows; }
    public List<String> tasks() { return tasks; }
    public List<Paired> paired() { return paired; }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    /** Sample standard deviation sqrt(Σ (x − mean)² / (n − 1)); NaN for fewer than two values. */
    static double std(double[] v) {
        if (v.length < 2) return Double.NaN;
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }

    private static String f(String format, double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, format, v);
    }

    private static String cellText(Cell c) {
        if (c == null) return "n/a";
        return c.scores().length == 1 ? f("%.1f", c.mean()) + " (1 seed)" : f("%.1f", c.mean()) + " ± " + f("%.1f", c.std());
    }

    /** A Markdown table cell: pipes escaped. */
    static String md(String s) { return s.replace("|", "\\|"); }

    private static String joinInts(List<Integer> v) {
        return v.stream().map(String::valueOf).collect(Collectors.joining(" "));
    }

    public String markdown() {
        StringBuilder sb = new StringBuilder("| model | experiment | method | k | head layer |");
        for (String t : tasks) sb.append(' ').append(md(t)).append(" |");
        sb.append(" avg | trainable % | train compute | inference cost |\n|---|---|---|---|---|");
        sb.append("---|".repeat(tasks.size())).append("---|---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(md(r.model())).append(" | ").append(md(String.join(", ", r.experiments())))
                    .append(" | ").append(md(r.method())).append(" | ").append(r.k() == 0 ? "-" : r.k()).append(" | ")
                    .append(joinInts(r.headLayers())).append(" |");
            for (String t : tasks) sb.append(' ').append(cellText(r.cells().get(t))).append(" |");
            sb.append(' ').append(f("%.1f", r.average())).append(" | ").append(f("%.2f", 100 * r.trainableFraction()))
                    .append(" | ").append(f("%.2f", r.relativeCompute())).append(" | ")
                    .append(f("%.2f", r.inferenceCost())).append(" |\n");
        }
        sb.append("\nCells: mean ± sample std (n − 1) over seeds of the task's main dev metric ×100 (best dev epoch). ")
                .append("avg: mean of the per-task means over the tasks run with the model; n/a when the row lacks one. ")
                .append("trainable %, train compute and inference cost: means over the row's tasks. train compute: ")
                .append("FLOPs of a training step relative to full fine-tuning (forward 1 + backward 2 units per layer; ")
                .append("layers served from the prefix cache count 0). inference cost: encoder layers run per ")
                .append("prediction relative to the full model, l / L (the head on layer l drops the layers above it). ")
                .append(String.format(Locale.ROOT, "%d result files, %d distinct runs (%d duplicates counted once), "
                        + "%d skipped (k above the head layer).%n", filesRead, runs, filesRead - runs, skipped));
        sb.append("\n### Paired: guided − baseline at the same k, by seed\n\n");
        if (paired.isEmpty()) {
            sb.append("No guided method with a baseline of the same model, family and k.\n");
            return sb.toString();
        }
        sb.append("| model | task | k | guided | baseline | pairs | mean diff | 95% CI |\n|---|---|---|---|---|---|---|---|\n");
        for (Paired p : paired) {
            sb.append("| ").append(md(p.model())).append(" | ").append(md(p.task())).append(" | ").append(p.k())
                    .append(" | ").append(md(p.guided())).append(" | ").append(md(p.baseline())).append(" | ")
                    .append(p.seeds().size()).append(" | ").append(f("%+.2f", p.mean())).append(" | ")
                    .append(Double.isNaN(p.low()) ? "n/a" : "[" + f("%+.2f", p.low()) + ", " + f("%+.2f", p.high()) + "]")
                    .append(" |\n");
        }
        sb.append("\nd_s = 100·(guided − baseline) on seed s, over the seeds both ran; mean diff = d̄; ")
                .append("95% CI = d̄ ± t_{0.975, n−1}·s_d/√n (paired t); n/a with fewer than two pairs. ")
                .append("Guided: head_layer auto; baseline: head_layer top, same model, k and family (top-k and partial tune ")
                .append("layers; every other mode pairs with itself).\n");
        return sb.toString();
    }

    /**
     * The table as CSV (RFC 4180, CRLF lines): one line per row and task (mean and std of the scores ×100; costs of
     * that task), then one line per row with task {@code average} (the average over the model's tasks; costs as in
     * the Markdown table). NaN is an empty field.
     */
    public String csv() {
        Csv t = new Csv("\r\n", "model", "experiment", "method", "mode", "head_rule", "k", "task", "seeds", "mean", "std",
                "head_layers", "trainable_fraction", "relative_compute", "inference_cost");
        for (Row r : rows) {
            String exps = String.join(", ", r.experiments()), rule = r.headRule() == null ? "" : r.headRule();
            r.cells().forEach((task, c) -> t.row(r.model(), exps, r.method(), r.mode(), rule, r.k(), task,
                    c.seeds().size(), c.mean(), c.std(), joinInts(c.headLayers()), c.trainableFraction(),
                    c.relativeCompute(), c.inferenceCost()));
            t.row(r.model(), exps, r.method(), r.mode(), rule, r.k(), "average", "", r.average(), "",
                    joinInts(r.headLayers()), r.trainableFraction(), r.relativeCompute(), r.inferenceCost());
        }
        return t.toString();
    }

    /** The paired comparison as CSV (RFC 4180, CRLF lines), one line per (model, guided, baseline, task, k). */
    public String pairedCsv() {
        Csv t = new Csv("\r\n", "model", "guided", "baseline", "task", "k", "pairs", "mean_difference", "std_difference",
                "t_quantile", "ci_low", "ci_high");
        for (Paired p : paired) {
            t.row(p.model(), p.guided(), p.baseline(), p.task(), p.k(), p.seeds().size(), p.mean(), p.std(),
                    p.tQuantile(), p.low(), p.high());
        }
        return t.toString();
    }

    /** A number, or null for NaN (JSON has no NaN). */
    private static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) o.putNull(key);
        else o.put(key, v);
    }

    public ObjectNode json() {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        o.putPOJO("tasks", tasks);
        ArrayNode rs = o.putArray("rows");
        for (Row r : rows) {
            ObjectNode n = rs.addObject();
            n.put("model", r.model());
            n.putPOJO("experiments", r.experiments());
            n.put("method", r.method());
            n.put("mode", r.mode());
            n.put("head_rule", r.headRule());
            n.put("k", r.k());
            n.putPOJO("head_layers", r.headLayers());
            ObjectNode cells = n.putObject("tasks");
            r.cells().forEach((t, c) -> {
                ObjectNode x = cells.putObject(t);
                x.putPOJO("seeds", c.seeds());
                x.putPOJO("scores", c.scores());
                put(x, "mean", c.mean());
                put(x, "std", c.std());
                x.putPOJO("head_layers", c.headLayers());
                put(x, "trainable_fraction", c.trainableFraction());
                put(x, "relative_compute", c.relativeCompute());
                put(x, "inference_cost", c.inferenceCost());
            });
            n.putPOJO("average_over", r.averageOver());
            put(n, "average", r.average());
            put(n, "trainable_fraction", r.trainableFraction());
            put(n, "relative_compute", r.relativeCompute());
            put(n, "inference_cost", r.inferenceCost());
        }
        ArrayNode ps = o.putArray("paired");
        for (Paired p : paired) {
            ObjectNode n = ps.addObject();
            n.put("model", p.model());
            n.put("guided", p.guided());
            n.put("baseline", p.baseline());
            n.put("task", p.task());
            n.put("k", p.k());
            n.putPOJO("seeds", p.seeds());
            n.putPOJO("differences", p.differences());
            n.put("pairs", p.seeds().size());
            put(n, "mean_difference", p.mean());
            put(n, "std_difference", p.std());
            n.put("confidence", CONFIDENCE);
            put(n, "t_quantile", p.tQuantile());
            put(n, "ci_low", p.low());
            put(n, "ci_high", p.high());
        }
        o.put("result_files", filesRead);
        o.put("runs", runs);
        o.put("duplicates", filesRead - runs);
        o.put("skipped", skipped);
        return o;
    }

    /**
     * Writes report.md, report.csv, report-paired.csv, report.json and score-vs-compute.png into {@code dir};
     * returns the Markdown.
     */
    public String write(Path dir) throws IOException {
        String md = markdown();
        AtomicFiles.writeString(dir.resolve("report.md"), md);
        AtomicFiles.writeString(dir.resolve("report.csv"), csv());
        AtomicFiles.writeString(dir.resolve("report-paired.csv"), pairedCsv());
        AtomicFiles.writeJson(dir.resolve("report.json"), json());
        scoreVsCompute(dir.resolve("score-vs-compute.png"));
        return md;
    }

    /**
     * One line of nu against layer per variability analysis found below {@code dirs} (each {@code variability.json}),
     * into {@code png}; returns how many analyses were plotted.
     */
    public static int nuPerLayer(List<Path> dirs, Path png) throws IOException {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Path d : dirs) {
            for (Path p : AtomicFiles.find(d, "variability.json")) {
                JsonNode j = AtomicFiles.JSON.readTree(p.toFile());
                // one series per analysis: the task's name, or its directory (task and variant) when the task has one
                // already (two poolings of one task; an analysis kept under stale/)
                String key = j.path("task").asText(p.getParent().getFileName().toString());
                if (ds.getSeriesIndex(key) >= 0) key = d.relativize(p.getParent()).toString();
                for (int n = 2; ds.getSeriesIndex(key) >= 0; n++) key = d.relativize(p.getParent()) + " (" + n + ")";
                XYSeries xs = new XYSeries(key);
                for (JsonNode l : j.path("layers")) {
                    if (l.path("nu").isNumber()) xs.add(l.get("layer").asInt(), l.get("nu").asDouble());   // null: undefined
                }
                ds.addSeries(xs);
            }
        }
        if (ds.getSeriesCount() == 0) return 0;
        NumberAxis x = new NumberAxis("layer (hidden_states index; 0 = embeddings)");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        NumberAxis y = new NumberAxis("nu");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(ds, x, y, new XYLineAndShapeRenderer(true, true));
        plot.setBackgroundPaint(java.awt.Color.WHITE);
        JFreeChart chart = new JFreeChart("variability per layer", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(java.awt.Color.WHITE);
        Plots.write(png, chart, 800, 500);
        return ds.getSeriesCount();
    }

    private void scoreVsCompute(Path png) throws IOException {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (Row r : rows) {
            double avg = r.average();
            if (Double.isNaN(avg)) continue;
            series.computeIfAbsent(r.model() + " " + r.method(), XYSeries::new).add(r.relativeCompute(), avg);
        }
        XYSeriesCollection ds = new XYSeriesCollection();
        series.values().forEach(ds::addSeries);
        NumberAxis x = new NumberAxis("training compute relative to full fine-tuning");
        NumberAxis y = new NumberAxis("average dev score (x100)");
        y.setAutoRangeIncludesZero(false);
        XYPlot plot = new XYPlot(ds, x, y, new XYLineAndShapeRenderer(true, true));
        plot.setBackgroundPaint(java.awt.Color.WHITE);
        plot.setDomainGridlinePaint(java.awt.Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(java.awt.Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("dev score against compute", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(java.awt.Color.WHITE);
        Plots.write(png, chart, 800, 500);
    }
}

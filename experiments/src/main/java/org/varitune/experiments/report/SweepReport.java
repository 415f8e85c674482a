package org.varitune.experiments.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The paper-style table of a sweep (or of several merged result directories): rows = method and k, columns = tasks
 * and their average, cells = mean ± sample standard deviation over seeds of the task's main metric (×100), plus the
 * trainable-parameter share and the compute of a training step relative to full fine-tuning. Written as Markdown, CSV
 * and JSON, with PNG plots of nu per layer per task and of dev score against compute.
 */
public final class SweepReport {
    /** One (method, k) row. */
    public record Row(String method, int k, Map<String, double[]> scoresByTask, double trainableFraction,
                      double relativeCompute, List<Integer> headLayers) {}

    private final List<JsonNode> results;
    private final List<String> tasks;
    private final List<Row> rows;

    private SweepReport(List<JsonNode> results) {
        this.results = results;
        TreeSet<String> ts = new TreeSet<>();
        for (JsonNode r : results) ts.add(r.get("task").asText());
        this.tasks = List.copyOf(ts);
        Map<String, List<JsonNode>> groups = new TreeMap<>();
        for (JsonNode r : results) {
            groups.computeIfAbsent(r.get("method").asText() + "\u0000" + String.format("%03d", r.get("k").asInt()),
                    x -> new ArrayList<>()).add(r);
        }
        List<Row> rs = new ArrayList<>();
        for (List<JsonNode> g : groups.values()) {
            Map<String, List<Double>> byTask = new LinkedHashMap<>();
            double tf = 0, rc = 0;
            int n = 0;
            TreeSet<Integer> heads = new TreeSet<>();
            for (JsonNode r : g) {
                if (!"done".equals(r.path("status").asText())) continue;
                byTask.computeIfAbsent(r.get("task").asText(), x -> new ArrayList<>()).add(100 * r.get("score").asDouble());
                tf += r.get("trainable_fraction").asDouble();
                rc += r.get("relative_compute").asDouble();
                heads.add(r.get("head_layer").asInt());
                n++;
            }
            Map<String, double[]> scores = new LinkedHashMap<>();
            byTask.forEach((t, v) -> scores.put(t, v.stream().mapToDouble(Double::doubleValue).toArray()));
            rs.add(new Row(g.get(0).get("method").asText(), g.get(0).get("k").asInt(), scores,
                    n == 0 ? Double.NaN : tf / n, n == 0 ? Double.NaN : rc / n, List.copyOf(heads)));
        }
        rs.sort(Comparator.comparing((Row r) -> methodOrder(r.method())).thenComparing(Row::method).thenComparingInt(Row::k));
        this.rows = rs;
    }

    private static int methodOrder(String m) {
        return m.startsWith("full") ? 0 : m.startsWith("top") ? 1 : m.startsWith("guided") ? 2 : 3;
    }

    /** Reads every {@code result.json} below the given directories. */
    public static SweepReport read(List<Path> dirs) throws IOException {
        List<JsonNode> all = new ArrayList<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) throw new IOException(d + ": not a directory");
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.filter(p -> p.getFileName().toString().equals("result.json")).sorted().toList()) {
                    JsonNode j = AtomicFiles.JSON.readTree(p.toFile());
                    for (String key : new String[] {"task", "method", "k", "status"}) {
                        if (!j.has(key)) throw new IOException(p + ": result has no '" + key + "'");
                    }
                    all.add(j);
                }
            }
        }
        if (all.isEmpty()) throw new IOException("no result.json under " + dirs);
        return new SweepReport(all);
    }

    public List<Row> rows() { return rows; }
    public List<String> tasks() { return tasks; }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    static double std(double[] v) {
        if (v.length < 2) return 0;
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }

    /** Mean over tasks of the per-task means; NaN when a task is missing from the row. */
    static double average(Row r, List<String> tasks) {
        double s = 0;
        for (String t : tasks) {
            double[] v = r.scoresByTask().get(t);
            if (v == null || v.length == 0) return Double.NaN;
            s += mean(v);
        }
        return s / tasks.size();
    }

    private static String cell(double[] v) {
        if (v == null || v.length == 0) return "n/a";
        return v.length == 1 ? String.format(Locale.ROOT, "%.1f", mean(v))
                : String.format(Locale.ROOT, "%.1f ± %.1f", mean(v), std(v));
    }

    public String markdown() {
        StringBuilder sb = new StringBuilder("| method | k | head layer |");
        for (String t : tasks) sb.append(' ').append(t).append(" |");
        sb.append(" avg | trainable % | compute |\n|---|---|---|");
        sb.append("---|".repeat(tasks.size())).append("---|---|---|\n");
        for (Row r : rows) {
            sb.append("| ").append(r.method()).append(" | ").append(r.k() == 0 ? "-" : r.k()).append(" | ")
                    .append(r.headLayers().isEmpty() ? "-" : r.headLayers().toString().replaceAll("[\\[\\]]", "")).append(" |");
            for (String t : tasks) sb.append(' ').append(cell(r.scoresByTask().get(t))).append(" |");
            double avg = average(r, tasks);
            sb.append(String.format(Locale.ROOT, " %s | %.2f | %.2f |%n", Double.isNaN(avg) ? "n/a" :
                    String.format(Locale.ROOT, "%.1f", avg), 100 * r.trainableFraction(), r.relativeCompute()));
        }
        sb.append("\nCells: mean ± sample std over seeds of the task's main metric ×100 (best dev epoch). ")
                .append("compute: training-step FLOPs relative to full fine-tuning (forward 1 + backward 2 units per layer; ")
                .append("layers served from the prefix cache count 0).\n");
        return sb.toString();
    }

    public String csv() {
        StringBuilder sb = new StringBuilder("method,k,task,mean,std,seeds,trainable_fraction,relative_compute\n");
        for (Row r : rows) {
            for (String t : tasks) {
                double[] v = r.scoresByTask().getOrDefault(t, new double[0]);
                sb.append(String.format(Locale.ROOT, "%s,%d,%s,%s,%s,%d,%.6f,%.6f%n", r.method(), r.k(), t,
                        v.length == 0 ? "" : Double.toString(mean(v)), v.length == 0 ? "" : Double.toString(std(v)),
                        v.length, r.trainableFraction(), r.relativeCompute()));
            }
        }
        return sb.toString();
    }

    public ObjectNode json() {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        o.putPOJO("tasks", tasks);
        ArrayNode rs = o.putArray("rows");
        for (Row r : rows) {
            ObjectNode n = rs.addObject();
            n.put("method", r.method());
            n.put("k", r.k());
            n.putPOJO("head_layers", r.headLayers());
            ObjectNode cells = n.putObject("tasks");
            r.scoresByTask().forEach((t, v) -> {
                ObjectNode c = cells.putObject(t);
                c.put("mean", mean(v));
                c.put("std", std(v));
                c.putPOJO("scores", v);
            });
            double avg = average(r, tasks);
            if (!Double.isNaN(avg)) n.put("average", avg);
            n.put("trainable_fraction", r.trainableFraction());
            n.put("relative_compute", r.relativeCompute());
        }
        o.put("runs", results.size());
        o.put("skipped", results.stream().filter(r -> !"done".equals(r.path("status").asText())).count());
        return o;
    }

    /** Writes report.md, report.csv, report.json and score-vs-compute.png into {@code dir}; returns the Markdown. */
    public String write(Path dir) throws IOException {
        String md = markdown();
        AtomicFiles.writeString(dir.resolve("report.md"), md);
        AtomicFiles.writeString(dir.resolve("report.csv"), csv());
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
            try (Stream<Path> s = Files.walk(d)) {
                for (Path p : s.filter(p -> p.getFileName().toString().equals("variability.json")).sorted().toList()) {
                    JsonNode j = AtomicFiles.JSON.readTree(p.toFile());
                    XYSeries xs = new XYSeries(j.path("task").asText(p.getParent().getFileName().toString()));
                    for (JsonNode l : j.path("layers")) {
                        if (l.path("nu").isNumber()) xs.add(l.get("layer").asInt(), l.get("nu").asDouble());   // null: undefined
                    }
                    ds.addSeries(xs);
                }
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
            double avg = average(r, tasks);
            if (Double.isNaN(avg)) continue;
            series.computeIfAbsent(r.method(), XYSeries::new).add(r.relativeCompute(), avg);
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

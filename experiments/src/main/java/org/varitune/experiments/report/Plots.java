package org.varitune.experiments.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/** PNG plots for reports, written atomically (headless AWT). */
public final class Plots {
    private Plots() {}

    static { System.setProperty("java.awt.headless", "true"); }

    /**
     * One layer of the variability plot; empty values are not drawn.
     *
     * @param nu            plug-in nu on all examples (empty: undefined)
     * @param biasCorrected bootstrap bias-corrected nu; lo, hi its interval
     * @param probe         probe test accuracy
     */
    public record VariabilityPoint(int layer, OptionalDouble nu, OptionalDouble biasCorrected, OptionalDouble lo,
                                   OptionalDouble hi, OptionalDouble probe) {}

    /**
     * The plug-in nu against layer, the bias-corrected nu with its confidence band, and the probe accuracy on a second
     * axis. Layers without a value are left out of that series (and named in a subtitle when nu is undefined).
     */
    public static void variability(Path png, String title, List<VariabilityPoint> points, int headLayer) throws IOException {
        YIntervalSeries s = new YIntervalSeries("nu bias-corrected, 95% CI (bootstrap)");
        XYSeries plug = new XYSeries("nu (plug-in, all examples)");
        List<Integer> undefined = new ArrayList<>();
        double min = Double.MAX_VALUE, max = 0;
        for (VariabilityPoint p : points) {
            if (p.nu().isEmpty()) {
                undefined.add(p.layer());
                continue;
            }
            double v = Math.max(p.nu().getAsDouble(), 1e-12);
            plug.add(p.layer(), v);
            min = Math.min(min, v);
            max = Math.max(max, v);
            if (p.biasCorrected().isPresent() && p.lo().isPresent() && p.hi().isPresent()) {
                double lo = Math.max(p.lo().getAsDouble(), 1e-12), hi = Math.max(p.hi().getAsDouble(), 1e-12);
                s.add(p.layer(), Math.max(p.biasCorrected().getAsDouble(), 1e-12), lo, hi);
                min = Math.min(min, lo);
                max = Math.max(max, hi);
            }
        }
        YIntervalSeriesCollection band = new YIntervalSeriesCollection();
        band.addSeries(s);
        NumberAxis x = new NumberAxis("layer (hidden_states index; 0 = embeddings)");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        org.jfree.chart.axis.ValueAxis y;
        if (max > 0 && max / min > 20) {                        // several decades: log scale, plain numbers
            LogAxis log = new LogAxis("nu (log scale)");
            log.setNumberFormatOverride(new java.text.DecimalFormat("0.###E0"));
            y = log;
        } else {
            NumberAxis lin = new NumberAxis("nu");
            lin.setAutoRangeIncludesZero(false);
            y = lin;
        }
        DeviationRenderer r = new DeviationRenderer(true, true);
        r.setSeriesPaint(0, new Color(31, 119, 180));
        r.setSeriesFillPaint(0, new Color(31, 119, 180));
        r.setAlpha(0.25f);
        r.setSeriesStroke(0, new BasicStroke(2f));
        XYPlot plot = new XYPlot(band, x, y, r);
        plot.setDataset(2, new XYSeriesCollection(plug));
        XYLineAndShapeRenderer plugR = new XYLineAndShapeRenderer(true, true);
        plugR.setSeriesPaint(0, new Color(31, 119, 180));
        plugR.setSeriesStroke(0, new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 4f}, 0f));
        plot.setRenderer(2, plugR);
        XYSeries p = new XYSeries("linear probe accuracy");
        for (VariabilityPoint q : points) q.probe().ifPresent(a -> p.add(q.layer(), a));
        if (p.getItemCount() > 0) {
            plot.setDataset(1, new XYSeriesCollection(p));
            NumberAxis acc = new NumberAxis("probe accuracy");
            acc.setAutoRangeIncludesZero(false);
            plot.setRangeAxis(1, acc);
            plot.mapDatasetToRangeAxis(1, 1);
            XYLineAndShapeRenderer pr = new XYLineAndShapeRenderer(true, true);
            pr.setSeriesPaint(0, new Color(214, 39, 40));
            plot.setRenderer(1, pr);
        }
        if (headLayer >= 0) {
            org.jfree.chart.plot.ValueMarker m = new org.jfree.chart.plot.ValueMarker(headLayer);
            m.setPaint(Color.GRAY);
            m.setLabel("l* = " + headLayer);
            plot.addDomainMarker(m);
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        if (!undefined.isEmpty()) {
            chart.addSubtitle(new org.jfree.chart.title.TextTitle("nu undefined (Sb = 0) at layer(s) " + undefined));
        }
        chart.setBackgroundPaint(Color.WHITE);
        write(png, chart, 900, 540);
    }

    /** Saves a chart as PNG atomically. */
    public static void write(Path png, JFreeChart chart, int w, int h) throws IOException {
        org.varitune.transformer.io.AtomicWrite.write(png, tmp -> ChartUtils.saveChartAsPNG(tmp.toFile(), chart, w, h));
    }
}

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

/** PNG plots for reports, written atomically (headless AWT). */
public final class Plots {
    private Plots() {}

    static { System.setProperty("java.awt.headless", "true"); }

    /**
     * nu against layer (log scale) with its confidence band, and the probe accuracy on a second axis when given.
     *
     * @param nu    (L+1) ratios, index = hidden_states index; not modified
     * @param lo    (L+1) lower CI bounds or null; hi likewise
     * @param probe (L+1) probe test accuracies or null
     */
    public static void variability(Path png, String title, double[] nu, double[] lo, double[] hi, double[] probe,
                                   int headLayer) throws IOException {
        YIntervalSeries s = new YIntervalSeries("nu (variability ratio)");
        for (int l = 0; l < nu.length; l++) {
            double v = Math.max(nu[l], 1e-12);
            s.add(l, v, lo == null ? v : Math.max(lo[l], 1e-12), hi == null ? v : Math.max(hi[l], 1e-12));
        }
        YIntervalSeriesCollection band = new YIntervalSeriesCollection();
        band.addSeries(s);
        NumberAxis x = new NumberAxis("layer (hidden_states index; 0 = embeddings)");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        double min = Double.MAX_VALUE, max = 0;
        for (int l = 0; l < nu.length; l++) {
            min = Math.min(min, Math.max(lo == null ? nu[l] : lo[l], 1e-12));
            max = Math.max(max, hi == null ? nu[l] : hi[l]);
        }
        org.jfree.chart.axis.ValueAxis y;
        if (max / min > 20) {                                   // several decades: log scale, plain numbers
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
        if (probe != null) {
            XYSeries p = new XYSeries("linear probe accuracy");
            for (int l = 0; l < probe.length; l++) p.add(l, probe[l]);
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
        chart.setBackgroundPaint(Color.WHITE);
        write(png, chart, 900, 540);
    }

    /** Saves a chart as PNG atomically. */
    public static void write(Path png, JFreeChart chart, int w, int h) throws IOException {
        org.varitune.transformer.io.AtomicWrite.write(png, tmp -> ChartUtils.saveChartAsPNG(tmp.toFile(), chart, w, h));
    }
}

package org.varitune.experiments.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr: {@code label [#####.....] 52% 130/250 12.3 it/s ETA 0:10 extra}. Redraws at
 * most every 100 ms; when stderr is not a terminal it prints a line per 10% instead.
 */
public final class ProgressBar implements AutoCloseable {
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long start = System.nanoTime();
    private final boolean tty = System.console() != null;
    private long done, lastDraw;
    private int lastDecile = -1;
    private String extra = "";

    public ProgressBar(String label, long total) {
        this(System.err, label, total);
    }

    public ProgressBar(PrintStream out, String label, long total) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
    }

    public void step(long n) { set(done + n); }

    public void set(long value) {
        done = Math.min(value, total);
        long now = System.nanoTime();
        if (tty && now - lastDraw < 100_000_000L && done < total) return;
        lastDraw = now;
        draw();
    }

    /** Text shown after the rate, e.g. the running loss. */
    public void extra(String text) { extra = text; }

    private void draw() {
        double sec = (System.nanoTime() - start) / 1e9;
        double rate = done / Math.max(sec, 1e-9);
        double frac = (double) done / total;
        long eta = rate > 0 ? Math.round((total - done) / rate) : 0;
        String line = String.format(Locale.ROOT, "%s [%s] %3d%% %d/%d %.1f it/s ETA %d:%02d %s", label, bar(frac),
                Math.round(frac * 100), done, total, rate, eta / 60, eta % 60, extra);
        if (tty) {
            out.print("\r" + line);
        } else {
            int decile = (int) (frac * 10);
            if (decile != lastDecile) { out.println(line); lastDecile = decile; }
        }
        out.flush();
    }

    private static String bar(double frac) {
        int w = 24, full = (int) Math.round(frac * w);
        return "#".repeat(full) + ".".repeat(w - full);
    }

    @Override public void close() {
        draw();
        if (tty) out.println();
    }
}

package org.varitune.experiments.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nu-per-layer plot takes one series per analysis: two analyses of one task (two poolings, or one kept under
 * stale/ by --rerun-changed) used to collide on the series key and abort the demo after all its training.
 */
class NuPerLayerPlotTest {

    private static void analysis(Path dir, String task, double... nu) throws Exception {
        Files.createDirectories(dir);
        StringBuilder layers = new StringBuilder();
        for (int l = 0; l < nu.length; l++) layers.append(l == 0 ? "" : ",").append("{\"layer\":").append(l).append(",\"nu\":").append(nu[l]).append('}');
        Files.writeString(dir.resolve("variability.json"), "{\"task\":\"" + task + "\",\"layers\":[" + layers + "]}");
    }

    @Test
    void plotsTwoAnalysesOfOneTaskAsTwoSeries(@TempDir Path out) throws Exception {
        analysis(out.resolve("variability/sst2-mean"), "sst2", 3.0, 2.0, 2.5);
        analysis(out.resolve("variability/sst2-first-token"), "sst2", 4.0, 3.0, 1.5);
        analysis(out.resolve("stale/1/variability/sst2-mean"), "sst2", 3.1, 2.1, 2.4);
        Path png = out.resolve("nu.png");
        assertEquals(3, SweepReport.nuPerLayer(List.of(out), png));
        assertTrue(Files.size(png) > 0, "plot written");
    }
}

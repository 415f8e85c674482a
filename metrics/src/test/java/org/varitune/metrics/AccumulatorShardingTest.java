package org.varitune.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AccumulatorShardingTest extends TestBase {
    @TempDir Path dir;

    static void assertSameState(VariabilityAccumulator a, VariabilityAccumulator b) {
        assertEquals(a.examplesSeen(), b.examplesSeen());
        for (int l = 0; l < a.layers; l++) {
            assertArrayEquals(a.pilot[l], b.pilot[l], "pilot " + l);
            assertArrayEquals(a.sums[l], b.sums[l], "sums " + l);
            assertArrayEquals(a.moment[l], b.moment[l], "moment " + l);
            assertArrayEquals(a.plainMoment[l], b.plainMoment[l], "plain moment " + l);
            assertArrayEquals(a.classSeen[l], b.classSeen[l], "class counts " + l);
        }
        assertSameSamples(a, b);
    }

    static void assertSameSamples(VariabilityAccumulator a, VariabilityAccumulator b) {
        for (int l = 0; l < a.layers; l++) {
            LayerSamples sa = a.samples(l), sb = b.samples(l);
            for (int y = 0; y < a.numClasses; y++) {
                assertArrayEquals(sa.index()[y], sb.index()[y], "reservoir indices layer " + l + " class " + y);
                assertArrayEquals(sa.vectors()[y], sb.vectors()[y], "reservoir vectors layer " + l + " class " + y);
            }
        }
    }

    private static VariabilityAccumulator.Options smallReservoir() {
        return VariabilityAccumulator.Options.defaults().withReservoirPerClass(9);
    }

    @Test
    void mergeOfShardsEqualsSinglePass() {
        Data data = Data.clusters(rand, 11, new int[] {30, 21, 16}, 4.0, 1.0);
        VariabilityAccumulator single = new VariabilityAccumulator(3, 11, data.counts, null, smallReservoir());
        data.feed(single, 0, data.N, 10);
        int[] cut = {0, 19, 40, data.N};
        VariabilityAccumulator merged = null;
        for (int s = 0; s < 3; s++) {   // each shard sets its own pilot mean from its first batch
            VariabilityAccumulator shard = new VariabilityAccumulator(3, 11, data.counts, null, smallReservoir().withBaseIndex(cut[s]));
            data.feed(shard, cut[s], cut[s + 1], 6);
            merged = merged == null ? shard : VariabilityAccumulator.merge(merged, shard);
        }
        assertEquals(data.N, merged.examplesSeen());
        for (Variant v : Variant.values()) {
            List<VariabilityResult> a = single.compute(v, RatioMath.DEFAULT_RELATIVE_TOLERANCE);
            List<VariabilityResult> b = merged.compute(v, RatioMath.DEFAULT_RELATIVE_TOLERANCE);
            for (int l = 0; l < 3; l++) {
                assertTrue(VariabilityAccumulatorTest.rel(b.get(l).nuOrThrow(), a.get(l).nuOrThrow()) < 1e-10, v + " layer " + l);
                AllClose.assertAllClose("Sw merged layer " + l, merged.withinScatter(l, v).data, single.withinScatter(l, v).data, 1e-10);
                AllClose.assertAllClose("Sb merged layer " + l, merged.betweenScatter(l, v).data, single.betweenScatter(l, v).data, 1e-10);
            }
        }
        assertSameSamples(single, merged);
    }

    @Test
    void mergeWithCommonPilotIsPlainAddition() {
        Data data = Data.clusters(rand, 5, new int[] {8, 8}, 0, 1);
        double[][] pilot = {new double[5]};
        VariabilityAccumulator a = new VariabilityAccumulator(1, 5, data.counts, pilot, smallReservoir());
        VariabilityAccumulator b = new VariabilityAccumulator(1, 5, data.counts, pilot, smallReservoir().withBaseIndex(7));
        data.feed(a, 0, 7, 7);
        data.feed(b, 7, data.N, 9);
        VariabilityAccumulator m = VariabilityAccumulator.merge(a, b);
        for (int k = 0; k < m.moment[0].length; k++) assertEquals(a.moment[0][k] + b.moment[0][k], m.moment[0][k]);
    }

    @Test
    void mergeRejectsMismatchedShapesAndOvercounts() {
        VariabilityAccumulator a = new VariabilityAccumulator(1, 3, new int[] {2, 2}, null);
        assertThrows(IllegalArgumentException.class, () -> VariabilityAccumulator.merge(a, new VariabilityAccumulator(1, 4, new int[] {2, 2}, null)));
        float[] x = randn(6);
        a.add(0, x, new int[] {0, 0}, 2);
        VariabilityAccumulator b = new VariabilityAccumulator(1, 3, new int[] {2, 2}, null);
        b.add(0, x, new int[] {0, 1}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VariabilityAccumulator.merge(a, b));
        assertTrue(e.getMessage().contains("class 0"), e.getMessage());
    }

    @Test
    void saveLoadRoundTripIsBitwise() throws IOException {
        Data data = Data.clusters(rand, 7, new int[] {12, 20}, 1.0, 1.0);
        VariabilityAccumulator acc = new VariabilityAccumulator(2, 7, data.counts, null, smallReservoir());
        data.feed(acc, 0, 25, 8);
        Path f = dir.resolve("stats.bin");
        acc.save(f);
        VariabilityAccumulator back = VariabilityAccumulator.load(f);
        assertSameState(acc, back);
        assertEquals(acc.options(), back.options());
        assertArrayEquals(acc.classCounts(), back.classCounts());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void killedAndResumedPassGivesIdenticalStatistics() throws IOException {
        Data data = Data.clusters(rand, 9, new int[] {25, 18, 14}, 2.0, 1.0);
        int batch = 6;
        VariabilityAccumulator uninterrupted = new VariabilityAccumulator(3, 9, data.counts, null, smallReservoir());
        data.feed(uninterrupted, 0, data.N, batch);

        Path ckpt = dir.resolve("pass.ckpt");
        VariabilityAccumulator run = new VariabilityAccumulator(3, 9, data.counts, null, smallReservoir());
        int killedAt = 5 * batch;
        for (int s = 0; s < killedAt; s += batch) {
            data.feed(run, s, s + batch, batch);
            if ((s / batch) % 2 == 1) run.save(ckpt);   // checkpoint every second batch
        }
        // the process dies here: its in-memory state is lost, and a crashed write left a stray temp file
        Files.write(dir.resolve("pass.ckpt.12345.tmp"), new byte[] {1, 2, 3});
        VariabilityAccumulator resumed = VariabilityAccumulator.load(ckpt);
        long skip = resumed.examplesSeen();
        assertEquals(4 * batch, skip);
        for (long s = skip; s < data.N; s += batch) data.feed(resumed, (int) s, (int) Math.min(data.N, s + batch), batch);
        assertSameState(uninterrupted, resumed);
        assertEquals(uninterrupted.compute().get(2).nuOrThrow(), resumed.compute().get(2).nuOrThrow());
    }

    @Test
    void corruptTruncatedOrForeignFilesAreNamedErrors() throws IOException {
        VariabilityAccumulator acc = new VariabilityAccumulator(1, 4, new int[] {3, 3}, null);
        acc.add(0, randn(8), new int[] {0, 1}, 2);
        Path f = dir.resolve("ok.bin");
        acc.save(f);
        byte[] bytes = Files.readAllBytes(f);

        Path flipped = dir.resolve("flipped.bin");
        byte[] b1 = bytes.clone();
        b1[bytes.length / 2] ^= 0x10;
        Files.write(flipped, b1);
        IOException e1 = assertThrows(IOException.class, () -> VariabilityAccumulator.load(flipped));
        assertTrue(e1.getMessage().contains("flipped.bin") && e1.getMessage().contains("checksum"), e1.getMessage());

        Path cut = dir.resolve("cut.bin");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        IOException e2 = assertThrows(IOException.class, () -> VariabilityAccumulator.load(cut));
        assertTrue(e2.getMessage().contains("cut.bin") && e2.getMessage().contains("truncated"), e2.getMessage());

        Path foreign = dir.resolve("foreign.bin");
        Files.writeString(foreign, "{\"not\": \"an accumulator\"}");
        IOException e3 = assertThrows(IOException.class, () -> VariabilityAccumulator.load(foreign));
        assertTrue(e3.getMessage().contains("foreign.bin") && e3.getMessage().contains("magic"), e3.getMessage());
    }
}

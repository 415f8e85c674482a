package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.TestBase;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The record of a result directory: new, same or changed, and results moved aside without loss. */
class ResultGuardTest extends TestBase {
    @TempDir Path tmp;

    private static Fingerprint fp(double lr, int threads) {
        return Fingerprint.builder().put("train.lr", lr).put("kernels", "fast(vector)").put("threads", threads).build();
    }

    @Test
    void aDirectoryIsNewUntilAnOutputExistsThenSameOrChangedByItsRecord() throws Exception {
        Path dir = tmp.resolve("runs/a");
        assertEquals(ResultGuard.State.NEW, ResultGuard.check(dir, fp(1e-3, 4), ResultGuard.contents(dir)).state());
        ResultGuard.record(dir, fp(1e-3, 4));
        assertEquals(ResultGuard.State.NEW, ResultGuard.check(dir, fp(2e-3, 4), ResultGuard.contents(dir)).state(),
                "a record alone protects no result");
        Files.writeString(dir.resolve("result.json"), "{}");
        assertEquals(ResultGuard.State.SAME, ResultGuard.check(dir, fp(1e-3, 4), ResultGuard.contents(dir)).state());
        ResultGuard.Check c = ResultGuard.check(dir, fp(2e-3, 8), ResultGuard.contents(dir));
        assertEquals(ResultGuard.State.CHANGED, c.state());
        assertEquals(List.of("train.lr: 0.001 -> 0.002", "threads: 4 -> 8"), c.changes());
        String msg = ResultGuard.describe(tmp, "run", "runs", List.of(c), "rerun them with --rerun-changed");
        assertTrue(msg.startsWith(tmp + ": 1 run was computed from other inputs than now given:\n"
                + "  runs/a: train.lr: 0.001 -> 0.002; threads: 4 -> 8\n"), msg);
        assertTrue(msg.contains("-Dvaritune.threads"), "a changed thread count says how to match it: " + msg);
    }

    @Test
    void movesAsideToTheFirstFreeStaleNumberKeepingEveryFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("runs/a/checkpoints"));
        Files.writeString(dir.resolve("last"), "one");
        assertEquals(tmp.resolve("stale/1"), ResultGuard.moveAside(tmp, List.of(tmp.resolve("runs/a"))));
        assertFalse(Files.exists(tmp.resolve("runs/a")));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("last"), "two");
        assertEquals(tmp.resolve("stale/2"), ResultGuard.moveAside(tmp, List.of(tmp.resolve("runs/a"))));
        assertEquals("one", Files.readString(tmp.resolve("stale/1/runs/a/checkpoints/last")));
        assertEquals("two", Files.readString(tmp.resolve("stale/2/runs/a/checkpoints/last")));
    }
}

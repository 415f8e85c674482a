package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code varitune sweep} into an existing {@code --out}: skips the same run, refuses a changed one, reruns on request. */
class SweepCommandTest {
    @TempDir Path tmp;

    private record Outcome(int rc, String out, String err) {}

    private static Outcome sweep(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            String[] all = new String[args.length + 1];
            all[0] = "sweep";
            System.arraycopy(args, 0, all, 1, args.length);
            return new Outcome(cl.execute(all), out.toString(), err.toString());
        } finally {
            System.setOut(saved);
        }
    }

    private static JsonNode json(Path p) throws Exception { return new ObjectMapper().readTree(p.toFile()); }

    @Test
    void anotherLearningRateIsRefusedNamingLrAndRerunOnlyWithRerunChanged() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 5);
        Path glue = TinySetup.glueAll(tmp.resolve("glue"), 16, 8, 9);
        Path cfg = Files.writeString(tmp.resolve("lr.yaml"), """
                name: lr-placeholder
                model: ${MODEL_DIR}
                glue_dir: ${GLUE_DIR}
                tasks: [rte]
                seeds: [1]
                methods:
                  - {name: full, mode: full}
                train: {epochs: 1, lr: ${LR}, batch_size: 8, max_length: 16, adapter_size: 8}
                """);
        Path out = tmp.resolve("out");
        String[] common = {cfg.toString(), "--out", out.toString(), "--set", "MODEL_DIR=" + model, "--set", "GLUE_DIR=" + glue};
        Path run = out.resolve("runs/rte/full-k0/seed-1");

        Outcome first = sweep(concat(common, "--set", "LR=0.001"));
        assertEquals(0, first.rc(), first.out() + first.err());
        assertEquals(0.001, json(run.resolve("result.json")).get("fingerprint").get("train.lr").asDouble());
        FileTime stamp = Files.getLastModifiedTime(run.resolve("result.json"));

        Outcome same = sweep(concat(common, "--set", "LR=0.001"));
        assertEquals(0, same.rc(), same.out() + same.err());
        assertTrue(same.out().contains("rte/full-k0/seed-1: already done"), same.out());
        assertEquals(stamp, Files.getLastModifiedTime(run.resolve("result.json")), "an unchanged rerun skips");

        Outcome changed = sweep(concat(common, "--set", "LR=0.002"));
        assertEquals(2, changed.rc(), changed.out() + changed.err());
        assertTrue(changed.err().contains("rte/full-k0/seed-1: train.lr: 0.001 -> 0.002\n"), changed.err());
        assertTrue(changed.err().contains("rerun them with --rerun-changed"), changed.err());
        assertEquals(stamp, Files.getLastModifiedTime(run.resolve("result.json")), "a refused sweep touches nothing");

        Outcome rerun = sweep(concat(common, "--set", "LR=0.002", "--rerun-changed"));
        assertEquals(0, rerun.rc(), rerun.out() + rerun.err());
        JsonNode now = json(run.resolve("result.json"));
        assertEquals("done", now.get("status").asText());
        assertEquals(0.002, now.get("fingerprint").get("train.lr").asDouble());
        assertEquals(0.002, json(run.resolve("run.json")).get("resolved").get("lr").asDouble());
        assertEquals(0.002, json(run.resolve("metrics.json")).get("config").get("lr").asDouble(),
                "the trainer ran under the new lr, not from the old checkpoint");
        Path stale = out.resolve("stale/1/runs/rte/full-k0/seed-1");
        assertEquals(0.001, json(stale.resolve("result.json")).get("fingerprint").get("train.lr").asDouble(),
                "the old result is kept, moved aside");
    }

    @Test
    void setSplitsAtTheFirstEqualsSignAndTheLastValueOfAKeyWins() throws Exception {
        Path cfg = Files.writeString(tmp.resolve("name.yaml"), """
                name: ${WHO}-${WHAT}
                model: /nowhere
                glue_dir: /nowhere
                tasks: [rte]
                seeds: [1]
                methods:
                  - {name: full, mode: full}
                """);
        Outcome o = sweep(cfg.toString(), "--out", tmp.resolve("o").toString(), "--dry-run",
                "--set", "WHO=a=b", "--set", "WHAT=first", "--set", "WHAT=second");
        assertEquals(0, o.rc(), o.out() + o.err());
        assertTrue(o.out().startsWith("experiment a=b-second: 1 runs in all"), o.out());
    }

    @Test
    void setWithoutAKeyIsAUsageErrorNamingTheValue() throws Exception {
        Path cfg = Files.writeString(tmp.resolve("c.yaml"), "name: x\n");
        Outcome noEquals = sweep(cfg.toString(), "--out", tmp.resolve("o").toString(), "--set", "LR");
        assertEquals(2, noEquals.rc(), noEquals.out() + noEquals.err());
        assertTrue(noEquals.err().contains("'--set' (KEY=VALUE) should be in KEY=VALUE format but was LR"), noEquals.err());
        Outcome noKey = sweep(cfg.toString(), "--out", tmp.resolve("o").toString(), "--set", "=0.1");
        assertEquals(2, noKey.rc(), noKey.out() + noKey.err());
        assertTrue(noKey.err().contains("--set expects KEY=VALUE, got an empty KEY in '=0.1'"), noKey.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}

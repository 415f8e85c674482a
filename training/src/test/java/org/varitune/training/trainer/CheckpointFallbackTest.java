package org.varitune.training.trainer;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Torn or damaged checkpoints: the manifest catches a truncated file, a flipped byte and a missing manifest; a resume
 * that finds {@code last} damaged falls back to {@code last.prev}, says so, and still ends bit-identical to an
 * uninterrupted run; the previous checkpoint is only replaced by a verified one.
 */
class CheckpointFallbackTest extends TestBase {
    @TempDir Path tmp;

    /** Thrown by the listener to stop a run right after the checkpoint of a step (an in-process kill). */
    private static final class Stop extends RuntimeException {}

    /** Records the messages, the resume point and the final model. */
    private static final class Record implements TrainListener {
        final List<String> messages = new ArrayList<>();
        long resumedAt = Long.MIN_VALUE;
        SequenceClassifier model;
        @Override public void onMessage(String m) { messages.add(m); }
        @Override public void onStart(Start s) { resumedAt = s.resumedAtStep(); }
        @Override public void onFinish(SequenceClassifier m, TrainResult r) { model = m; }
    }

    /** What happens to {@code checkpoints/last} after the run stopped. */
    enum Damage {
        TRUNCATED_WEIGHTS("weights.safetensors has"),     // the tail of a tensor file is lost
        FLIPPED_OPTIMIZER_BYTE("optimizer.safetensors: CRC-32C"),  // one bit of an exp_avg value
        NO_MANIFEST("has no manifest.json"),              // the write stopped before the manifest
        MISSING("last is missing");                       // a kill between the two renames of a save

        final String named;

        Damage(String named) { this.named = named; }

        void apply(Path last) throws Exception {
            switch (this) {
                case TRUNCATED_WEIGHTS -> {
                    try (RandomAccessFile f = new RandomAccessFile(last.resolve(Checkpoints.WEIGHTS).toFile(), "rw")) {
                        f.setLength(f.length() - 10);
                    }
                }
                case FLIPPED_OPTIMIZER_BYTE -> {
                    try (RandomAccessFile f = new RandomAccessFile(last.resolve(Checkpoints.OPTIMIZER).toFile(), "rw")) {
                        long at = f.length() - 20;                 // in the data section, past the JSON header
                        f.seek(at);
                        int b = f.read();
                        f.seek(at);
                        f.write(b ^ 0x10);
                    }
                }
                case NO_MANIFEST -> Files.delete(last.resolve(Checkpoints.MANIFEST));
                case MISSING -> Files.move(last, last.resolveSibling(".last.tmp-complete"), StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }

    private static Map<String, Parameter> straight;

    /** The final weights of an uninterrupted run of {@link TinyTraining#resumeConfig()}, computed once. */
    private Map<String, Parameter> straightRun() throws Exception {
        if (straight == null) {
            Record r = new Record();
            TinyTraining.trainer(TinyTraining.resumeConfig(), tmp.resolve("straight"), r).run();
            straight = r.model.parameterMap();
        }
        return straight;
    }

    /** Runs resumeConfig in {@code run} and stops it right after the checkpoint of global step {@code k}. */
    private static void runUntil(Path run, long k) {
        assertThrows(Stop.class, () -> TinyTraining.trainer(TinyTraining.resumeConfig(), run, new TrainListener() {
            @Override public void onStep(Step s) { if (s.globalStep() == k) throw new Stop(); }
        }).run());
    }

    @ParameterizedTest
    @EnumSource(Damage.class)
    void aDamagedLastFallsBackToThePreviousCheckpointSaysSoAndEndsBitIdentical(Damage damage) throws Exception {
        Path run = tmp.resolve("run");
        long k = 7 + rand.nextInt(20);
        runUntil(run, k);
        Path ck = run.resolve("checkpoints");
        assertEquals(k, Checkpoints.readState(ck.resolve("last")).get("global_step").asLong());
        assertEquals(k - 1, Checkpoints.readState(ck.resolve("last.prev")).get("global_step").asLong());
        damage.apply(ck.resolve("last"));

        Record resumed = new Record();
        TinyTraining.trainer(TinyTraining.resumeConfig(), run, resumed).run();
        assertEquals(k - 1, resumed.resumedAt, "resumed from last.prev");
        String warning = resumed.messages.stream().filter(m -> m.contains("using " + ck.resolve("last.prev"))).findFirst()
                .orElseThrow(() -> new AssertionError("no fallback message in " + resumed.messages));
        assertTrue(warning.contains(damage.named), warning);

        Map<String, Parameter> a = resumed.model.parameterMap(), b = straightRun();
        assertEquals(b.keySet(), a.keySet());
        for (String name : b.keySet()) {
            assertArrayEquals(b.get(name).data(), a.get(name).data(), name + " after the fallback (" + damage + ", k=" + k + ")");
        }
    }

    @Test
    void bothCheckpointsDamagedIsAnErrorNamingEachDefectNotAFreshStart() throws Exception {
        Path run = tmp.resolve("run");
        runUntil(run, 5);
        Path ck = run.resolve("checkpoints");
        Damage.NO_MANIFEST.apply(ck.resolve("last"));
        Damage.TRUNCATED_WEIGHTS.apply(ck.resolve("last.prev"));
        var e = assertThrows(Checkpoints.CorruptCheckpointException.class,
                () -> TinyTraining.trainer(TinyTraining.resumeConfig(), run, null).run());
        assertTrue(e.getMessage().contains(ck.resolve("last") + " has no manifest.json"), e.getMessage());
        assertTrue(e.getMessage().contains(ck.resolve("last.prev").resolve("weights.safetensors") + " has "), e.getMessage());
    }

    @Test
    void aRunKeepsLastAndItsPreviousAndOnlyOneBest() throws Exception {
        TrainConfig c = TinyTraining.resumeConfig();
        TinyTraining.trainer(c, tmp, null).run();
        List<String> names;
        try (Stream<Path> s = Files.list(tmp.resolve("checkpoints"))) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("best", "last", "last.prev"), names, "no temporaries, no previous best");
        for (String n : names) Checkpoints.verify(tmp.resolve("checkpoints").resolve(n));
    }

    private static ObjectNode state(long step) {
        return JsonNodeFactory.instance.objectNode().put("global_step", step);
    }

    @Test
    void aDamagedLastIsDiscardedAtTheNextSaveSoThePreviousStaysTheVerifiedOne() throws Exception {
        List<Parameter> p = List.of(new Parameter("w", randn(6), 2, 3));
        Path ck = tmp.resolve("checkpoints");
        Checkpoints.save(ck, Checkpoints.LAST, p, null, state(1));
        Checkpoints.save(ck, Checkpoints.LAST, p, null, state(2));
        Damage.TRUNCATED_WEIGHTS.apply(ck.resolve("last"));
        Checkpoints.save(ck, Checkpoints.LAST, p, null, state(3));
        assertEquals(3, Checkpoints.readState(ck.resolve("last")).get("global_step").asLong());
        assertEquals(1, Checkpoints.readState(ck.resolve("last.prev")).get("global_step").asLong(),
                "the damaged step-2 checkpoint did not become the fallback");
    }

    @Test
    void theManifestHoldsEachFilesByteCountAndCrc32c() throws Exception {
        Path f = Files.writeString(tmp.resolve("digits"), "123456789", StandardCharsets.US_ASCII);
        assertEquals("e3069283", Checkpoints.crc32c(f), "the CRC-32C check value (RFC 3720 B.4)");

        List<Parameter> p = List.of(new Parameter("w", randn(6), 2, 3));
        Checkpoints.save(tmp, Checkpoints.BEST, p, null, state(4));
        var files = Checkpoints.JSON.readTree(tmp.resolve("best/manifest.json").toFile()).get("files");
        assertEquals(List.of(Checkpoints.WEIGHTS, Checkpoints.STATE), iterate(files.fieldNames()));
        for (String n : iterate(files.fieldNames())) {
            byte[] bytes = Files.readAllBytes(tmp.resolve("best").resolve(n));
            assertEquals(bytes.length, files.get(n).get("bytes").asLong(), n);
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            crc.update(bytes);
            assertEquals(String.format("%08x", crc.getValue()), files.get(n).get("crc32c").asText(), n);
        }
        assertFalse(Files.exists(tmp.resolve("best.prev")));
    }

    private static List<String> iterate(java.util.Iterator<String> it) {
        List<String> l = new ArrayList<>();
        it.forEachRemaining(l::add);
        return l;
    }
}

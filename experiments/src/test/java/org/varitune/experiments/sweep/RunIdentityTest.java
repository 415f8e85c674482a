package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.cli.TinySetupAccess;
import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.experiments.data.TaskData;
import org.varitune.transformer.testing.TestBase;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The content hashes behind a fingerprint: model files, examples as used, and the file-hash cache. */
class RunIdentityTest extends TestBase {
    @TempDir Path tmp;

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void modelHashIsTheHashOfTheSortedFileSums() throws Exception {
        Path m = TinySetupAccess.model(tmp.resolve("m"), 5);
        String cfg = sha256(Files.readAllBytes(m.resolve("config.json")));
        String w = sha256(Files.readAllBytes(m.resolve("model.safetensors")));
        String v = sha256(Files.readAllBytes(m.resolve("vocab.txt")));
        RunIdentity.ModelHashes h = RunIdentity.model(m.toString(), m);
        String modelLines = "config.json " + cfg + "\nmodel.safetensors " + w + "\n";
        assertEquals(sha256(modelLines.getBytes(StandardCharsets.UTF_8)), h.model());
        assertEquals(sha256(("vocab.txt " + v + "\n").getBytes(StandardCharsets.UTF_8)), h.tokenizer());
    }

    @Test
    void aChangedWeightByteChangesTheModelHashAndAMovedCopyKeepsIt() throws Exception {
        Path m = TinySetupAccess.model(tmp.resolve("m"), 5);
        RunIdentity.ModelHashes before = RunIdentity.model(m.toString(), m);
        Path copy = Files.createDirectories(tmp.resolve("elsewhere"));
        for (String f : List.of("config.json", "model.safetensors", "vocab.txt")) {
            Files.copy(m.resolve(f), copy.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
        }
        assertEquals(before, RunIdentity.model(copy.toString(), copy), "the hash is of the content, not the path");

        Path weights = m.resolve("model.safetensors");
        FileTime t = Files.getLastModifiedTime(weights);
        byte[] b = Files.readAllBytes(weights);
        b[b.length - 1] ^= 1;                                  // last byte of the last tensor: same size
        Files.write(weights, b);
        Files.setLastModifiedTime(weights, FileTime.fromMillis(t.toMillis() + 2000));
        RunIdentity.ModelHashes after = RunIdentity.model(m.toString(), m);
        assertNotEquals(before.model(), after.model(), "the cache must not serve the old hash of a rewritten file");
        assertEquals(before.tokenizer(), after.tokenizer());
        assertEquals(sha256(b), RunIdentity.sha256(weights));
    }

    private static Dataset split(String name, List<Example> ex) {
        return new Dataset("t", "t", name, ex, List.of("neg", "pos"), false, false, "mem", 0, List.of(), 0);
    }

    @Test
    void examplesHashSeesOneLabelAndTruncationButNotSourceLines() {
        List<Example> ex = List.of(Example.classification("good film", null, 1, 2),
                Example.classification("bad film", null, 0, 3), Example.classification("dull", null, 0, 4));
        String base = RunIdentity.examples(List.of(split("train", ex), split("dev", ex.subList(0, 1))));
        List<Example> relabeled = List.of(ex.get(0), Example.classification("bad film", null, 1, 3), ex.get(2));
        assertNotEquals(base, RunIdentity.examples(List.of(split("train", relabeled), split("dev", ex.subList(0, 1)))));
        List<Example> moved = List.of(Example.classification("good film", null, 1, 20),
                Example.classification("bad film", null, 0, 30), Example.classification("dull", null, 0, 40));
        assertEquals(base, RunIdentity.examples(List.of(split("train", moved), split("dev", ex.subList(0, 1)))));
        TaskData d = new TaskData("t", split("train", ex), List.of(split("dev", ex.subList(0, 1))), null, "accuracy");
        assertNotEquals(RunIdentity.examples(List.of(d.train())), RunIdentity.examples(List.of(d.truncateTrain(2).train())));
        // the split boundary counts: [a, b | c] is not [a | b, c]
        assertNotEquals(RunIdentity.examples(List.of(split("x", ex.subList(0, 2)), split("x", ex.subList(2, 3)))),
                RunIdentity.examples(List.of(split("x", ex.subList(0, 1)), split("x", ex.subList(1, 3)))));
    }
}

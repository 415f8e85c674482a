package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every defect of an experiment file is an {@link IOException} at load time naming the file, the line and the key
 * (issue 14: null documents, syntax errors, tabs, duplicate keys, deep nesting, bad UTF-8, null list elements and
 * out-of-range numbers used to escape as NullPointerException, NumberFormatException at run start, or messages
 * without the file).
 */
class ExperimentConfigLoadErrorTest {
    static final String VALID = "name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n";

    @TempDir Path tmp;

    private Path write(byte[] bytes) throws IOException {
        return Files.write(tmp.resolve("c.yaml"), bytes);
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(tmp.resolve("c.yaml"), yaml);
    }

    private static IOException assertRejected(Path f, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().startsWith(f + ": "), "does not start with the file: " + e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' missing from: " + e.getMessage());
        return e;
    }

    @Test
    void theValidBaseLoads() throws IOException {
        assertEquals("x", ExperimentConfig.read(write(VALID), Map.of()).name());
    }

    @Test
    void rejectsANullOrEmptyDocumentInsteadOfANullPointerException() throws IOException {
        assertRejected(write("~\n"), "line 1", "empty or null");
        assertRejected(write(""), "line 1", "empty");
        assertRejected(write("# only a comment\n"), "empty");
    }

    @Test
    void rejectsASyntaxErrorNamingTheLine() throws IOException {
        assertRejected(write(VALID + "train: {epochs: 3\n"), "line ");
        assertRejected(write(VALID + "train:\n  epochs: [3\n"), "line ");
    }

    @Test
    void rejectsTabIndentationNamingTheLine() throws IOException {
        assertRejected(write(VALID + "train:\n\tepochs: 3\n"), "line 7");
    }

    @Test
    void rejectsADuplicateKeyNamingItAndTheLine() throws IOException {
        assertRejected(write(VALID + "train:\n  epochs: 3\n  epochs: 4\n"), "Duplicate field 'epochs'", "line 8",
                "train");
    }

    @Test
    void rejectsDeepNestingWithATypedError() throws IOException {
        assertRejected(write(VALID + "train: " + "[".repeat(5000) + "]".repeat(5000) + "\n"));
        assertRejected(write(VALID + "x: " + "{a: ".repeat(3000) + "1" + "}".repeat(3000) + "\n"));
    }

    @Test
    void rejectsInvalidUtf8NamingTheLineInsteadOfInputLength1() throws IOException {
        byte[] b = (VALID + "train:\n  head_pooling: mean\u00e9\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        b[b.length - 3] = (byte) 0xFF;                 // the first byte of é
        IOException e = assertRejected(write(b), "line 7", "not valid UTF-8", "0xFF");
        assertTrue(!e.getMessage().contains("Input length"), e.getMessage());
    }

    @Test
    void rejectsNullListElementsNamingTheKeyInsteadOfANullPointerException() throws IOException {
        assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: t, mode: top-k, k: [~]}\n"),
                "'k'", "null", "line ");
        assertRejected(write("name: x\nmodel: m\ntasks: [~]\nmethods:\n  - {name: full, mode: full}\n"), "'tasks'");
        assertRejected(write(VALID + "seeds: [1, ~]\n"), "'seeds'");
        assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods: [~]\n"), "'methods'");
        IOException e = assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: t, mode: top-k, k: [~]}\n"));
        assertTrue(!e.getMessage().contains("NullPointerException"), e.getMessage());
    }

    @Test
    void rejectsAHeadLayerBeyondAnIntAtLoadTimeInsteadOfANumberFormatExceptionAtRunStart() throws IOException {
        assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: p, mode: probe, head_layer: 2147483648}\n"),
                "head_layer", "2147483648", "methods[0]", "line 5");
        assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: p, mode: probe, head_layer: 0}\n"),
                "head_layer");
    }

    @Test
    void rejectsOutOfRangeNumbersNamingTheKeyAndLine() throws IOException {
        assertRejected(write(VALID + "train:\n  epochs: 2147483648\n"), "train.epochs", "line 7");
        assertRejected(write(VALID + "seeds: [99999999999999999999]\n"), "seeds", "line 6");
        assertRejected(write(VALID + "train:\n  lr: .nan\n"), "lr", "line 7");
        assertRejected(write(VALID + "train:\n  lr: .inf\n"), "lr");
    }

    @Test
    void rejectsAnUnknownNuPoolingAtLoadTime() throws IOException {
        assertRejected(write(VALID + "variability:\n  pooling: max\n"), "'max'", "variability.pooling", "line 7");
    }

    @Test
    void rejectsAnUnknownMethodOptionAndAnOptionOfAnotherModeNamingThem() throws IOException {
        IOException e = assertRejected(write(VALID + "train:\n  epochs: 3\n  lora_rnk: 4\n"), "unknown key 'lora_rnk' at line 8",
                "(in train.lora_rnk)", "known keys: ", "lora_rank", "epochs");
        assertTrue(!e.getMessage().contains("lora_rnk,"), "the unknown key is not listed as known: " + e.getMessage());
        assertRejected(write(VALID + "task_overrides:\n  rte: {lora-rank: 4}\n"), "unknown key 'lora-rank' at line 7");
        assertRejected(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: p, mode: partial, k: [1], "
                + "train: {lora_rank: 4}}\n"), "method 'p'", "--lora-rank (lora_rank) is an option of lora, not of partial");
    }

    @Test
    void rejectsAMethodOptionValueNamingTheKeyAndTheValue() throws IOException {
        String lora = "name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: l, mode: lora, k: [1]}\ntrain:\n";
        assertRejected(write(lora + "  lora_rank: 0\n"), "lora_rank '0': must be >= 1", "line 7");
        assertRejected(write(lora + "  lora_targets: [query, wq]\n"), "lora_targets", "'wq' is not one of");
        assertRejected(write(lora + "  lora_targets: {q: 1}\n"), "lora_targets 'q=1' is not one of", "line 7");
        assertRejected(write(lora + "  lora_layers: [[all]]\n"), "lora_layers", "expected a value or a list of values");
    }
}

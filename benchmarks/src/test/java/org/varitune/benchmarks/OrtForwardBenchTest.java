package org.varitune.benchmarks;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peer's arguments as benchmarks/run.sh passes them: {@code --key value}, documented defaults, one model source. */
class OrtForwardBenchTest {
    private static OrtForwardBench parse(String... args) {
        OrtForwardBench b = new OrtForwardBench();
        new CommandLine(b).parseArgs(args);
        return b;
    }

    @Test
    void aResourceAloneTakesTheDocumentedDefaults() {
        OrtForwardBench b = parse("--resource", "e5-small-v2.onnx");
        assertEquals("e5-small-v2.onnx", b.source.resource);
        assertNull(b.source.onnx);
        assertEquals(32, b.batch);
        assertEquals(128, b.seq);
        assertEquals(10, b.iters);
        assertEquals(2, b.warmup);
        assertNull(b.threads, "unset: the available processors at run time");
    }

    @Test
    void runShsForwardLineIsParsed() {
        OrtForwardBench b = parse("--onnx", "/cache/bert-base.onnx", "--batch", "8", "--seq", "128", "--iters", "10",
                "--threads", "2");
        assertEquals(Path.of("/cache/bert-base.onnx"), b.source.onnx);
        assertEquals(8, b.batch);
        assertEquals(2, b.threads);
    }

    @Test
    void bothOrNeitherModelSourceIsRefused() {
        assertThrows(CommandLine.MutuallyExclusiveArgsException.class, () -> parse("--onnx", "a", "--resource", "b"));
        assertThrows(CommandLine.MissingParameterException.class, () -> parse("--batch", "8"));
    }

    @Test
    void aZeroBatchIsAUsageErrorNamingTheOption() {
        StringWriter err = new StringWriter();
        int rc = new CommandLine(new OrtForwardBench()).setErr(new PrintWriter(err, true))
                .execute("--resource", "none.onnx", "--batch", "0");
        assertEquals(2, rc);
        assertTrue(err.toString().startsWith("--batch must be >= 1, got 0"), err.toString());
    }
}

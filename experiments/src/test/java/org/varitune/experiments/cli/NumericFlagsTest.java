package org.varitune.experiments.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.trainer.TrainConfig;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Numeric options of train, analyze and sweep (issue 14): NaN, infinities, Java literal forms and out-of-range values
 * are errors (exit code 2) naming the option, before anything runs. {@code train --lr NaN} used to be taken for an
 * unset rate (the builder's sentinel) and silently replaced by the default.
 */
class NumericFlagsTest {
    @TempDir Path tmp;

    /** Runs the CLI and returns its stderr; asserts exit code 2. */
    private String fails(String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            assertEquals(2, cl.execute(args), "exit code; stdout:\n" + out + "\nstderr:\n" + err);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return err.toString();
    }

    private String[] train(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", tmp.resolve("no-model").toString(), "--glue-task",
                "sst2", "--data", tmp.toString(), "--out", tmp.resolve("out").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private String[] analyze(String... extra) {
        List<String> a = new ArrayList<>(List.of("analyze", "--model", tmp.resolve("no-model").toString(),
                "--glue-task", "sst2", "--data", tmp.toString(), "--out", tmp.resolve("out").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void aNanLearningRateIsRejectedInsteadOfReplacedByTheDefault() {
        String err = fails(train("--lr", "NaN"));
        assertTrue(err.contains("--lr") && err.contains("'NaN'") && err.contains("not a finite decimal number"), err);
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().lr(Double.NaN).build(),
                "the builder passes NaN to validation instead of reading it as unset");
        assertEquals(2e-5, TrainConfig.builder().build().lr(), "an unset rate is still the mode's default");
    }

    @Test
    void everyFloatingPointFlagOfTrainRejectsNanInfinityAndJavaLiterals() {
        for (String flag : new String[] {"--lr", "--warmup-ratio", "--weight-decay", "--max-grad-norm"}) {
            for (String v : new String[] {"NaN", "Infinity", "-Infinity", "1e999", "0x1p-3", "1e-3f", "2d"}) {
                String err = fails(train(flag, v));
                assertTrue(err.contains(flag) && err.contains("'" + v + "'"), flag + " " + v + ": " + err);
            }
        }
    }

    @Test
    void outOfRangeValuesOfTrainAreRejectedNamingTheOptionOrField() {
        assertTrue(fails(train("--epochs", "2147483648")).contains("--epochs"));
        assertTrue(fails(train("--cache-memory-mb", "9223372036854775807")).contains("--cache-memory-mb"));
        assertTrue(fails(train("--cache-memory-mb", "-1")).contains("--cache-memory-mb"));
        assertTrue(fails(train("--max-examples", "-1")).contains("--max-examples"));
        assertTrue(fails(train("--adapter-size", "0")).contains("--adapter-size"));
        assertTrue(fails(train("--lr", "-1")).contains("lr = -1.0 must be finite and > 0"));
        assertTrue(fails(train("--lr", "0")).contains("lr = 0.0"));
        assertTrue(fails(train("--warmup-ratio", "1.5")).contains("warmupRatio"));
        assertTrue(fails(train("--batch-size", "0")).contains("batchSize"));
        assertTrue(fails(train("--threads", "0")).contains("--threads"));
    }

    @Test
    void outOfRangeValuesOfAnalyzeAndSweepAreRejectedNamingTheOption() {
        assertTrue(fails(analyze("--max-length", "1")).contains("--max-length 1 must be >= 2"));
        assertTrue(fails(analyze("--batch-size", "0")).contains("--batch-size 0 must be >= 1"));
        assertTrue(fails(analyze("--max-examples", "-5")).contains("--max-examples -5"));
        assertTrue(fails(analyze("--max-length", "99999999999")).contains("--max-length"));
        String err = fails("sweep", "--out", tmp.resolve("s").toString(), "--shard", "0/2147483648",
                tmp.resolve("missing.yaml").toString());
        assertTrue(err.contains("--shard"), err);
    }
}

package org.varitune.transformer.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Records every observed normalised error with its tolerance, so that tolerances can be set from the worst error over
 * every kernel choice (OpenBLAS core types, pure-Java GEMM, plain kernels), as {@code tools/tolerances/observe.sh}
 * does. Off unless the environment variable {@code VARITUNE_ERROR_LOG} names a file; then each comparison appends one
 * tab-separated line {@code test-class#method  label  error  tolerance  kernels  OPENBLAS_CORETYPE  blas}.
 * Environment variables reach the forked test JVMs, system properties would not.
 */
public final class ErrorLog {
    private static final String FILE = System.getenv("VARITUNE_ERROR_LOG");

    private ErrorLog() {}

    /** Appends one observation when logging is on; does nothing otherwise. */
    public static void record(String label, double error, double tolerance) {
        if (FILE == null || FILE.isEmpty()) return;
        String caller = StackWalker.getInstance().walk(s -> s
                .filter(f -> f.getClassName().endsWith("Test") || f.getClassName().contains("Test$"))
                .map(f -> f.getClassName().replaceFirst("^.*\\.", "") + "#" + f.getMethodName())
                .findFirst().orElse("?"));
        String line = String.format(Locale.ROOT, "%s\t%s\t%.3e\t%.3e\t%s\t%s\t%s%n", caller,
                label.replace('\t', ' ').replace('\n', ' '), error, tolerance, System.getProperty("kernels", "?"),
                System.getenv().getOrDefault("OPENBLAS_CORETYPE", "unset"), System.getProperty("varitune.blas", "true"));
        try {
            // one short O_APPEND write per line: lines from parallel forks do not interleave
            Files.write(Path.of(FILE), line.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package org.varitune.transformer.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns what a user typed (a built-in model name or a model directory) into an HF model directory. */
public final class ModelResolver {
    private ModelResolver() {}

    /** {@link #resolve(String, ProgressListener)} without progress reports. */
    public static Path resolve(String nameOrDir) throws IOException {
        return resolve(nameOrDir, ProgressListener.NONE);
    }

    /**
     * A built-in name ({@link BuiltinModels#names()}, case-insensitive) is converted on first use and returned from
     * the cache ({@link BuiltinModels#ensure}); otherwise the argument must be a directory holding
     * {@code config.json}.
     *
     * @throws IllegalArgumentException when it is neither; the message lists the built-in names
     */
    public static Path resolve(String nameOrDir, ProgressListener listener) throws IOException {
        if (BuiltinModels.find(nameOrDir).isPresent()) return BuiltinModels.ensure(nameOrDir, listener);
        Path dir = Path.of(nameOrDir);
        if (Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("config.json"))) return dir;
        String why = Files.isDirectory(dir) ? "a directory without config.json" : "no such directory";
        throw new IllegalArgumentException("model '" + nameOrDir + "' is neither a built-in model " + BuiltinModels.names()
                + " nor an HF model directory with config.json (" + why + ")");
    }
}

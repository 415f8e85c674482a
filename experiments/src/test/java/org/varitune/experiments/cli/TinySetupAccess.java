package org.varitune.experiments.cli;

import java.io.IOException;
import java.nio.file.Path;

/** Public access to {@link TinySetup} for tests in other packages. */
public final class TinySetupAccess {
    private TinySetupAccess() {}

    public static Path model(Path dir, long seed) throws IOException { return TinySetup.model(dir, seed); }

    public static Path glueAll(Path root, int train, int dev, long seed) throws IOException {
        return TinySetup.glueAll(root, train, dev, seed);
    }
}

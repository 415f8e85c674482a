package org.varitune.experiments.cli;

import org.varitune.transformer.models.BuiltinModels;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code varitune models}: the built-in models and the state of their cache. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the built-in models and whether their converted directories are cached.")
public final class ModelsCommand implements Callable<Integer> {
    @Override
    public Integer call() throws java.io.IOException {
        System.out.printf("%-20s %-7s %-10s %s%n", "name", "layers", "cache", "directory / source");
        for (String name : BuiltinModels.names()) {
            var m = BuiltinModels.get(name);
            var st = BuiltinModels.status(name);
            System.out.printf("%-20s %-7d %-10s %s%n", name, m.numHiddenLayers(),
                    st.state().toString().toLowerCase(java.util.Locale.ROOT), st.directory());
            if (st.detail() != null && !st.detail().isEmpty()) System.out.printf("%-40s %s%n", "", st.detail());
            System.out.printf("%-40s %s%n", "", m.description());
            System.out.printf("%-40s %s%n", "", "source: Maven artifact " + m.artifact());
        }
        System.out.println("cache root: " + BuiltinModels.cacheRoot() + " (override with -Dvaritune.cache or VARITUNE_CACHE)");
        return 0;
    }
}

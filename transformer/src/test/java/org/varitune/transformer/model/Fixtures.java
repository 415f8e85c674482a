package org.varitune.transformer.model;

import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The PyTorch golden fixtures under {@code src/test/resources/fixtures/<model>/} written by
 * {@code tools/reference/make_fixtures.py} (layout in {@code tools/reference/README.md}).
 */
public final class Fixtures {
    private Fixtures() {}

    public static final String TINY_BERT = "tiny-bert";
    public static final String TINY_ROBERTA = "tiny-roberta";
    public static final String TINY_DISTILBERT = "tiny-distilbert";

    private static final java.util.Map<String, Path> EXTRACTED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The model directory of a fixture (config.json + model.safetensors + the reference files). When the test
     * resources come from the transformer test-jar (other modules' tests under {@code mvn verify}), the directory is
     * copied out of the jar into a temporary directory once per JVM.
     */
    public static Path dir(String model) {
        var url = Fixtures.class.getResource("/fixtures/" + model + "/config.json");
        if (url == null) throw new IllegalStateException("fixture " + model + " not on the test classpath");
        try {
            java.net.URI uri = url.toURI();
            if (!"jar".equals(uri.getScheme())) return Path.of(uri).getParent();
            return EXTRACTED.computeIfAbsent(model, m -> extract(m));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The files a fixture directory may hold (tools/reference/make_fixtures.py writes them), the LoRA ones under lora/. */
    static final String[] FILES = {"config.json", "model.safetensors", "forward.safetensors", "grads.safetensors",
            "adamw.safetensors", "lora/adapter_config.json", "lora/adapter_model.safetensors", "lora/forward.safetensors",
            "lora/grads.safetensors", "lora/adamw.safetensors", "lora/merged.safetensors"};

    private static Path extract(String model) {
        try {
            Path tmp = java.nio.file.Files.createTempDirectory("varitune-fixture-" + model + "-");
            tmp.toFile().deleteOnExit();
            for (String f : FILES) {
                try (var in = Fixtures.class.getResourceAsStream("/fixtures/" + model + "/" + f)) {
                    if (in == null) continue;
                    Path dst = tmp.resolve(f);
                    java.nio.file.Files.createDirectories(dst.getParent());
                    java.nio.file.Files.copy(in, dst);
                    dst.toFile().deleteOnExit();
                }
            }
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException("extracting fixture " + model + " from the test jar", e);
        }
    }

    /** Opens {@code <model>/<file>.safetensors}. */
    public static WeightSource open(String model, String file) {
        try {
            return Safetensors.open(dir(model).resolve(file + ".safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The ids stored under {@code name}, or null when the fixture has none (DistilBERT takes no token type ids). */
    public static int[] intsOrNull(WeightSource src, String name) throws IOException {
        return src.contains(name) ? ints(src, name) : null;
    }

    public static int[] ints(WeightSource src, String name) throws IOException {
        long[] l = src.readLong(name);
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) r[i] = Math.toIntExact(l[i]);
        return r;
    }
}

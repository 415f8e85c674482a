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

    /** The model directory of a fixture (config.json + model.safetensors). */
    public static Path dir(String model) {
        try {
            var url = Fixtures.class.getResource("/fixtures/" + model + "/config.json");
            if (url == null) throw new IllegalStateException("fixture " + model + " not on the test classpath");
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
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

    public static int[] ints(WeightSource src, String name) throws IOException {
        long[] l = src.readLong(name);
        int[] r = new int[l.length];
        for (int i = 0; i < l.length; i++) r[i] = Math.toIntExact(l[i]);
        return r;
    }
}

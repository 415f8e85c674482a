package org.varitune.experiments.cli;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.models.BuiltinModels;
import org.varitune.transformer.models.ModelResolver;
import org.varitune.transformer.models.ProgressListener;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Resolves the {@code --model} argument: a built-in name (converted and cached on first use, with a progress bar), a
 * HF model directory, or {@code random:bert-base} / {@code random:e5-small} (random weights of that size, for
 * benchmarks).
 */
public final class ModelSpec {
    private ModelSpec() {}

    /** Sizes of the random configurations the benchmarks use. */
    public static EncoderConfig randomConfig(String name) {
        return switch (name) {
            case "bert-base" -> new EncoderConfig("bert", 30522, 768, 12, 12, 3072, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1);
            case "e5-small" -> new EncoderConfig("bert", 30522, 384, 12, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1);
            case "minilm" -> new EncoderConfig("bert", 30522, 384, 6, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1);
            default -> throw new IllegalArgumentException("unknown random config '" + name
                    + "' (expected bert-base, e5-small or minilm)");
        };
    }

    /** The model directory for a built-in name or a path; converts a built-in on first use. */
    public static Path directory(String model) throws IOException {
        return ModelResolver.resolve(model, listener());
    }

    /** Loads the encoder for {@code --model}, all layers. */
    public static Encoder load(String model, Kernels kernels) throws IOException {
        if (model.startsWith("random:")) {
            Encoder enc = new Encoder(randomConfig(model.substring("random:".length())), kernels, true);
            Random r = new Random(1234);
            for (Parameter p : enc.parameters()) {
                float[] d = p.data();
                boolean ln = p.name().contains("LayerNorm.weight");
                for (int i = 0; i < d.length; i++) d[i] = (float) ((ln ? 1.0 : 0.0) + 0.02 * r.nextGaussian());
            }
            return enc;
        }
        return Encoder.load(directory(model), kernels);
    }

    /** A progress listener that draws a {@link ProgressBar} on stderr. */
    public static ProgressListener listener() {
        return new ProgressListener() {
            private ProgressBar bar;
            @Override public void onStart(String task, long total) { bar = new ProgressBar(task, total); }
            @Override public void onProgress(long done) { if (bar != null) bar.set(done); }
            @Override public void onDone() { if (bar != null) bar.close(); bar = null; }
            @Override public void onInfo(String message) { System.err.println(message); }
        };
    }

    public static String builtinNames() { return String.join(", ", BuiltinModels.names()); }
}

package org.varitune.transformer.model;

import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Tiny random BERT/RoBERTa configurations and checkpoints for tests. */
public final class TinyModels {
    private TinyModels() {}

    public static EncoderConfig bert() {
        return new EncoderConfig("bert", 50, 16, 3, 4, 24, "gelu", 1e-12, 20, 2, 0, 0.1, 0.1);
    }

    public static EncoderConfig roberta() {
        return new EncoderConfig("roberta", 50, 16, 3, 4, 24, "gelu", 1e-5, 22, 1, 1, 0.1, 0.1);
    }

    /** An encoder with weights ~ N(0, 0.3²), LayerNorm weights 1 + noise. */
    public static Encoder random(EncoderConfig c, Kernels k, boolean pooler, Random r) {
        Encoder e = new Encoder(c, k, pooler);
        for (Parameter p : e.parameters()) {
            float[] d = p.data();
            double base = p.name().endsWith("LayerNorm.weight") ? 1.0 : 0.0;
            for (int i = 0; i < d.length; i++) d[i] = (float) (base + 0.3 * r.nextGaussian());
        }
        return e;
    }

    /** Writes config.json and model.safetensors (names under {@code prefix}) into {@code dir}. */
    public static Path save(Encoder e, Path dir, String prefix, SafetensorsWriter extra) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), e.config().toJson().toPrettyString());
        SafetensorsWriter w = extra != null ? extra : new SafetensorsWriter();
        for (Parameter p : e.parameters()) w.addF32(prefix + p.name(), p.data(), p.shape());
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }
}

package org.varitune.training;

import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.Fixtures;
import org.varitune.transformer.model.ModelFamilies;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Head loading by HF name, the pooler copied from the encoder checkpoint. */
class HeadsTest extends TestBase {
    @TempDir Path tmp;

    @Test
    void bertHeadTakesThePoolerFromTheEncoderCheckpoint() throws IOException {
        Encoder enc = Encoder.load(Fixtures.dir(Fixtures.TINY_BERT), new CpuKernels());
        var head = new ClassificationHead(new CpuKernels(), ModelFamilies.of("bert"), 32, 3, 0.1, Pooling.FIRST_TOKEN);
        assertEquals(2, head.copyFromEncoder(enc));
        try (WeightSource w = Fixtures.open(Fixtures.TINY_BERT, "model")) {
            Parameter pw = head.parameters().get(0);
            assertEquals("pooler.dense.weight", pw.name());
            assertArrayEquals(w.readFloat("bert.pooler.dense.weight"), pw.data());
        }
    }

    @Test
    void loadingAHeadNamesMissingAndMisshapenTensors() throws IOException {
        Path file = tmp.resolve("head.safetensors");
        new SafetensorsWriter().addF32("classifier.dense.weight", new float[32 * 32], 32, 32)
                .addF32("classifier.dense.bias", new float[31], 31).write(file);
        var head = new ClassificationHead(new CpuKernels(), ModelFamilies.of("roberta"), 32, 3, 0.1, Pooling.FIRST_TOKEN);
        try (WeightSource w = Safetensors.open(file)) {
            var ex = assertThrows(IOException.class, () -> head.loadFrom(w));
            assertTrue(ex.getMessage().contains("classifier.dense.bias has shape [31], expected [32]"), ex.getMessage());
            assertTrue(ex.getMessage().contains("missing classifier.out_proj.weight"), ex.getMessage());
            assertTrue(ex.getMessage().contains("head.safetensors"), ex.getMessage());
        }
    }
}

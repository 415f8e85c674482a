package org.varitune.transformer.io.onnx;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

@Tag("models")
class OnnxBertConverterTest extends TestBase {

    @Test
    void infersMiniLmConfigFromTheGraph() {
        EncoderConfig c = OnnxFixtures.converted(OnnxFixtures.MINILM).config();
        assertEquals(new EncoderConfig("bert", 30522, 384, 6, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1), c);
    }

    @Test
    void infersE5ConfigFromTheGraph() {
        EncoderConfig c = OnnxFixtures.converted(OnnxFixtures.E5).config();
        assertEquals(new EncoderConfig("bert", 30522, 384, 12, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1), c);
    }
}

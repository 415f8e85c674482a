package org.varitune.transformer.io.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ONNX files of the built-in models, read once per JVM from the test classpath (the langchain4j embedding jars
 * are test-scope dependencies of this module).
 */
public final class OnnxFixtures {
    private OnnxFixtures() {}

    public static final String MINILM = "all-minilm-l6-v2.onnx";
    public static final String E5 = "e5-small-v2.onnx";

    private static final Map<String, byte[]> BYTES = new ConcurrentHashMap<>();
    private static final Map<String, OnnxModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, OnnxBertConverter.Result> CONVERTED = new ConcurrentHashMap<>();

    /** The serialized model; callers must not modify the array. */
    public static byte[] bytes(String resource) {
        return BYTES.computeIfAbsent(resource, r -> {
            try (InputStream in = OnnxFixtures.class.getClassLoader().getResourceAsStream(r)) {
                if (in == null) throw new IllegalStateException("resource " + r + " not on the test classpath");
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(r, e);
            }
        });
    }

    public static OnnxModel model(String resource) {
        return MODELS.computeIfAbsent(resource, r -> OnnxModelReader.parse(bytes(r)));
    }

    public static OnnxBertConverter.Result converted(String resource) {
        return CONVERTED.computeIfAbsent(resource, r -> OnnxBertConverter.convert(model(r)));
    }
}

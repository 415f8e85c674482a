package org.varitune.transformer.io.onnx;

import java.util.Map;

/**
 * An ONNX {@code ModelProto}, reduced to what the converter needs.
 *
 * @param irVersion       {@code ir_version}
 * @param producerName    {@code producer_name}
 * @param producerVersion {@code producer_version}
 * @param opsetImports    {@code opset_import}: domain ("" = default ONNX domain) to opset version
 * @param graph           {@code graph}
 */
public record OnnxModel(long irVersion, String producerName, String producerVersion, Map<String, Long> opsetImports,
                        OnnxGraph graph) {
}

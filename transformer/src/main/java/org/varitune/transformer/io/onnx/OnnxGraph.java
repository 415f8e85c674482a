package org.varitune.transformer.io.onnx;

import java.util.List;
import java.util.Map;

/**
 * An ONNX {@code GraphProto}, reduced to what the converter needs.
 *
 * @param name         {@code name}
 * @param nodes        {@code node}, in file (topological) order
 * @param initializers {@code initializer} by name, in file order
 * @param inputs       names of {@code input} value infos (may include initializer names in old exports)
 * @param outputs      names of {@code output} value infos
 */
public record OnnxGraph(String name, List<Node> nodes, Map<String, OnnxTensor> initializers, List<String> inputs,
                        List<String> outputs) {

    /**
     * An ONNX {@code NodeProto}.
     *
     * @param name       {@code name}
     * @param opType     {@code op_type}
     * @param domain     {@code domain} ("" for the default ONNX domain)
     * @param inputs     {@code input} tensor names; "" marks an omitted optional input
     * @param outputs    {@code output} tensor names
     * @param attributes {@code attribute} by name, in file order
     */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
        /** The attribute, or null. */
        public Attribute attr(String key) { return attributes.get(key); }

        /** Input {@code i}, or "" if the node has fewer inputs. */
        public String input(int i) { return i < inputs.size() ? inputs.get(i) : ""; }

        @Override
        public String toString() { return opType + " node '" + name + "' " + inputs + " -> " + outputs; }
    }

    /**
     * An ONNX {@code AttributeProto}; only the fields matching {@code type} are meaningful.
     *
     * @param name   {@code name}
     * @param type   {@code type}: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS (others are kept as the code)
     * @param f      {@code f}
     * @param i      {@code i}
     * @param s      {@code s}, empty when absent
     * @param t      {@code t}, or null
     * @param floats {@code floats}, empty when absent
     * @param ints   {@code ints}, empty when absent
     */
    public record Attribute(String name, int type, float f, long i, byte[] s, OnnxTensor t, float[] floats, long[] ints) {
        public static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, GRAPH = 5, FLOATS = 6, INTS = 7;
    }
}

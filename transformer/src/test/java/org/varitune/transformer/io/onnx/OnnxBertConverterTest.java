package org.varitune.transformer.io.onnx;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/** The converter on the two real ONNX graphs, and on copies of the MiniLM graph altered to break one rule each. */
@Tag("models")
class OnnxBertConverterTest extends TestBase {

    private static OnnxBertConverter.Result minilm() { return OnnxFixtures.converted(OnnxFixtures.MINILM); }

    @Test
    void infersMiniLmConfigFromTheGraph() {
        assertEquals(new EncoderConfig("bert", 30522, 384, 6, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1), minilm().config());
    }

    @Test
    void infersE5ConfigFromTheGraph() {
        EncoderConfig c = OnnxFixtures.converted(OnnxFixtures.E5).config();
        assertEquals(new EncoderConfig("bert", 30522, 384, 12, 12, 1536, "gelu", 1e-12, 512, 2, 0, 0.1, 0.1), c);
    }

    @Test
    void mapsEveryInitializerToTheHfNamesInModuleOrderWithConfigShapes() {
        OnnxBertConverter.Result r = minilm();
        EncoderConfig c = r.config();
        int h = c.hiddenSize(), i = c.intermediateSize();
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("embeddings.word_embeddings.weight", new int[]{c.vocabSize(), h});
        expected.put("embeddings.position_embeddings.weight", new int[]{c.maxPositionEmbeddings(), h});
        expected.put("embeddings.token_type_embeddings.weight", new int[]{c.typeVocabSize(), h});
        expected.put("embeddings.LayerNorm.weight", new int[]{h});
        expected.put("embeddings.LayerNorm.bias", new int[]{h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "encoder.layer." + l + ".";
            for (String lin : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
                expected.put(p + lin + ".weight", new int[]{h, h});
                expected.put(p + lin + ".bias", new int[]{h});
                if (lin.equals("attention.output.dense")) {
                    expected.put(p + "attention.output.LayerNorm.weight", new int[]{h});
                    expected.put(p + "attention.output.LayerNorm.bias", new int[]{h});
                }
            }
            expected.put(p + "intermediate.dense.weight", new int[]{i, h});
            expected.put(p + "intermediate.dense.bias", new int[]{i});
            expected.put(p + "output.dense.weight", new int[]{h, i});
            expected.put(p + "output.dense.bias", new int[]{h});
            expected.put(p + "output.LayerNorm.weight", new int[]{h});
            expected.put(p + "output.LayerNorm.bias", new int[]{h});
        }
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(r.weights().keySet()));
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            OnnxBertConverter.Weight w = r.weights().get(e.getKey());
            assertArrayEquals(e.getValue(), w.shape(), e.getKey());
            assertEquals(w.data().length, java.util.Arrays.stream(w.shape()).reduce(1, (a, b) -> a * b), e.getKey());
        }
        // Every initializer is used: the weights plus the position_ids buffer.
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        assertEquals(g.initializers().size(), r.onnxNames().size() + 1);
        assertTrue(g.initializers().containsKey("embeddings.position_ids"));
    }

    @Test
    void transposesMatMulWeightsToLinearLayout() {
        OnnxBertConverter.Result r = minilm();
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        for (String hf : List.of("encoder.layer.0.attention.self.query.weight", "encoder.layer.3.intermediate.dense.weight",
                "encoder.layer.5.output.dense.weight")) {
            String onnx = r.onnxNames().get(hf);
            assertTrue(onnx.startsWith("onnx::MatMul_"), hf + " came from " + onnx);
            OnnxTensor t = g.initializers().get(onnx);
            int in = (int) t.dims()[0], out = (int) t.dims()[1];
            float[] src = t.toFloats(); // (in, out)
            OnnxBertConverter.Weight w = r.weights().get(hf);
            assertArrayEquals(new int[]{out, in}, w.shape(), hf);
            for (int k = 0; k < 200; k++) {
                int i = rand.nextInt(in), o = rand.nextInt(out);
                assertEquals(src[i * out + o], w.data()[o * in + i], hf + "[" + o + "," + i + "]");
            }
        }
        assertEquals("encoder.layer.2.attention.self.key.bias", r.onnxNames().get("encoder.layer.2.attention.self.key.bias"));
    }

    @Test
    void listsTheHiddenStateTensorsOfEveryLayer() {
        List<String> h = minilm().hiddenStateTensors();
        assertEquals(7, h.size());
        assertEquals("last_hidden_state", h.get(6));
        assertTrue(h.get(0).startsWith("/embeddings/LayerNorm/"), h.get(0));
    }

    // ---- broken graphs: each fails naming what is wrong ----

    @Test
    void failsListingUnmappedInitializers() {
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        Map<String, OnnxTensor> inits = new LinkedHashMap<>(g.initializers());
        OnnxTensor stray = new OnnxTensor("onnx::Stray_9", new long[]{2}, OnnxTensor.FLOAT, null, new float[]{1, 2}, new long[0], new long[0]);
        inits.put(stray.name(), stray);
        String msg = convertFails(new OnnxGraph(g.name(), g.nodes(), inits, g.inputs(), g.outputs()));
        assertTrue(msg.contains("1 initializers not mapped") && msg.contains("onnx::Stray_9"), msg);
    }

    @Test
    void failsWhenTheGeluIsNotErf() {
        String msg = convertFails(editNodes(n -> n.opType().equals("Erf") && n.name().contains("layer.2/")
                ? node(n, "Tanh", n.inputs()) : n));
        assertTrue(msg.contains("layer 2") && msg.contains("Tanh"), msg);
    }

    @Test
    void failsWhenANamedBiasSitsWhereTheStructurePutsAnother() {
        String q = "encoder.layer.1.attention.self.query.bias", k = "encoder.layer.1.attention.self.key.bias";
        String msg = convertFails(editNodes(n -> {
            if (n.opType().equals("Add") && n.inputs().contains(q)) return node(n, "Add", List.of(k, n.input(1)));
            if (n.opType().equals("Add") && n.inputs().contains(k)) return node(n, "Add", List.of(q, n.input(1)));
            return n;
        }));
        assertTrue(msg.contains("initializer '" + k + "' sits where the graph structure puts " + q), msg);
    }

    @Test
    void failsWhenALayerNormReducesTheWrongAxis() {
        String msg = convertFails(editNodes(n -> n.name().equals("/encoder/layer.4/output/LayerNorm/ReduceMean")
                ? new OnnxGraph.Node(n.name(), n.opType(), n.domain(), n.inputs(), n.outputs(),
                Map.of("axes", new OnnxGraph.Attribute("axes", OnnxGraph.Attribute.INTS, 0, 0, new byte[0], null, new float[0], new long[]{1})))
                : n));
        assertTrue(msg.contains("encoder.layer.4.output.LayerNorm") && msg.contains("axes [1]"), msg);
    }

    @Test
    void acceptsAFusedLayerNormalizationNode() {
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        List<OnnxGraph.Node> nodes = new ArrayList<>();
        String out = null;
        for (OnnxGraph.Node n : g.nodes()) {
            if (!n.name().startsWith("/embeddings/LayerNorm/")) { nodes.add(n); continue; }
            if (n.name().equals("/embeddings/LayerNorm/Add_1")) out = n.outputs().get(0);
        }
        OnnxGraph.Attribute eps = new OnnxGraph.Attribute("epsilon", OnnxGraph.Attribute.FLOAT, 1e-12f, 0, new byte[0], null, new float[0], new long[0]);
        OnnxGraph.Attribute axis = new OnnxGraph.Attribute("axis", OnnxGraph.Attribute.INT, 0, -1, new byte[0], null, new float[0], new long[0]);
        int at = nodes.indexOf(nodes.stream().filter(n -> n.name().equals("/embeddings/Add_1")).findFirst().orElseThrow()) + 1;
        nodes.add(at, new OnnxGraph.Node("/embeddings/LayerNorm/fused", "LayerNormalization", "",
                List.of("/embeddings/Add_1_output_0", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"),
                List.of(out), Map.of("epsilon", eps, "axis", axis)));
        OnnxBertConverter.Result r = OnnxBertConverter.convert(model(new OnnxGraph(g.name(), nodes, g.initializers(), g.inputs(), g.outputs())));
        assertEquals(minilm().config(), r.config());
        assertArrayEquals(minilm().weights().get("embeddings.LayerNorm.bias").data(), r.weights().get("embeddings.LayerNorm.bias").data());
    }

    @Test
    void mapsAPoolerWhenTheGraphHasOne() {
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        int c = 384;
        float[] w = uniform(c * c, -1, 1), b = uniform(c, -1, 1); // w: (in, out) as ONNX stores it
        Map<String, OnnxTensor> inits = new LinkedHashMap<>(g.initializers());
        inits.put("onnx::MatMul_pool", new OnnxTensor("onnx::MatMul_pool", new long[]{c, c}, OnnxTensor.FLOAT, null, w, new long[0], new long[0]));
        inits.put("pooler.dense.bias", new OnnxTensor("pooler.dense.bias", new long[]{c}, OnnxTensor.FLOAT, null, b, new long[0], new long[0]));
        OnnxTensor zero = new OnnxTensor("", new long[0], OnnxTensor.INT64, null, new float[0], new long[0], new long[]{0});
        OnnxGraph.Attribute value = new OnnxGraph.Attribute("value", OnnxGraph.Attribute.TENSOR, 0, 0, new byte[0], zero, new float[0], new long[0]);
        OnnxGraph.Attribute axis1 = new OnnxGraph.Attribute("axis", OnnxGraph.Attribute.INT, 0, 1, new byte[0], null, new float[0], new long[0]);
        List<OnnxGraph.Node> nodes = new ArrayList<>(g.nodes());
        nodes.add(new OnnxGraph.Node("/pooler/Constant", "Constant", "", List.of(), List.of("idx0"), Map.of("value", value)));
        nodes.add(new OnnxGraph.Node("/pooler/Gather", "Gather", "", List.of("last_hidden_state", "idx0"), List.of("first"), Map.of("axis", axis1)));
        nodes.add(new OnnxGraph.Node("/pooler/dense/MatMul", "MatMul", "", List.of("first", "onnx::MatMul_pool"), List.of("pm"), Map.of()));
        nodes.add(new OnnxGraph.Node("/pooler/dense/Add", "Add", "", List.of("pooler.dense.bias", "pm"), List.of("pa"), Map.of()));
        nodes.add(new OnnxGraph.Node("/pooler/activation/Tanh", "Tanh", "", List.of("pa"), List.of("pooler_output"), Map.of()));
        List<String> outputs = List.of("last_hidden_state", "pooler_output");
        OnnxBertConverter.Result r = OnnxBertConverter.convert(model(new OnnxGraph(g.name(), nodes, inits, g.inputs(), outputs)));
        OnnxBertConverter.Weight pw = r.weights().get("pooler.dense.weight");
        assertArrayEquals(new int[]{c, c}, pw.shape());
        assertEquals(w[5 * c + 7], pw.data()[7 * c + 5]);
        assertArrayEquals(b, r.weights().get("pooler.dense.bias").data());
    }

    // ---- helpers ----

    private static OnnxModel model(OnnxGraph g) { return new OnnxModel(8, "test", "", Map.of("", 14L), g); }

    private static OnnxGraph editNodes(UnaryOperator<OnnxGraph.Node> edit) {
        OnnxGraph g = OnnxFixtures.model(OnnxFixtures.MINILM).graph();
        List<OnnxGraph.Node> nodes = g.nodes().stream().map(edit).toList();
        return new OnnxGraph(g.name(), nodes, g.initializers(), g.inputs(), g.outputs());
    }

    private static OnnxGraph.Node node(OnnxGraph.Node n, String op, List<String> inputs) {
        return new OnnxGraph.Node(n.name(), op, n.domain(), inputs, n.outputs(), n.attributes());
    }

    private static String convertFails(OnnxGraph g) {
        return assertThrows(IllegalArgumentException.class, () -> OnnxBertConverter.convert(model(g))).getMessage();
    }
}

package org.varitune.transformer.models;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.io.onnx.OnnxFixtures;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.OrtOracle;
import org.varitune.transformer.reference.WordPieceLite;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;
import org.varitune.transformer.tokenize.Batch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The production {@link Encoder} on the converted built-in directories: every hidden state against the double
 * {@link DoubleEncoder}, and {@code last_hidden_state} against ONNX Runtime on the original ONNX file, on a padded batch
 * of real sentences and pairs. Real tokens within {@link Tolerances#ONNX_PARITY}; padded rows within
 * {@link Tolerances#ONNX_PARITY_PADDING}.
 */
@Tag("models")
class BuiltinModelsOnnxParityTest extends TestBase {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"all-MiniLM-L6-v2, all-minilm-l6-v2.onnx", "e5-small-v2, e5-small-v2.onnx"})
    void encoderMatchesTheDoubleReferenceAtEveryLayerAndOnnxRuntimeAtTheLast(String name, String onnx) throws Exception {
        Path dir = BuiltinModels.ensure(name, ProgressListener.NONE);
        EncoderConfig cfg = EncoderConfig.read(dir);
        Encoder enc = Encoder.load(dir, Kernels.fromSystemProperty());
        DoubleEncoder ref;
        try (WeightSource src = Safetensors.open(dir)) {
            ref = DoubleEncoder.load(cfg, src);
        }
        WordPieceLite.Encoded in = RealSentences.batch(dir);
        int B = in.B(), T = in.T(), c = cfg.hiddenSize();
        int[] mask = in.attentionMask();
        int[] special = new int[B * T];
        for (int i = 0; i < B * T; i++) special[i] = in.inputIds()[i] == 101 || in.inputIds()[i] == 102 ? 1 : 0;
        EncoderOutput out = enc.forward(new Batch(in.inputIds(), in.tokenTypeIds(), mask, special, B, T));
        List<double[]> expected = ref.forward(in.inputIds(), in.tokenTypeIds(), mask, B, T);
        assertEquals(cfg.numHiddenLayers() + 1, out.hiddenStates().size());

        List<String> profile = new ArrayList<>();
        double worstReal = 0, worstPad = 0;
        for (int l = 0; l <= cfg.numHiddenLayers(); l++) {
            float[] a = out.hiddenStates().get(l);
            double real = AllClose.assertAllClose(name + " hidden_states[" + l + "] real tokens",
                    BuiltinModelsOrtOracleTest.rows(a, mask, 1, c), BuiltinModelsOrtOracleTest.rows(expected.get(l), mask, 1, c),
                    Double.MAX_VALUE);
            double pad = AllClose.assertAllClose(name + " hidden_states[" + l + "] padding",
                    BuiltinModelsOrtOracleTest.rows(a, mask, 0, c), BuiltinModelsOrtOracleTest.rows(expected.get(l), mask, 0, c),
                    Double.MAX_VALUE);
            profile.add(String.format("%d: %.2e / %.2e", l, real, pad));
            worstReal = Math.max(worstReal, real);
            worstPad = Math.max(worstPad, pad);
        }
        String msg = name + ": Encoder vs DoubleEncoder per hidden state (real tokens / padding): " + profile;
        assertTrue(worstReal <= Tolerances.ONNX_PARITY, msg);
        assertTrue(worstPad <= Tolerances.ONNX_PARITY_PADDING, msg);

        Map<String, float[]> ort;
        try (OrtOracle oracle = new OrtOracle(OnnxFixtures.bytes(onnx), List.of())) {
            ort = oracle.run(in.inputIds(), in.tokenTypeIds(), mask, B, T, List.of("last_hidden_state"));
        }
        int n = (int) java.util.Arrays.stream(mask).filter(m -> m == 1).count();
        AllClose.assertAllClose(name + " last_hidden_state real tokens, Encoder vs ORT",
                BuiltinModelsOrtOracleTest.rows(out.last(), mask, 1, c),
                BuiltinModelsOrtOracleTest.rows(ort.get("last_hidden_state"), mask, 1, c), Tolerances.ONNX_PARITY, n, c);
        // and over the whole padded batch, padded positions included (as ORT returns it)
        AllClose.assertAllClose(name + " last_hidden_state every position, Encoder vs ORT", out.last(),
                ort.get("last_hidden_state"), Tolerances.ONNX_PARITY_ALL_POSITIONS, B, T, c);
    }
}

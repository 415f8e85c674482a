package org.varitune.transformer.models;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.io.onnx.OnnxBertConverter;
import org.varitune.transformer.io.onnx.OnnxFixtures;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.OrtOracle;
import org.varitune.transformer.reference.WordPieceLite;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;
import org.varitune.transformer.testing.Tolerances;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The oracle for the built-in conversion: the converted HF directory, run by the double-precision {@link DoubleEncoder},
 * against ONNX Runtime on the original ONNX file, for every hidden state (ORT with each layer's output exposed as an
 * extra graph output) and for {@code last_hidden_state}, on a padded batch of real sentences and pairs.
 */
@Tag("models")
class BuiltinModelsOrtOracleTest extends TestBase {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"all-MiniLM-L6-v2, all-minilm-l6-v2.onnx", "e5-small-v2, e5-small-v2.onnx"})
    void convertedDirectoryMatchesOnnxRuntimeAtEveryLayer(String name, String onnx) throws Exception {
        Path dir = BuiltinModels.ensure(name, ProgressListener.NONE);
        EncoderConfig cfg = EncoderConfig.read(dir);
        DoubleEncoder ref;
        try (WeightSource src = Safetensors.open(dir)) {
            ref = DoubleEncoder.load(cfg, src);
        }
        WordPieceLite.Encoded in = RealSentences.batch(dir);
        assertTrue(in.T() > 12 && in.attentionMask()[2 * in.T() + in.T() - 1] == 0, "batch is padded with mixed lengths");
        List<double[]> expected = ref.forward(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), in.B(), in.T());

        OnnxBertConverter.Result conv = OnnxFixtures.converted(onnx);
        List<String> hidden = conv.hiddenStateTensors();
        List<String> declared = OnnxFixtures.model(onnx).graph().outputs();
        List<String> outputs = new ArrayList<>(hidden);
        outputs.add("last_hidden_state");
        Map<String, float[]> ort;
        try (OrtOracle oracle = new OrtOracle(OnnxFixtures.bytes(onnx), OrtOracle.notDeclared(hidden, declared))) {
            ort = oracle.run(in.inputIds(), in.tokenTypeIds(), in.attentionMask(), in.B(), in.T(),
                    outputs.stream().distinct().toList());
        }
        assertEquals(cfg.numHiddenLayers() + 1, hidden.size());
        int c = cfg.hiddenSize();
        int[] mask = in.attentionMask();
        // Measure every layer first, so that a failure shows the error profile through depth. Real tokens and padded
        // positions are compared separately: padded rows are outputs too, but nothing reads them and their values are
        // worse conditioned in float (see Tolerances.ONNX_PARITY_PADDING).
        List<String> profile = new ArrayList<>();
        double worstReal = 0, worstPad = 0;
        for (int l = 0; l <= cfg.numHiddenLayers(); l++) {
            float[] a = ort.get(hidden.get(l));
            double[] e = expected.get(l);
            double real = AllClose.assertAllClose(name + " hidden_states[" + l + "] real tokens",
                    rows(a, mask, 1, c), rows(e, mask, 1, c), Double.MAX_VALUE);
            double pad = AllClose.assertAllClose(name + " hidden_states[" + l + "] padding",
                    rows(a, mask, 0, c), rows(e, mask, 0, c), Double.MAX_VALUE);
            profile.add(String.format("%d: %.2e / %.2e", l, real, pad));
            worstReal = Math.max(worstReal, real);
            worstPad = Math.max(worstPad, pad);
        }
        String msg = name + ": ORT vs DoubleEncoder(converted dir), per hidden state (real tokens / padding): " + profile;
        assertTrue(worstReal <= Tolerances.ONNX_PARITY, msg);
        assertTrue(worstPad <= Tolerances.ONNX_PARITY_PADDING, msg);
        AllClose.assertAllClose(name + " last_hidden_state real tokens, ORT vs DoubleEncoder(converted dir)",
                rows(ort.get("last_hidden_state"), mask, 1, c), rows(expected.get(cfg.numHiddenLayers()), mask, 1, c),
                Tolerances.ONNX_PARITY, (int) java.util.Arrays.stream(mask).filter(m -> m == 1).count(), c);
    }

    /** The (N, C) rows of x: (B, T, C) whose mask equals {@code keep}, in (b, t) order, as double. */
    static double[] rows(double[] x, int[] mask, int keep, int c) {
        int n = 0;
        for (int m : mask) if (m == keep) n++;
        double[] out = new double[n * c];
        int r = 0;
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != keep) continue;
            System.arraycopy(x, i * c, out, r++ * c, c);
        }
        return out;
    }

    static double[] rows(float[] x, int[] mask, int keep, int c) { return rows(toDouble(x), mask, keep, c); }
}

package org.varitune.transformer.reference;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.MathUtil;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Checks of the double reference encoder that do not need a real model. */
class EncoderRefTest extends TestBase {
    private static final EncoderConfig BERT = new EncoderConfig("bert", 20, 4, 1, 2, 6, "gelu", 1e-12, 16, 2, 0, 0.1, 0.1);
    private static final EncoderConfig ROBERTA = new EncoderConfig("roberta", 20, 4, 1, 2, 6, "gelu", 1e-5, 16, 1, 1, 0.1, 0.1);

    @Test
    void numbersRobertaPositionsFromPaddingIdxPlusOneAndGivesPadsPaddingIdx() {
        EncoderRef ref = new EncoderRef(ROBERTA, weights(ROBERTA));
        int[] ids = {0, 5, 6, 2, 1, 1, /* row 2 */ 0, 7, 2, 9, 4, 2};
        assertArrayEquals(new int[]{2, 3, 4, 5, 1, 1, 2, 3, 4, 5, 6, 7}, ref.positionIds(ids, 2, 6));
    }

    @Test
    void numbersBertPositionsFromZeroIncludingPads() {
        EncoderRef ref = new EncoderRef(BERT, weights(BERT));
        assertArrayEquals(new int[]{0, 1, 2, 3, 0, 1, 2, 3}, ref.positionIds(new int[]{101, 7, 102, 0, 101, 102, 0, 0}, 2, 4));
    }

    @Test
    void paddedKeysDoNotChangeRealTokenOutputs() {
        EncoderRef ref = new EncoderRef(BERT, weights(BERT));
        int[] ids = {3, 4, 5};
        List<double[]> alone = ref.forward(ids, null, new int[]{1, 1, 1}, 1, 3);
        List<double[]> padded = ref.forward(new int[]{3, 4, 5, 0, 0}, null, new int[]{1, 1, 1, 0, 0}, 1, 5);
        for (int i = 0; i < 3 * 4; i++) assertEquals(alone.get(1)[i], padded.get(1)[i], 1e-12, "element " + i);
    }

    @Test
    void singleTokenLayerEqualsTheClosedForm() {
        // With one token, attention returns v exactly; the layer is LN(x + Wo·v + bo) then the MLP block.
        Map<String, float[]> w = weights(BERT);
        EncoderRef ref = new EncoderRef(BERT, w);
        List<double[]> hs = ref.forward(new int[]{7}, new int[]{1}, new int[]{1}, 1, 1);
        double[] x = hs.get(0);
        double[] v = ref.linear(x, 1, "encoder.layer.0.attention.self.value");
        double[] a = ref.linear(v, 1, "encoder.layer.0.attention.output.dense");
        for (int j = 0; j < 4; j++) a[j] += x[j];
        a = ref.layerNorm(a, 1, "encoder.layer.0.attention.output.LayerNorm");
        double[] m = ref.linear(a, 1, "encoder.layer.0.intermediate.dense");
        for (int j = 0; j < m.length; j++) m[j] = MathUtil.gelu(m[j]);
        double[] y = ref.linear(m, 1, "encoder.layer.0.output.dense");
        for (int j = 0; j < 4; j++) y[j] += a[j];
        assertArrayEquals(ref.layerNorm(y, 1, "encoder.layer.0.output.LayerNorm"), hs.get(1), 1e-14);
        // embeddings: LN(word[7] + pos[0] + type[1])
        double[] e = new double[4];
        for (int j = 0; j < 4; j++) {
            e[j] = (double) w.get("embeddings.word_embeddings.weight")[7 * 4 + j] + (double) w.get("embeddings.position_embeddings.weight")[j]
                    + (double) w.get("embeddings.token_type_embeddings.weight")[4 + j];
        }
        assertArrayEquals(ref.layerNorm(e, 1, "embeddings.LayerNorm"), x, 1e-14);
    }

    @Test
    void rejectsAMissingWeightNamingIt() {
        Map<String, float[]> w = weights(BERT);
        w.remove("encoder.layer.0.output.dense.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EncoderRef(BERT, w));
        assertTrue(e.getMessage().contains("encoder.layer.0.output.dense.bias"), e.getMessage());
    }

    private Map<String, float[]> weights(EncoderConfig c) {
        int h = c.hiddenSize(), i = c.intermediateSize();
        Map<String, float[]> w = new HashMap<>();
        w.put("embeddings.word_embeddings.weight", randn(c.vocabSize() * h));
        w.put("embeddings.position_embeddings.weight", randn(c.maxPositionEmbeddings() * h));
        w.put("embeddings.token_type_embeddings.weight", randn(c.typeVocabSize() * h));
        w.put("embeddings.LayerNorm.weight", randn(h));
        w.put("embeddings.LayerNorm.bias", randn(h));
        String p = "encoder.layer.0.";
        for (String lin : List.of("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")) {
            w.put(p + lin + ".weight", randn(h * h));
            w.put(p + lin + ".bias", randn(h));
        }
        w.put(p + "attention.output.LayerNorm.weight", randn(h));
        w.put(p + "attention.output.LayerNorm.bias", randn(h));
        w.put(p + "intermediate.dense.weight", randn(i * h));
        w.put(p + "intermediate.dense.bias", randn(i));
        w.put(p + "output.dense.weight", randn(h * i));
        w.put(p + "output.dense.bias", randn(h));
        w.put(p + "output.LayerNorm.weight", randn(h));
        w.put(p + "output.LayerNorm.bias", randn(h));
        return w;
    }
}

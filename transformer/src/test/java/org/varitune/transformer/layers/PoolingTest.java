package org.varitune.transformer.layers;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolingTest extends TestBase {
    /** Float mean pooling against the double mean. Observed 3.4e-8. */
    static final double POOLING = 3e-7;

    static final int T = 9, C = 3;

    /** Mean of rows t in ts of batch row b. */
    static double[] mean(float[] h, int b, int... ts) {
        double[] m = new double[C];
        for (int t : ts) for (int c = 0; c < C; c++) m[c] += h[(b * T + t) * C + c] / (double) ts.length;
        return m;
    }

    @Test
    void meanNonSpecialAveragesWordTokensForBertAndRobertaSinglesAndPairs() {
        // row 0: BERT single   [CLS] a b [SEP] pad...
        // row 1: BERT pair     [CLS] a b [SEP] c [SEP] pad...
        // row 2: RoBERTa pair  <s> a </s> </s> b c </s> pad pad
        // row 3: specials only [CLS] [SEP] (empty text): falls back to the mean over non-pad tokens
        int B = 4;
        int[] att = {
                1, 1, 1, 1, 0, 0, 0, 0, 0,
                1, 1, 1, 1, 1, 1, 0, 0, 0,
                1, 1, 1, 1, 1, 1, 1, 0, 0,
                1, 1, 0, 0, 0, 0, 0, 0, 0};
        int[] special = {   // HF also flags padding as special
                1, 0, 0, 1, 1, 1, 1, 1, 1,
                1, 0, 0, 1, 0, 1, 1, 1, 1,
                1, 0, 1, 1, 0, 0, 1, 1, 1,
                1, 1, 1, 1, 1, 1, 1, 1, 1};
        float[] h = randn(B * T * C);
        float[] out = new float[B * C];
        int fallbacks = Pooling.MEAN_NON_SPECIAL.pool(h, att, special, B, T, C, out);
        assertEquals(1, fallbacks);
        double[] expected = new double[B * C];
        double[][] rows = {mean(h, 0, 1, 2), mean(h, 1, 1, 2, 4), mean(h, 2, 1, 4, 5), mean(h, 3, 0, 1)};
        for (int b = 0; b < B; b++) System.arraycopy(rows[b], 0, expected, b * C, C);
        AllClose.assertAllClose("MEAN_NON_SPECIAL", out, expected, POOLING, B, C);

        assertEquals(0, Pooling.MEAN_NON_PAD.pool(h, att, null, B, T, C, out));
        double[][] nonPad = {mean(h, 0, 0, 1, 2, 3), mean(h, 1, 0, 1, 2, 3, 4, 5), mean(h, 2, 0, 1, 2, 3, 4, 5, 6), mean(h, 3, 0, 1)};
        for (int b = 0; b < B; b++) System.arraycopy(nonPad[b], 0, expected, b * C, C);
        AllClose.assertAllClose("MEAN_NON_PAD", out, expected, POOLING, B, C);

        Pooling.FIRST_TOKEN.pool(h, att, null, B, T, C, out);
        for (int b = 0; b < B; b++) for (int c = 0; c < C; c++) expected[b * C + c] = h[b * T * C + c];
        AllClose.assertAllClose("CLS", out, expected, 0, B, C);
    }

    @Test
    void rejectsFullyPaddedRowsLeftPaddingAndBadMasks() {
        float[] h = randn(2 * T * C);
        float[] out = new float[2 * C];
        int[] att = new int[2 * T];
        att[0] = 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Pooling.MEAN_NON_PAD.pool(h, att, null, 2, T, C, out));
        assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        int[] left = new int[2 * T];
        for (int t = 0; t < T; t++) { left[t] = 1; left[T + t] = t >= 3 ? 1 : 0; }
        e = assertThrows(IllegalArgumentException.class, () -> Pooling.FIRST_TOKEN.pool(h, left, null, 2, T, C, out));
        assertTrue(e.getMessage().contains("left padding"), e.getMessage());
        int[] two = left.clone();
        two[5] = 2;
        e = assertThrows(IllegalArgumentException.class, () -> Pooling.MEAN_NON_PAD.pool(h, two, null, 2, T, C, out));
        assertTrue(e.getMessage().contains("attentionMask[0,5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Pooling.MEAN_NON_SPECIAL.pool(h, left, null, 2, T, C, out));
        assertThrows(IllegalArgumentException.class, () -> Pooling.MEAN_NON_PAD.pool(h, left, null, 2, T, C + 1, out));
    }

    @Test
    void weightsFollowTheMasksAndARowOfSpecialsOnlyIsPooledWithItsSpecials() {
        int[] mask = {1, 1, 1, 0, 1, 1, 0, 0}, special = {1, 0, 1, 1, 1, 1, 1, 1};
        assertArrayEquals(new float[] {1, 0, 0, 0, 1, 0, 0, 0}, Pooling.FIRST_TOKEN.weights(mask, special, 2, 4));
        assertArrayEquals(new float[] {1 / 3f, 1 / 3f, 1 / 3f, 0, 0.5f, 0.5f, 0, 0}, Pooling.MEAN_NON_PAD.weights(mask, special, 2, 4));
        // row 1 is [CLS] [SEP]: no text token, so mean-with-special, as the metric pools it
        assertArrayEquals(new float[] {0, 1, 0, 0, 0.5f, 0.5f, 0, 0}, Pooling.MEAN_NON_SPECIAL.weights(mask, special, 2, 4));
        var e = assertThrows(IllegalArgumentException.class, () -> Pooling.MEAN_NON_SPECIAL.weights(mask, null, 2, 4));
        assertTrue(e.getMessage().contains("specialTokensMask"), e.getMessage());
    }

    @Test
    void theHeadsForwardIsTheMetricsPoolAndBackwardSpreadsTheGradientByTheWeights() {
        int B = 2, T = 4, C = 3;
        int[] mask = {1, 1, 1, 0, 1, 1, 1, 1}, special = {1, 0, 1, 1, 1, 0, 0, 1};
        float[] h = randn(B * T * C), dPooled = randn(B * C);
        for (Pooling p : Pooling.values()) {
            float[] pooled = new float[B * C];
            p.pool(h, mask, special, B, T, C, pooled);
            var f = p.forward(h, mask, special, B, T, C);
            assertArrayEquals(pooled, f.out(), p.spelling());
            // forward is linear in h: pooled = Σ_t w[b,t]·h[b,t], so dH[b,t] = w[b,t]·dPooled[b], computed by hand
            float[] w = p.weights(mask, special, B, T), dH = Pooling.backward(dPooled, f.saved());
            for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) for (int c = 0; c < C; c++) {
                assertEquals(w[b * T + t] * dPooled[b * C + c], dH[(b * T + t) * C + c], 0f, p + " dH[" + b + "," + t + "," + c + "]");
            }
        }
        assertEquals(1f / 2, Pooling.MEAN_NON_SPECIAL.weights(mask, special, B, T)[5]);
    }
}

package org.varitune.transformer.layers;

import org.varitune.transformer.io.Spelled;

import java.util.List;

/**
 * How one input's token states {@code (T, C)} become one vector {@code (C)}: the one pooling of varitune, used by
 * the variability metric ({@code analyze}) and by the classification head, so that the head reads exactly what the
 * metric measured. Every mode is a weighted sum over positions with weights that depend only on the masks:
 * <pre>
 *   pooled[b] = Σ_t w[b,t]·h[b,t]           // w[b,t] = 1/n_b on the n_b eligible positions of row b, else 0
 * </pre>
 * computed as {@code (Σ_{t eligible} h[b,t]) / n_b} with the sum in double, so backward is
 * {@code dH[b,t] = w[b,t]·dPooled[b]}.
 *
 * <p>Masks follow Hugging Face tokenizers: {@code attentionMask[b,t] = 1} for real tokens and 0 for padding;
 * {@code specialTokensMask[b,t] = 1} for special tokens ({@code return_special_tokens_mask=True}): BERT's
 * {@code [CLS]}, {@code [SEP]} (both separators of a pair); RoBERTa's {@code <s>}, {@code </s>}, and the
 * {@code </s></s>} between the two texts of a pair. Padding is excluded by the attention mask either way. Only right
 * padding is supported (HF's default). Values are spelled {@code mean}, {@code mean-with-special} and
 * {@code first-token} ({@link Spelled}) on the command line, in YAML and in every file varitune writes.
 *
 * <p><b>Rows without a text token.</b> A text that tokenizes to specials only (an empty string) has no position
 * eligible for {@code mean}; such a row is pooled as {@code mean-with-special} (the mean over its special tokens),
 * by the metric, the head in training and the head in prediction alike, and {@link #pool} counts it. A row with no
 * attended position at all is a malformed batch and an error.
 */
public enum Pooling implements Spelled {
    /**
     * {@code mean}: the mean over tokens with {@code attentionMask = 1} and {@code specialTokensMask = 0}: the paper's
     * "average of the hidden states of all the (non-CLS) tokens", read as excluding every special token so that BERT
     * and RoBERTa, single texts and pairs, all average exactly the word-piece tokens. The default.
     */
    MEAN_NON_SPECIAL("mean"),
    /** {@code mean-with-special}: the mean over all tokens with {@code attentionMask = 1}, specials included. */
    MEAN_NON_PAD("mean-with-special"),
    /** {@code first-token}: {@code h[:, 0]} ({@code [CLS]} / {@code <s>}), as HF's pooler and heads read it. */
    FIRST_TOKEN("first-token", "cls");

    private final String spelling;
    private final List<String> oldSpellings;

    Pooling(String spelling, String... oldSpellings) {
        this.spelling = spelling;
        this.oldSpellings = List.of(oldSpellings);   // cls: the metric's name for first-token before
    }

    @Override public String spelling() { return spelling; }

    @Override public List<String> oldSpellings() { return oldSpellings; }

    @Override public String toString() { return spelling; }

    /** What backward needs: the per-position weights. weights: (B, T) */
    public record Saved(float[] weights, int b, int t, int c) {}

    /**
     * The pooling weights {@code w} (B, T) of a batch, a new array; see the class comment for the rows of
     * {@code mean} without a text token.
     *
     * @param attentionMask     (B, T) of 0/1, not modified
     * @param specialTokensMask (B, T) of 0/1, not modified; read only by {@link #MEAN_NON_SPECIAL} (may be null
     *                          otherwise)
     * @throws IllegalArgumentException naming the array, row and position on a wrong length, a mask value other than
     *                                  0/1, a row without any attended token, or (first-token) a padded position 0
     */
    public float[] weights(int[] attentionMask, int[] specialTokensMask, int B, int T) {
        return weightsCounting(attentionMask, specialTokensMask, B, T, new int[1]);
    }

    private float[] weightsCounting(int[] attentionMask, int[] specialTokensMask, int B, int T, int[] fallbacks) {
        if (attentionMask == null) throw new IllegalArgumentException(this + " pooling needs the attention mask (B, T)");
        if (attentionMask.length != B * T) throw shape("attentionMask", attentionMask.length, "B*T", B, T);
        if (this == MEAN_NON_SPECIAL) {
            if (specialTokensMask == null) throw new IllegalArgumentException("mean pooling needs specialTokensMask (B, T)");
            if (specialTokensMask.length != B * T) throw shape("specialTokensMask", specialTokensMask.length, "B*T", B, T);
        }
        float[] w = new float[B * T];                                      // w: (B, T)
        for (int b = 0; b < B; b++) {
            int nonPad = 0, text = 0;
            for (int t = 0; t < T; t++) {
                int m = check("attentionMask", attentionMask, b, t, T);
                nonPad += m;
                if (this == MEAN_NON_SPECIAL && m == 1 && check("specialTokensMask", specialTokensMask, b, t, T) == 0) text++;
            }
            if (nonPad == 0) throw new IllegalArgumentException("row " + b + " has no attended token (attentionMask all 0, T=" + T + ")");
            if (this == FIRST_TOKEN) {
                if (attentionMask[b * T] != 1) {
                    throw new IllegalArgumentException("first-token pooling: row " + b + " position 0 is padding (left padding is not supported)");
                }
                w[b * T] = 1f;
                continue;
            }
            boolean skipSpecial = this == MEAN_NON_SPECIAL && text > 0;
            if (this == MEAN_NON_SPECIAL && text == 0) fallbacks[0]++;    // specials only: mean-with-special
            int n = skipSpecial ? text : nonPad;
            for (int t = 0; t < T; t++) {
                int i = b * T + t;
                if (attentionMask[i] == 1 && !(skipSpecial && specialTokensMask[i] == 1)) w[i] = 1f / n;
            }
        }
        return w;
    }

    /**
     * Pools a batch into {@code out}: {@code out[b] = (Σ_{t: w[b,t] > 0} h[b,t]) / n_b}, summed in double.
     *
     * @param hidden (B, T, C), not modified
     * @param out    (B, C), modified
     * @return how many rows of a {@link #MEAN_NON_SPECIAL} batch had no text token and were pooled as
     *         {@link #MEAN_NON_PAD} (0 for the other modes)
     * @throws IllegalArgumentException as {@link #weights}, or on wrong lengths of {@code hidden} or {@code out}
     */
    public int pool(float[] hidden, int[] attentionMask, int[] specialTokensMask, int B, int T, int C, float[] out) {
        int[] fallbacks = new int[1];
        float[] w = weightsCounting(attentionMask, specialTokensMask, B, T, fallbacks);
        pool(hidden, w, B, T, C, out);
        return fallbacks[0];
    }

    private static void pool(float[] hidden, float[] w, int B, int T, int C, float[] out) {
        if (hidden.length != B * T * C) throw shape("hidden", hidden.length, "B*T*C", B, T, C);
        if (out.length != B * C) throw shape("out", out.length, "B*C", B, T, C);
        double[] acc = new double[C];                                      // acc: (C)
        for (int b = 0; b < B; b++) {
            java.util.Arrays.fill(acc, 0);
            int n = 0;
            for (int t = 0; t < T; t++) {
                if (w[b * T + t] == 0f) continue;
                n++;
                int off = (b * T + t) * C;
                for (int c = 0; c < C; c++) acc[c] += hidden[off + c];
            }
            for (int c = 0; c < C; c++) out[b * C + c] = (float) (acc[c] / n);
        }
    }

    /**
     * The head's forward: pooled (B, C), a new array, as {@link #pool}, with the weights saved for backward.
     *
     * @param h (B, T, C), not modified
     */
    public Fwd<Saved> forward(float[] h, int[] attentionMask, int[] specialTokensMask, int B, int T, int C) {
        float[] w = weights(attentionMask, specialTokensMask, B, T);       // w: (B, T)
        float[] pooled = new float[B * C];                                 // pooled: (B, C)
        pool(h, w, B, T, C, pooled);
        return new Fwd<>(pooled, new Saved(w, B, T, C));
    }

    /** forward was pooled[b] = Σ_t w[b,t]·h[b,t]; returns dH (B, T, C) = w[b,t]·dPooled[b], a new array. */
    public static float[] backward(float[] dPooled, Saved s) {
        int B = s.b(), T = s.t(), C = s.c();
        float[] dH = new float[B * T * C];                                 // dH: (B, T, C)
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                float wt = s.weights()[b * T + t];
                if (wt == 0f) continue;
                int hi = (b * T + t) * C;
                for (int c = 0; c < C; c++) dH[hi + c] = wt * dPooled[b * C + c];
            }
        }
        return dH;
    }

    private static int check(String name, int[] mask, int b, int t, int T) {
        int m = mask[b * T + t];
        if (m != 0 && m != 1) throw new IllegalArgumentException(name + "[" + b + "," + t + "] = " + m + ", expected 0 or 1");
        return m;
    }

    private static IllegalArgumentException shape(String name, int len, String expect, int B, int T, int... C) {
        return new IllegalArgumentException(name + " has length " + len + ", expected " + expect + " with B=" + B
                + ", T=" + T + (C.length > 0 ? ", C=" + C[0] : ""));
    }
}

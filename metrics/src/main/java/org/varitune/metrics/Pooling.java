package org.varitune.metrics;

import org.varitune.transformer.io.Spelled;

/**
 * How one input's token states {@code (T, C)} become one vector {@code (C)}.
 *
 * <p>Masks follow Hugging Face tokenizers: {@code attentionMask[b,t] = 1} for real tokens and 0 for padding;
 * {@code specialTokensMask[b,t] = 1} for special tokens ({@code return_special_tokens_mask=True}): BERT's
 * {@code [CLS]}, {@code [SEP]} (both separators of a pair); RoBERTa's {@code <s>}, {@code </s>}, and the
 * {@code </s></s>} between the two texts of a pair. HF also marks padding as special; padding is excluded by the
 * attention mask either way. Only right padding is supported (HF's default for both models). The values are spelled
 * {@code mean}, {@code mean-with-special} and {@code first-token} ({@link Spelled}), as the head's pooling is.
 */
public enum Pooling implements Spelled {
    /**
     * {@code mean}: the mean over tokens with {@code attentionMask = 1} and {@code specialTokensMask = 0}: the paper's
     * "average of the hidden states of all the (non-CLS) tokens", read as excluding every special token so that BERT
     * and RoBERTa, single texts and pairs, all average exactly the word-piece tokens. The default. A row with no such
     * token (an empty text that tokenizes to specials only) falls back to {@link #MEAN_NON_PAD} for that row and is
     * counted in the return value of {@link #pool} (the head's pooling, {@code org.varitune.training.Pooling}, throws
     * on such a row instead).
     */
    MEAN_NON_SPECIAL("mean"),
    /** {@code mean-with-special}: the mean over all tokens with {@code attentionMask = 1}, specials included. */
    MEAN_NON_PAD("mean-with-special"),
    /**
     * {@code first-token}: the first token ({@code [CLS]} / {@code <s>}), as HF's pooler and classification heads
     * read it.
     */
    CLS("first-token");

    private final String spelling;

    Pooling(String spelling) { this.spelling = spelling; }

    @Override public String spelling() { return spelling; }

    @Override public String toString() { return spelling; }

    /**
     * Pools a batch: {@code out[b] = mean_{t eligible} hidden[b,t]} (or {@code hidden[b,0]} for CLS), summed in
     * double.
     *
     * @param hidden            (B, T, C), not modified
     * @param attentionMask     (B, T), not modified
     * @param specialTokensMask (B, T), not modified; only read by {@link #MEAN_NON_SPECIAL} (may be null otherwise)
     * @param out               (B, C), modified
     * @return the number of rows of a {@link #MEAN_NON_SPECIAL} batch that had no non-special token and fell back to
     *         the mean over non-pad tokens (0 for the other modes)
     * @throws IllegalArgumentException on wrong lengths, a mask value other than 0/1, a row without any non-pad
     *                                  token, or (CLS) a padded first position (left padding)
     */
    public int pool(float[] hidden, int[] attentionMask, int[] specialTokensMask, int B, int T, int C, float[] out) {
        if (hidden.length != B * T * C) throw shape("hidden", hidden.length, "B*T*C", B, T, C);
        if (attentionMask.length != B * T) throw shape("attentionMask", attentionMask.length, "B*T", B, T, C);
        if (out.length != B * C) throw shape("out", out.length, "B*C", B, T, C);
        if (this == MEAN_NON_SPECIAL) {
            if (specialTokensMask == null) throw new IllegalArgumentException("mean pooling needs specialTokensMask (B, T)");
            if (specialTokensMask.length != B * T) throw shape("specialTokensMask", specialTokensMask.length, "B*T", B, T, C);
        }
        int fallbacks = 0;
        double[] acc = new double[C];
        for (int b = 0; b < B; b++) {
            int nonPad = 0;
            for (int t = 0; t < T; t++) {
                int m = attentionMask[b * T + t];
                if (m != 0 && m != 1) throw new IllegalArgumentException("attentionMask[" + b + "," + t + "] = " + m + ", expected 0 or 1");
                nonPad += m;
            }
            if (nonPad == 0) throw new IllegalArgumentException("row " + b + " has no non-pad token (attentionMask all 0, T=" + T + ")");
            if (this == CLS) {
                if (attentionMask[b * T] != 1) {
                    throw new IllegalArgumentException("first-token pooling: row " + b + " position 0 is padding (left padding is not supported)");
                }
                System.arraycopy(hidden, b * T * C, out, b * C, C);
                continue;
            }
            boolean skipSpecial = this == MEAN_NON_SPECIAL;
            int count = 0;
            if (skipSpecial) {
                for (int t = 0; t < T; t++) {
                    int s = specialTokensMask[b * T + t];
                    if (s != 0 && s != 1) throw new IllegalArgumentException("specialTokensMask[" + b + "," + t + "] = " + s + ", expected 0 or 1");
                    if (attentionMask[b * T + t] == 1 && s == 0) count++;
                }
                if (count == 0) {            // specials only: documented fallback to all non-pad tokens
                    skipSpecial = false;
                    fallbacks++;
                }
            }
            if (!skipSpecial) count = nonPad;
            java.util.Arrays.fill(acc, 0);
            for (int t = 0; t < T; t++) {
                if (attentionMask[b * T + t] == 0) continue;
                if (skipSpecial && specialTokensMask[b * T + t] == 1) continue;
                int off = (b * T + t) * C;
                for (int c = 0; c < C; c++) acc[c] += hidden[off + c];
            }
            for (int c = 0; c < C; c++) out[b * C + c] = (float) (acc[c] / count);
        }
        return fallbacks;
    }

    private static IllegalArgumentException shape(String name, int len, String expect, int B, int T, int C) {
        return new IllegalArgumentException(name + " has length " + len + ", expected " + expect + " with B=" + B
                + ", T=" + T + ", C=" + C);
    }
}

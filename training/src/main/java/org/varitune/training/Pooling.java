package org.varitune.training;

import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.layers.Fwd;

import java.util.List;

/**
 * Reduces the hidden states of a sequence to one vector per sequence, as a weighted sum over positions:
 * {@code pooled[b] = Σ_t w[b,t]·h[b,t]}. The weights depend only on the masks, so backward is
 * {@code dH[b,t] = w[b,t]·dPooled[b]}.
 * The modes are spelled as the variability metric's pooling ({@code org.varitune.metrics.Pooling}) is:
 * <ul>
 *   <li>{@code mean} ({@link Mode#MEAN_NON_SPECIAL}): mean over attended positions that are not special tokens
 *       ({@code specialTokensMask == 0}): the text tokens only.</li>
 *   <li>{@code mean-with-special} ({@link Mode#MEAN_NON_PAD}): mean over positions with {@code attentionMask == 1}.</li>
 *   <li>{@code first-token} ({@link Mode#FIRST_TOKEN}): HF's default, {@code h[:, 0]} ([CLS] / {@code <s>}); w = 1
 *       at t = 0.</li>
 * </ul>
 * A mean over a row with no eligible position (for {@code mean}: a text that tokenizes to specials only) is an error
 * naming the row; the metric's pooling instead falls back to {@code mean-with-special} for such a row and counts it.
 */
public final class Pooling {
    /** Which positions are pooled. */
    public enum Mode implements Spelled {
        MEAN_NON_SPECIAL("mean"), MEAN_NON_PAD("mean-with-special"), FIRST_TOKEN("first-token", "cls");

        private final String spelling;
        private final List<String> oldSpellings;

        Mode(String spelling, String... oldSpellings) {
            this.spelling = spelling;
            this.oldSpellings = List.of(oldSpellings);   // cls: the metric's name for first-token before
        }

        @Override public String spelling() { return spelling; }

        @Override public List<String> oldSpellings() { return oldSpellings; }

        @Override public String toString() { return spelling; }
    }

    private final Mode mode;

    /** Saved for backward: the per-position weights. */
    public record Saved(float[] weights, int b, int t, int c) {}          // weights: (B, T)

    public Pooling(Mode mode) { this.mode = mode; }

    public Mode mode() { return mode; }

    /**
     * @param h                 (B, T, C), not modified
     * @param attentionMask     (B, T); needed by the mean modes
     * @param specialTokensMask (B, T), 1 = special token; needed by {@link Mode#MEAN_NON_SPECIAL}
     * @return pooled (B, C), a new array, with the weights saved
     */
    public Fwd<Saved> forward(float[] h, int[] attentionMask, int[] specialTokensMask,
                                                              int B, int T, int C) {
        float[] w = weights(attentionMask, specialTokensMask, B, T);       // w: (B, T)
        float[] pooled = new float[B * C];                                 // pooled: (B, C)
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                float wt = w[b * T + t];
                if (wt == 0f) continue;
                int hi = (b * T + t) * C;
                for (int c = 0; c < C; c++) pooled[b * C + c] += wt * h[hi + c];
            }
        }
        return new Fwd<>(pooled, new Saved(w, B, T, C));
    }

    /** forward was pooled[b] = Σ_t w[b,t]·h[b,t]; returns dH (B, T, C) = w[b,t]·dPooled[b], a new array. */
    public float[] backward(float[] dPooled, Saved s) {
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

    /** The pooling weights (B, T) for these masks. */
    public float[] weights(int[] attentionMask, int[] specialTokensMask, int B, int T) {
        float[] w = new float[B * T];
        if (mode == Mode.FIRST_TOKEN) {
            for (int b = 0; b < B; b++) w[b * T] = 1f;
            return w;
        }
        if (attentionMask == null) throw new IllegalArgumentException(mode + " pooling needs the attention mask");
        if (mode == Mode.MEAN_NON_SPECIAL && specialTokensMask == null) {
            throw new IllegalArgumentException(mode + " pooling needs the special tokens mask");
        }
        for (int b = 0; b < B; b++) {
            int count = 0;
            for (int t = 0; t < T; t++) if (eligible(attentionMask, specialTokensMask, b * T + t)) count++;
            if (count == 0) {
                throw new IllegalArgumentException(mode + " pooling: sequence b=" + b + " has no "
                        + (mode == Mode.MEAN_NON_PAD ? "attended" : "attended non-special") + " token to average");
            }
            for (int t = 0; t < T; t++) if (eligible(attentionMask, specialTokensMask, b * T + t)) w[b * T + t] = 1f / count;
        }
        return w;
    }

    private boolean eligible(int[] attentionMask, int[] special, int i) {
        return attentionMask[i] != 0 && (mode != Mode.MEAN_NON_SPECIAL || special[i] == 0);
    }
}

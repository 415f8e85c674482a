package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.ModelFamily;
import org.varitune.transformer.tensor.Parameter;

import java.util.List;
import java.util.Optional;

/**
 * {@code dropout(LN(word[id] + position[p] + tokenType[tt]))}, HF {@code BertEmbeddings} / {@code RobertaEmbeddings},
 * parameters under {@code embeddings.}; families without token types ({@link ModelFamily#tokenTypes()}) have no
 * {@code tokenType} table and ignore token type ids. The positions are the family's
 * ({@link ModelFamily#positionIds}: BERT {@code 0..T−1}, RoBERTa from {@code padding_idx + 1}).
 */
public final class Embeddings {
    private final Kernels kernels;
    private final EncoderConfig config;
    private final ModelFamily family;
    private final Parameter word, position, tokenType;
    private final LayerNorm norm;
    private final Dropout dropout;
    private final int c;

    /** Saved for backward: the ids and positions used, the LayerNorm's input and the dropout mask (or null). */
    public record Saved(int[] inputIds, int[] positionIds, int[] tokenTypeIds, LayerNorm.Saved norm, Dropout.Mask mask,
                        int n) {}

    public Embeddings(Kernels kernels, EncoderConfig config) {
        this.kernels = kernels;
        this.config = config;
        this.family = config.family();
        this.c = config.hiddenSize();
        this.word = Parameter.zeros("embeddings.word_embeddings.weight", config.vocabSize(), c);
        this.position = Parameter.zeros("embeddings.position_embeddings.weight", config.maxPositionEmbeddings(), c);
        this.tokenType = family.tokenTypes()
                ? Parameter.zeros("embeddings.token_type_embeddings.weight", config.typeVocabSize(), c) : null;
        this.norm = new LayerNorm(kernels, "embeddings.LayerNorm", c, config.layerNormEps());
        this.dropout = new Dropout(config.hiddenDropoutProb(), Dropout.site(Dropout.EMBEDDINGS_LAYER, Dropout.EMBEDDINGS));
    }

    public List<Parameter> parameters() {
        return tokenType == null ? List.of(word, position, norm.weight(), norm.bias())
                : List.of(word, position, tokenType, norm.weight(), norm.bias());
    }

    /** Position ids (B, T) for the given input ids, following the family's rule. */
    public int[] positionIds(int[] inputIds, int B, int T) { return family.positionIds(inputIds, B, T, config); }

    /**
     * inputIds, tokenTypeIds: (B, T); tokenTypeIds may be null (all 0) and are ignored by a family without token
     * types. Returns (B, T, C). Ids are checked against
     * the tables; an out-of-range id or position is an error naming the row and column.
     */
    public Fwd<Saved> forward(int[] inputIds, int[] tokenTypeIds, int B, int T, boolean keep) {
        return forward(inputIds, tokenTypeIds, B, T, keep, DropoutContext.OFF);
    }

    /** As {@link #forward(int[], int[], int, int, boolean)}, with HF's dropout after the LayerNorm per {@code drop}. */
    public Fwd<Saved> forward(int[] inputIds, int[] tokenTypeIds, int B, int T, boolean keep, DropoutContext drop) {
        int n = B * T;
        int[] pos = positionIds(inputIds, B, T);
        int[] types = tokenTypeIds != null && tokenType != null ? tokenTypeIds : new int[n];
        float[] sum = new float[n * c];                                    // sum: (N, C)
        float[] w = word.data(), p = position.data(), tt = tokenType == null ? null : tokenType.data();
        for (int i = 0; i < n; i++) {
            int id = inputIds[i], ps = pos[i], ty = types[i];
            check("input id", id, config.vocabSize(), i, T);
            check("position", ps, config.maxPositionEmbeddings(), i, T);
            int o = i * c, wo = id * c, po = ps * c, to = ty * c;
            if (tt == null) {
                for (int j = 0; j < c; j++) sum[o + j] = w[wo + j] + p[po + j];
                continue;
            }
            check("token type id", ty, config.typeVocabSize(), i, T);
            for (int j = 0; j < c; j++) sum[o + j] = w[wo + j] + p[po + j] + tt[to + j];
        }
        var y = norm.forward(sum, n, keep);
        Dropout.Mask mask = dropout.forwardInPlace(y.out(), n * c, drop);
        return new Fwd<>(y.out(), keep ? new Saved(inputIds, pos, types, y.saved(), mask, n) : null);
    }

    private static void check(String what, int v, int limit, int i, int T) {
        if (v < 0 || v >= limit) {
            throw new IllegalArgumentException(what + " " + v + " at (b=" + (i / T) + ", t=" + (i % T)
                    + ") is outside [0, " + limit + ")");
        }
    }

    /**
     * Differentiates {@code sum = word[id] + position[p] + tokenType[tt]}: scatter-adds dSum rows into the three
     * tables (repeated ids accumulate), for the trainable ones. The row of {@code pad_token_id} in the word table
     * receives no gradient, as with {@code nn.Embedding(padding_idx=pad)} in HF; likewise the family's position padding
     * row ({@link ModelFamily#positionPaddingRow}, RoBERTa's {@code padding_idx}).
     */
    public void backward(float[] dY, Saved s) {
        float[] dNorm = s.mask() == null ? dY : dY.clone();                // forward was: y = dropout(LN(sum))
        Dropout.applyInPlace(dNorm, s.mask());
        float[] dSum = norm.backward(dNorm, s.norm(), true);
        int pad = config.padTokenId();
        float[] dw = word.trainable() ? word.grad() : null;
        float[] dp = position.trainable() ? position.grad() : null;
        float[] dt = tokenType != null && tokenType.trainable() ? tokenType.grad() : null;
        Optional<Integer> padPosition = family.positionPaddingRow(config);
        for (int i = 0; i < s.n(); i++) {
            int o = i * c;
            int id = s.inputIds()[i], ps = s.positionIds()[i], ty = s.tokenTypeIds()[i];
            if (dw != null && id != pad) for (int j = 0; j < c; j++) dw[id * c + j] += dSum[o + j];
            if (dp != null && !padPosition.equals(Optional.of(ps))) for (int j = 0; j < c; j++) dp[ps * c + j] += dSum[o + j];
            if (dt != null) for (int j = 0; j < c; j++) dt[ty * c + j] += dSum[o + j];
        }
    }
}

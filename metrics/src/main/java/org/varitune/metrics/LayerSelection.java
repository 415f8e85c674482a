package org.varitune.metrics;

import org.varitune.transformer.model.EncoderConfig;

import java.util.Locale;

/**
 * Picks the head layer l* and the number k of layers to tune below it from the per-layer ratios, and estimates the
 * compute of the recommendation against full fine-tuning.
 *
 * <h2>Head layer</h2>
 * Candidates are layers {@code firstCandidate..L} of the {@code hidden_states} indexing (default 1: the embedding
 * output, index 0, is not a head layer). {@link Policy#ARGMIN}: {@code l* = argmin nu} (ties: the lower layer).
 * {@link Policy#LOWEST_WITHIN_FRACTION}: the lowest candidate with {@code nu(l) ≤ (1 + fraction) · min nu}, trading a
 * slightly less specialised layer for a shorter model.
 *
 * <h2>Layers to tune</h2>
 * The truncated model keeps layers 1..l* and tunes its top k (layers l*−k+1..l*) plus the head; the paper tunes the top
 * k ∈ {1, 2, 3, 4} layers of the truncated model. {@link KRule#FIXED}: {@code k = min(fixedK, l*)}, default 2.
 * {@link KRule#DROP_COVERAGE}: with the drops {@code Δ_j = max(0, nu(j−1) − nu(j))} for j = firstCandidate..l*, the
 * smallest {@code k ≤ maxK} whose top layers carry at least {@code coverage} of {@code Σ Δ_j} (the layers where the
 * representation specialises most are the ones worth adapting); maxK if none does, 1 if nu never drops.
 *
 * <h2>Compute estimates</h2>
 * Forward FLOPs of the truncated model ≈ {@code l* / L} of the full one (the embeddings and the head are negligible);
 * backward ≈ {@code k/L} (backward stops below the lowest tuned layer); a training step (forward + backward ≈ 2 ×
 * forward) costs ≈ {@code (l* + 2k) / (3L)} of a full fine-tuning step. Trainable parameters: k encoder layers plus the
 * classification head ({@code C² + C + C·labels + labels}, the same for BERT's pooler + classifier and RoBERTa's
 * dense + out_proj), against all encoder, embedding and head parameters.
 */
public final class LayerSelection {
    private LayerSelection() {}

    public enum Policy { ARGMIN, LOWEST_WITHIN_FRACTION }

    public enum KRule { FIXED, DROP_COVERAGE }

    public record Options(Policy policy, double fraction, int firstCandidate, KRule kRule, int fixedK, int maxK, double coverage) {
        public static Options defaults() { return new Options(Policy.ARGMIN, 0.0, 1, KRule.FIXED, 2, 4, 0.8); }

        public Options {
            if (!(fraction >= 0)) throw new IllegalArgumentException("fraction must be >= 0, got " + fraction);
            if (fixedK < 1 || maxK < 1) throw new IllegalArgumentException("fixedK and maxK must be >= 1");
            if (!(coverage > 0 && coverage <= 1)) throw new IllegalArgumentException("coverage must be in (0, 1], got " + coverage);
            if (firstCandidate < 0) throw new IllegalArgumentException("firstCandidate must be >= 0");
        }

        public Options withinFraction(double f) { return new Options(Policy.LOWEST_WITHIN_FRACTION, f, firstCandidate, kRule, fixedK, maxK, coverage); }

        public Options dropCoverage(double c, int max) { return new Options(policy, fraction, firstCandidate, KRule.DROP_COVERAGE, fixedK, max, c); }
    }

    /**
     * @param headLayer         l*, hidden_states index
     * @param tuneLayers        k
     * @param argminLayer       layer of smallest nu among the candidates
     * @param forwardFraction   l* / L
     * @param backwardFraction  k/L
     * @param trainStepFraction (l* + 2k)/(3L)
     * @param trainableParams   parameters tuned by the recommendation
     * @param fullParams        parameters tuned by full fine-tuning
     * @param yaml              experiment-config snippet that runs it
     */
    public record Recommendation(int headLayer, int tuneLayers, int numHiddenLayers, int argminLayer, double nuAtHead,
                                 double minNu, Options options, double forwardFraction, double backwardFraction,
                                 double trainStepFraction, long trainableParams, long fullParams, String yaml) {}

    /**
     * @param nu        (L + 1) ratios in hidden_states order; not modified
     * @param numLabels classes of the task head
     */
    public static Recommendation recommend(double[] nu, EncoderConfig cfg, int numLabels, Options o) {
        int L = cfg.numHiddenLayers();
        if (nu.length != L + 1) {
            throw new IllegalArgumentException("nu has " + nu.length + " entries, expected num_hidden_layers + 1 = " + (L + 1)
                    + " (index 0 = embeddings)");
        }
        if (o.firstCandidate() > L) throw new IllegalArgumentException("firstCandidate " + o.firstCandidate() + " > L = " + L);
        for (int l = 0; l < nu.length; l++) {
            if (!Double.isFinite(nu[l])) throw new IllegalArgumentException("nu of layer " + l + " is not finite: " + nu[l]);
        }
        int arg = Uncertainty.argmin(nu, o.firstCandidate());
        int head = arg;
        if (o.policy() == Policy.LOWEST_WITHIN_FRACTION) {
            for (int l = o.firstCandidate(); l <= arg; l++) {
                if (nu[l] <= (1 + o.fraction()) * nu[arg]) { head = l; break; }
            }
        }
        int k = chooseK(nu, head, o);
        int headCount = Math.max(head, 1);   // a head on the embeddings still runs no encoder layer
        long perLayer = layerParams(cfg);
        int C = cfg.hiddenSize();
        long headParams = (long) C * C + C + (long) C * numLabels + numLabels;
        long emb = (long) cfg.vocabSize() * C + (long) cfg.maxPositionEmbeddings() * C + (long) cfg.typeVocabSize() * C + 2L * C;
        long full = emb + L * perLayer + headParams;
        long trainable = k * perLayer + headParams;
        double fwd = head / (double) L, bwd = k / (double) L, step = (head + 2.0 * k) / (3.0 * L);
        String yaml = String.format(Locale.ROOT,
                "# variability-guided: nu(%d) = %.6g (argmin layer %d, policy %s), forward %.3f, backward %.3f of full%n"
                        + "mode: partial%nhead_layer: %d%ntune_layers: %d%n",
                head, nu[head], arg, o.policy(), fwd, bwd, head, k);
        return new Recommendation(head, k, L, arg, nu[head], nu[arg], o, fwd, bwd, step, trainable, full, yaml);
    }

    private static int chooseK(double[] nu, int head, Options o) {
        if (head == 0) return 0;
        if (o.kRule() == KRule.FIXED) return Math.min(o.fixedK(), head);
        int maxK = Math.min(o.maxK(), head);
        double total = 0;
        double[] drop = new double[head + 1];
        for (int j = Math.max(1, o.firstCandidate()); j <= head; j++) {
            drop[j] = Math.max(0, nu[j - 1] - nu[j]);
            total += drop[j];
        }
        if (total == 0) return 1;
        double covered = 0;
        for (int k = 1; k <= maxK; k++) {
            covered += drop[head - k + 1];
            if (covered >= o.coverage() * total) return k;
        }
        return maxK;
    }

    /** Parameters of one encoder layer: Q, K, V, attention output (C² + C each), two LayerNorms (2C each), FFN. */
    public static long layerParams(EncoderConfig cfg) {
        long C = cfg.hiddenSize(), I = cfg.intermediateSize();
        return 4 * (C * C + C) + 2 * (2 * C) + (C * I + I) + (I * C + C);
    }
}

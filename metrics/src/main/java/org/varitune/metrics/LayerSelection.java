package org.varitune.metrics;

import org.varitune.transformer.model.EncoderConfig;

import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * Picks the head layer l* and the number k of layers to tune below it from the per-layer ratios, and estimates the
 * compute of the recommendation against full fine-tuning.
 *
 * <h2>Head layer</h2>
 * Candidates are layers {@code firstCandidate..L} of the {@code hidden_states} indexing (default 1: the embedding
 * output, index 0, is not a head layer). {@link Policy#ARGMIN}: {@code l* = argmin nu} (ties: the lower layer).
 * {@link Policy#LOWEST_WITHIN_FRACTION}: the lowest candidate with {@code nu(l) ≤ (1 + fraction) · min nu}, trading a
 * slightly less specialised layer for a shorter model. A layer whose nu is undefined (Sb = 0, see {@link RatioMath}) is
 * never l*; if every candidate is undefined there is no recommendation (an error naming the layers and the reason).
 *
 * <h2>Layers to tune</h2>
 * The truncated model keeps layers 1..l* and tunes its top k (layers l*−k+1..l*) plus the head; the paper tunes the top
 * k ∈ {1, 2, 3, 4} layers of the truncated model. {@link KRule#FIXED}: {@code k = min(fixedK, l*)}, default 2.
 * {@link KRule#DROP_COVERAGE}: with the drops {@code Δ_j = max(0, nu(j−1) − nu(j))} for j = firstCandidate..l*, the
 * smallest {@code k ≤ maxK} whose top layers carry at least {@code coverage} of {@code Σ Δ_j} (the layers where the
 * representation specialises most are the ones worth adapting); maxK if none does, 1 if nu never drops. A drop
 * into or out of a layer with undefined nu is unknown and counts as 0.
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
     * @param layers    (L + 1) per-layer results in hidden_states order (undefined ratios allowed)
     * @param numLabels classes of the task head
     */
    public static Recommendation recommend(List<VariabilityResult> layers, EncoderConfig cfg, int numLabels, Options o) {
        OptionalDouble[] nu = new OptionalDouble[layers.size()];
        String[] why = new String[layers.size()];
        for (int l = 0; l < nu.length; l++) {
            if (layers.get(l).layer() != l) throw new IllegalArgumentException("result " + l + " is for layer " + layers.get(l).layer());
            nu[l] = layers.get(l).nu();
            why[l] = layers.get(l).undefinedReason();
        }
        return recommend(nu, why, cfg, numLabels, o);
    }

    /**
     * Every layer defined.
     *
     * @param nu        (L + 1) finite ratios in hidden_states order; not modified
     * @param numLabels classes of the task head
     */
    public static Recommendation recommend(double[] nu, EncoderConfig cfg, int numLabels, Options o) {
        OptionalDouble[] opt = new OptionalDouble[nu.length];
        for (int l = 0; l < nu.length; l++) {
            if (!Double.isFinite(nu[l])) throw new IllegalArgumentException("nu of layer " + l + " is not finite: " + nu[l]);
            opt[l] = OptionalDouble.of(nu[l]);
        }
        return recommend(opt, new String[nu.length], cfg, numLabels, o);
    }

    private static Recommendation recommend(OptionalDouble[] nu, String[] why, EncoderConfig cfg, int numLabels, Options o) {
        int L = cfg.numHiddenLayers();
        if (nu.length != L + 1) {
            throw new IllegalArgumentException("nu has " + nu.length + " entries, expected num_hidden_layers + 1 = " + (L + 1)
                    + " (index 0 = embeddings)");
        }
        if (o.firstCandidate() > L) throw new IllegalArgumentException("firstCandidate " + o.firstCandidate() + " > L = " + L);
        int arg = -1;
        for (int l = o.firstCandidate(); l <= L; l++) {
            if (nu[l].isPresent() && (arg < 0 || nu[l].getAsDouble() < nu[arg].getAsDouble())) arg = l;
        }
        if (arg < 0) {
            StringBuilder sb = new StringBuilder("no head layer: nu is undefined at every candidate layer "
                    + o.firstCandidate() + ".." + L);
            for (int l = o.firstCandidate(); l <= L; l++) sb.append("; layer ").append(l).append(": ").append(why[l]);
            throw new IllegalArgumentException(sb.toString());
        }
        int head = arg;
        if (o.policy() == Policy.LOWEST_WITHIN_FRACTION) {
            for (int l = o.firstCandidate(); l <= arg; l++) {
                if (nu[l].isPresent() && nu[l].getAsDouble() <= (1 + o.fraction()) * nu[arg].getAsDouble()) { head = l; break; }
            }
        }
        int k = chooseK(nu, head, o);
        long perLayer = layerParams(cfg);
        int C = cfg.hiddenSize();
        long headParams = (long) C * C + C + (long) C * numLabels + numLabels;
        long emb = (long) cfg.vocabSize() * C + (long) cfg.maxPositionEmbeddings() * C + (long) cfg.typeVocabSize() * C + 2L * C;
        long full = emb + L * perLayer + headParams;
        long trainable = k * perLayer + headParams;
        double fwd = head / (double) L, bwd = k / (double) L, step = (head + 2.0 * k) / (3.0 * L);
        double nuHead = nu[head].getAsDouble();
        String yaml = String.format(Locale.ROOT,
                "# variability-guided: nu(%d) = %.6g (argmin layer %d, policy %s), forward %.3f, backward %.3f of full%n"
                        + "mode: partial%nhead_layer: %d%ntune_layers: %d%n",
                head, nuHead, arg, o.policy(), fwd, bwd, head, k);
        return new Recommendation(head, k, L, arg, nuHead, nu[arg].getAsDouble(), o, fwd, bwd, step, trainable, full, yaml);
    }

    private static int chooseK(OptionalDouble[] nu, int head, Options o) {
        if (head == 0) return 0;
        if (o.kRule() == KRule.FIXED) return Math.min(o.fixedK(), head);
        int maxK = Math.min(o.maxK(), head);
        double total = 0;
        double[] drop = new double[head + 1];
        for (int j = Math.max(1, o.firstCandidate()); j <= head; j++) {
            if (nu[j - 1].isPresent() && nu[j].isPresent()) drop[j] = Math.max(0, nu[j - 1].getAsDouble() - nu[j].getAsDouble());
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

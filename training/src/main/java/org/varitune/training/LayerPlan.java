package org.varitune.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Which layers of an L-layer encoder a run drops, freezes, caches and tunes, built once at the boundary (the
 * {@code train} command, the sweep runner, {@code bench train}, the demo) by {@link #of} and read by everything after
 * it: freezing ({@link FreezePolicy#of(LayerPlan)}), the classifier, the trainer, the train step, the prefix cache, the
 * export and the run records. Layers are numbered like HF {@code hidden_states}: 0 = the embeddings (whose output is
 * hidden state 0), i = encoder layer i, 1..L (HF parameter names {@code encoder.layer.<i−1>.}).
 * <pre>
 *   0 .. first−1         frozen below the tuned block; run in evaluation mode before the step (cached or recomputed)
 *                        when split off (layers 1..{@link #prefixEnd()}), else inside the step in training mode
 *   first .. last        tuned: whole layers, or their adapters and LayerNorms ({@link TuningMode#ADAPTERS}); the
 *                        embeddings only under {@link TuningMode#FULL} (first = 0)
 *   last+1 .. l          frozen above the tuned block, under the head: run in training mode every step (dropout on,
 *                        like the head), the gradient flowing through them to the tuned block
 *   l                    the head layer: the head reads hidden state l
 *   l+1 .. L             dropped: neither loaded nor run
 * </pre>
 * The tuned block is M−k+1..M for the count k and its top M (default l); FULL tunes 0..l, PROBE nothing (k = 0: the
 * empty block first = l+1, last = l). Immutable.
 */
public final class LayerPlan {
    private final int numLayers;
    private final TuningMode mode;
    private final int headLayer, firstTuned, lastTuned, prefixEnd;
    private final PrefixCachePolicy prefixPolicy;

    private LayerPlan(int numLayers, TuningMode mode, int headLayer, int firstTuned, int lastTuned,
                      PrefixCachePolicy prefixPolicy) {
        this.numLayers = numLayers;
        this.mode = mode;
        this.headLayer = headLayer;
        this.firstTuned = firstTuned;
        this.lastTuned = lastTuned;
        this.prefixPolicy = prefixPolicy;
        this.prefixEnd = prefixPolicy == PrefixCachePolicy.AUTHORS_DROPOUT ? 0 : Math.max(firstTuned - 1, 0);
    }

    /**
     * The plan of a run. Errors name the option, as the CLI and the YAML spell it.
     *
     * @param numLayers     L, {@code num_hidden_layers} of the whole model (before dropping layers above the head)
     * @param headLayer     l in 1..L, or empty for the top layer L (TOP_K takes only L or empty)
     * @param k             tuned layers for the modes that {@link TuningMode#usesK}: 1..M; ignored by FULL and PROBE
     * @param tuneLastLayer M, the top of the tuned block, in k..l; empty for the head layer l. Below l only for
     *                      PARTIAL and ADAPTERS (the authors' {@code --last_finetune_layer} under {@code --head_layer})
     * @param prefixPolicy  how the frozen layers below the tuned block run ({@link PrefixCachePolicy})
     * @throws IllegalArgumentException naming {@code --head-layer}/{@code head_layer}, {@code --tune-layers}/{@code k},
     *                                  or {@code --tune-last-layer}/{@code tune_last_layer}
     */
    public static LayerPlan of(int numLayers, TuningMode mode, OptionalInt headLayer, int k, OptionalInt tuneLastLayer,
                               PrefixCachePolicy prefixPolicy) {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(prefixPolicy, "prefixPolicy");
        if (numLayers < 1) throw new IllegalArgumentException("the encoder has " + numLayers + " layers; need >= 1");
        int l = headLayer.orElse(numLayers);
        if (l < 1 || l > numLayers) {
            throw new IllegalArgumentException("head layer (--head-layer, head_layer) " + l + " outside 1.." + numLayers
                    + " (the model's layers; 'top' = " + numLayers + ")");
        }
        if (mode.block() == TuningMode.Block.TOP && l != numLayers) {
            throw new IllegalArgumentException("head layer (--head-layer, head_layer) " + l + ": top-k puts the head on"
                    + " the top layer " + numLayers + " (use partial for a head below it)");
        }
        int m = tuneLastLayer.orElse(l);
        if (m < 1 || m > l) {
            throw new IllegalArgumentException("tune last layer (--tune-last-layer, tune_last_layer) " + m + " outside 1.."
                    + l + (m > l ? ": above the head layer " + l : ""));
        }
        if (m != l && !mode.tunesBelowHead()) {
            throw new IllegalArgumentException("tune last layer (--tune-last-layer, tune_last_layer) " + m + ": " + mode
                    + " tunes a block ending at the head layer " + l + " (use one of " + TuningMode.tuningBelowHead() + ")");
        }
        if (mode.usesK() && (k < 1 || k > m)) {
            throw new IllegalArgumentException("tuned layers (--tune-layers, k) " + k + " outside 1.." + m + " for " + mode
                    + ": the tuned block ends at layer " + m + (m == l ? " (the head layer)" : " (tune_last_layer)"));
        }
        return switch (mode.block()) {
            case EMBEDDINGS_TO_HEAD -> new LayerPlan(numLayers, mode, l, 0, l, prefixPolicy);
            case NONE -> new LayerPlan(numLayers, mode, l, l + 1, l, prefixPolicy);
            case TOP, ANY -> new LayerPlan(numLayers, mode, l, m - k + 1, m, prefixPolicy);
        };
    }

    /**
     * A head layer as the CLI and the YAML spell it: {@code top} (empty: the top layer L) or a layer number n &gt;= 1
     * (checked against L by {@link #of}).
     *
     * @param option names the option or key in errors, e.g. {@code --head-layer}
     */
    public static OptionalInt parseHeadLayer(String option, String value) {
        if ("top".equals(value)) return OptionalInt.empty();
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " '" + value + "' must be top or a layer number 1..L");
        }
        if (n < 1) {
            throw new IllegalArgumentException(option + " " + n + ": layers are numbered 1..L (0 is the embeddings, which"
                    + " hold no head); the top layer is 'top'");
        }
        return OptionalInt.of(n);
    }

    /** L, the layers of the whole model. */
    public int numLayers() { return numLayers; }

    /** What trains inside the tuned block (whole layers, or adapters and LayerNorms), and how the block was chosen. */
    public TuningMode mode() { return mode; }

    /** l in 1..L: the head reads hidden state l; layers 1..l are loaded and run. */
    public int headLayer() { return headLayer; }

    /** The lowest tuned layer, 0..l+1 (0 = the embeddings train, FULL; l+1 = nothing tuned, PROBE). */
    public int firstTuned() { return firstTuned; }

    /** The highest tuned layer M, at most l (= l for an empty block). */
    public int lastTuned() { return lastTuned; }

    /** Whether layer {@code layer} (0 = embeddings, 1..L) is tuned. */
    public boolean tunes(int layer) { return layer >= firstTuned && layer <= lastTuned; }

    /** Tuned encoder layers (the embeddings not counted): k for TOP_K / PARTIAL / ADAPTERS, l for FULL, 0 for PROBE. */
    public int tunedLayerCount() { return Math.max(0, lastTuned - Math.max(firstTuned, 1) + 1); }

    /** The frozen layers that run, ascending: 0..first−1 and last+1..l (0 = the embeddings). */
    public List<Integer> frozenLayers() {
        List<Integer> f = new ArrayList<>();
        for (int i = 0; i <= headLayer; i++) if (!tunes(i)) f.add(i);
        return f;
    }

    /** Layers l+1..L, neither loaded nor run, ascending (empty when the head is on the top layer). */
    public List<Integer> droppedLayers() {
        List<Integer> d = new ArrayList<>();
        for (int i = headLayer + 1; i <= numLayers; i++) d.add(i);
        return d;
    }

    /** How the frozen layers below the tuned block run. */
    public PrefixCachePolicy prefixPolicy() { return prefixPolicy; }

    /**
     * s in 0..l: the frozen prefix split off the step, layers 1..s with the embeddings, run in evaluation mode; the
     * step's training-mode forward starts from hidden state s. s = first−1 when at least one encoder layer lies below
     * the tuned block (first ≥ 2) and the policy is not {@code authors-dropout}; otherwise 0, nothing split off, and
     * the step runs from the token ids with dropout everywhere (frozen embeddings included).
     */
    public int prefixEnd() { return prefixEnd; }

    /** Whether hidden state {@link #prefixEnd()} is computed once per example and reused ({@code cached}, s ≥ 1). */
    public boolean cachesPrefix() { return prefixPolicy == PrefixCachePolicy.CACHED && prefixEnd >= 1; }

    /**
     * Whether the frozen layers below the tuned block run in training mode (dropout on) inside every step:
     * {@code authors-dropout}, as the authors' code runs them. (Frozen layers above the block always do.)
     */
    public boolean frozenPrefixInTrainMode() { return prefixPolicy == PrefixCachePolicy.AUTHORS_DROPOUT; }

    /** Encoder layers a training step runs forward: l − s when the prefix is cached, l otherwise. */
    public int stepForwardLayers() { return cachesPrefix() ? headLayer - prefixEnd : headLayer; }

    /**
     * Compute of a training step relative to full fine-tuning of all L layers, counting a layer's forward as 1 unit
     * and its backward as 2: (forward layers + 2·tuned layers) / 3L ({@link #stepForwardLayers},
     * {@link #tunedLayerCount}).
     */
    public double relativeCompute() { return (stepForwardLayers() + 2.0 * tunedLayerCount()) / (3.0 * numLayers); }

    /** One line on how the frozen prefix runs, for logs and metrics.json. */
    public String describePrefix() {
        if (frozenPrefixInTrainMode()) return "authors' semantics: dropout on in the frozen layers, no prefix split";
        if (prefixEnd == 0) {
            return firstTuned == 0 ? "no frozen prefix (the embeddings train)"
                    : "no frozen prefix split off (only the embeddings lie below the tuned block; they run in the step)";
        }
        return (cachesPrefix() ? "prefix cache of hidden state " : "frozen prefix recomputed in eval mode up to hidden state ")
                + prefixEnd;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerPlan p && p.numLayers == numLayers && p.mode == mode && p.headLayer == headLayer
                && p.firstTuned == firstTuned && p.lastTuned == lastTuned && p.prefixPolicy == prefixPolicy;
    }

    @Override
    public int hashCode() { return Objects.hash(numLayers, mode, headLayer, firstTuned, lastTuned, prefixPolicy); }

    @Override
    public String toString() {
        return "LayerPlan[" + mode + ", L " + numLayers + ", head " + headLayer + ", tuned " + firstTuned + ".." + lastTuned
                + ", frozen " + frozenLayers() + ", dropped " + droppedLayers() + ", prefix " + prefixPolicy + " to "
                + prefixEnd + "]";
    }
}

package org.varitune.training;

import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.ModelFamilies;
import org.varitune.transformer.model.ModelFamily;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Decides which parameters train, by HF name, and applies it with {@link Parameter#setTrainable}. Two kinds:
 * <ul>
 *   <li>by mode ({@link #of}): a {@link TuningMode} with the head layer l, the count k and the last tuned layer M
 *       (default l): the tuned block is layers M−k+1..M. Layer i of the names ({@code encoder.layer.<i>.}, 0-based)
 *       is layer i+1. Head parameters (anything outside {@code embeddings.}, {@code encoder.}: {@code classifier.*},
 *       the head's {@code pooler.dense.*}) always train. Layers M+1..l (when M &lt; l) are frozen but run, and the
 *       gradient flows through them to the tuned block. Layers above l never train (they are not run).</li>
 *   <li>by name ({@link #matching}): a parameter trains iff its full name matches the regex.</li>
 * </ul>
 * Either can then freeze more with {@link #exceptMatching} (e.g. keep the embeddings frozen under FULL).
 */
public final class FreezePolicy {

    private final TuningMode mode;          // null for a name-based policy
    private final int headLayer, k;         // as given; resolved against L in apply
    private final int tuneLastLayer;        // M, the top of the tuned block; 0 = the head layer
    private final Pattern trainOnly;        // name-based: trains iff matches
    private final List<Pattern> frozen;     // extra freezing, on top of either kind

    private FreezePolicy(TuningMode mode, int headLayer, int k, int tuneLastLayer, Pattern trainOnly, List<Pattern> frozen) {
        this.mode = mode;
        this.headLayer = headLayer;
        this.k = k;
        this.tuneLastLayer = tuneLastLayer;
        this.trainOnly = trainOnly;
        this.frozen = List.copyOf(frozen);
    }

    /**
     * A mode-based policy.
     *
     * @param headLayer 1..L, or 0 for the default L (required to be L or 0 for TOP_K)
     * @param k         number of tuned layers for TOP_K / PARTIAL / ADAPTERS (1..l); ignored by FULL and PROBE
     */
    public static FreezePolicy of(TuningMode mode, int headLayer, int k) { return of(mode, headLayer, k, 0); }

    /**
     * A mode-based policy whose tuned block ends at layer {@code tuneLastLayer} = M (1-based), possibly below the
     * head: PARTIAL and ADAPTERS tune layers M−k+1..M, and layers M+1..l run frozen under the head.
     *
     * @param tuneLastLayer M in [k, l], or 0 for the head layer l (the only value FULL, TOP_K and PROBE accept besides l)
     */
    public static FreezePolicy of(TuningMode mode, int headLayer, int k, int tuneLastLayer) {
        if (headLayer < 0) throw new IllegalArgumentException("head layer " + headLayer + " must be >= 0 (0 = top)");
        boolean usesK = mode == TuningMode.TOP_K || mode == TuningMode.PARTIAL || mode == TuningMode.ADAPTERS;
        if (usesK && k < 1) throw new IllegalArgumentException(mode + " needs k >= 1 tuned layers, got " + k);
        if (tuneLastLayer < 0) throw new IllegalArgumentException("tune last layer " + tuneLastLayer + " must be >= 0 (0 = the head layer)");
        return new FreezePolicy(mode, headLayer, k, tuneLastLayer, null, List.of());
    }

    /** Full fine-tuning with the head on the top layer. */
    public static FreezePolicy full() { return of(TuningMode.FULL, 0, 0); }

    /** A name-based policy: a parameter trains iff its whole name matches {@code regex}. */
    public static FreezePolicy matching(String regex) {
        return new FreezePolicy(null, 0, 0, 0, Pattern.compile(regex), List.of());
    }

    /** This policy, additionally freezing every parameter whose whole name matches {@code regex}. */
    public FreezePolicy exceptMatching(String regex) {
        List<Pattern> f = new ArrayList<>(frozen);
        f.add(Pattern.compile(regex));
        return new FreezePolicy(mode, headLayer, k, tuneLastLayer, trainOnly, f);
    }

    public TuningMode mode() { return mode; }

    /** The head layer for an L-layer encoder: {@code headLayer}, or L when it was 0 or the mode is TOP_K. */
    public int headLayer(int numLayers) {
        int l = mode == TuningMode.TOP_K || headLayer == 0 ? numLayers : headLayer;
        if (mode == TuningMode.TOP_K && headLayer != 0 && headLayer != numLayers) {
            throw new IllegalArgumentException("TOP_K puts the head on the top layer " + numLayers + ", not " + headLayer);
        }
        if (l > numLayers) throw new IllegalArgumentException("head layer " + l + " but the encoder has " + numLayers);
        return l;
    }

    /**
     * The top of the tuned block for an L-layer encoder: M as given, or the head layer l when it was 0. Fails when M
     * lies above l, or below l for a mode whose block must end at the head (FULL, TOP_K, PROBE).
     */
    public int tuneLastLayer(int numLayers) {
        int l = headLayer(numLayers);
        if (tuneLastLayer == 0 || tuneLastLayer == l) return l;
        if (tuneLastLayer > l) throw new IllegalArgumentException("tune last layer " + tuneLastLayer + " is above the head layer " + l);
        if (mode != TuningMode.PARTIAL && mode != TuningMode.ADAPTERS) {
            throw new IllegalArgumentException(mode + " tunes a block ending at the head layer " + l + ", not at "
                    + tuneLastLayer + " (use partial or adapters)");
        }
        return tuneLastLayer;
    }

    /** The 1-based layers whose parameters (or adapters) this policy tunes: {@code [first, last]}, empty if first > last. */
    public int[] tunedLayers(int numLayers) {
        int l = headLayer(numLayers);
        if (mode == null) return new int[] {1, 0};
        int m = tuneLastLayer(numLayers);
        return switch (mode) {
            case FULL -> new int[] {1, l};
            case PROBE -> new int[] {1, 0};
            case TOP_K, PARTIAL, ADAPTERS -> {
                if (k > m) {
                    throw new IllegalArgumentException(mode + ": k = " + k + " layers but the tuned block ends at layer " + m
                            + (m == l ? " (the head layer)" : ""));
                }
                yield new int[] {m - k + 1, m};
            }
        };
    }

    /** Whether the parameter named {@code name} trains under this policy, for an L-layer encoder. */
    public boolean trains(String name, int numLayers) {
        for (Pattern p : frozen) if (p.matcher(name).matches()) return false;
        if (mode == null) return trainOnly.matcher(name).matches();
        if (name.startsWith("embeddings.")) return mode == TuningMode.FULL;
        for (ModelFamily family : ModelFamilies.all()) {                  // encoder.layer.<i>., transformer.layer.<i>.
            Optional<Integer> index = family.layerIndex(name);
            if (index.isEmpty()) continue;
            int layer = index.get() + 1;
            int[] tuned = tunedLayers(numLayers);
            if (layer < tuned[0] || layer > tuned[1]) return false;
            if (mode != TuningMode.ADAPTERS) return true;
            return name.contains(".adapter.") || family.layer(index.get()).isNorm(name);
        }
        if (name.startsWith("encoder.")) return false;
        return true;                                                       // the head
    }

    /**
     * Inserts adapters into the layers this ADAPTERS policy tunes ({@link org.varitune.transformer.layers.EncoderLayer#addAdapters}),
     * near-identity after both dropouts, from {@code rng}. Modifies the encoder; a no-op for other modes.
     */
    public void insertAdapters(Encoder encoder, int bottleneck, Adapter.Activation activation, Random rng) {
        insertAdapters(encoder, Adapter.Site.houlsby(bottleneck), Adapter.Site.houlsby(bottleneck), activation, rng);
    }

    /**
     * Inserts adapters at the given sites (null = none at that site; not both) into the layers this ADAPTERS policy
     * tunes, bottom layer first, initialised from {@code rng}. Modifies the encoder; a no-op for other modes.
     */
    public void insertAdapters(Encoder encoder, Adapter.Site attention, Adapter.Site output, Adapter.Activation activation,
                               Random rng) {
        if (mode != TuningMode.ADAPTERS) return;
        int[] tuned = tunedLayers(encoder.numLayers());
        for (int l = tuned[0]; l <= tuned[1]; l++) encoder.layers().get(l - 1).addAdapters(attention, output, activation, rng);
    }

    /**
     * Sets {@link Parameter#setTrainable} on every parameter of the model per {@link #trains}, and on the encoder's
     * own pooler (not part of the model) to false. Fails if the model's head is not on this policy's head layer, or
     * if ADAPTERS finds a tuned layer without adapters. Modifies the parameters' trainable flags.
     */
    public void apply(SequenceClassifier model) {
        Encoder enc = model.encoder();
        int L = enc.numLayers();
        if (mode != null && model.headLayer() != headLayer(L)) {
            throw new IllegalArgumentException(mode + " policy puts the head on layer " + headLayer(L)
                    + " but the model's head is on layer " + model.headLayer());
        }
        if (mode == TuningMode.ADAPTERS) {
            int[] tuned = tunedLayers(L);
            for (int l = tuned[0]; l <= tuned[1]; l++) {
                if (!enc.layers().get(l - 1).hasAdapters()) {
                    throw new IllegalStateException("ADAPTERS: layer " + l + " (encoder.layer." + (l - 1)
                            + ") has no adapters; call insertAdapters first");
                }
            }
        }
        for (Parameter p : enc.parameters()) p.setTrainable(false);       // layers above the head, pooler
        for (Parameter p : model.parameters()) p.setTrainable(trains(p.name(), L));
    }
}

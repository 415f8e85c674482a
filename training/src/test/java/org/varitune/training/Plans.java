package org.varitune.training;

import java.util.OptionalInt;

/** Layer plans for tests, every layer number explicit (prefix policy {@code cached}). */
public final class Plans {
    private Plans() {}

    /** Full fine-tuning of an L-layer encoder, the head on layer {@code head}. */
    public static LayerPlan full(int numLayers, int head) { return of(numLayers, TuningMode.FULL, head, 0, head); }

    /** Full fine-tuning with the head on the top layer. */
    public static LayerPlan full(int numLayers) { return full(numLayers, numLayers); }

    /** The block of k layers ending at the head layer. */
    public static LayerPlan of(int numLayers, TuningMode mode, int head, int k) { return of(numLayers, mode, head, k, head); }

    /** The block of k layers ending at layer {@code last} under a head on {@code head}. */
    public static LayerPlan of(int numLayers, TuningMode mode, int head, int k, int last) {
        return LayerPlan.of(numLayers, mode, OptionalInt.of(head), k, OptionalInt.of(last), PrefixCachePolicy.CACHED);
    }
}

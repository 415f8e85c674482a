package org.varitune.training;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layer plan of every mode, numbered like HF hidden_states, and its errors. */
class LayerPlanTest extends TestBase {
    private static final OptionalInt TOP = OptionalInt.empty(), AT_HEAD = OptionalInt.empty();

    private static LayerPlan plan(int L, TuningMode mode, OptionalInt head, int k, OptionalInt last, PrefixCachePolicy p) {
        return LayerPlan.of(L, mode, head, k, last, p);
    }

    private static LayerPlan cached(int L, TuningMode mode, int head, int k) {
        return plan(L, mode, OptionalInt.of(head), k, AT_HEAD, PrefixCachePolicy.CACHED);
    }

    /** first, last, tuned count, frozen, dropped, prefix end, cached. */
    private static void assertPlan(LayerPlan p, int first, int last, int count, List<Integer> frozen, List<Integer> dropped,
                                   int prefixEnd, boolean cached) {
        String s = p.toString();
        assertEquals(first, p.firstTuned(), s);
        assertEquals(last, p.lastTuned(), s);
        assertEquals(count, p.tunedLayerCount(), s);
        assertEquals(frozen, p.frozenLayers(), s);
        assertEquals(dropped, p.droppedLayers(), s);
        assertEquals(prefixEnd, p.prefixEnd(), s);
        assertEquals(cached, p.cachesPrefix(), s);
    }

    @Test
    void everyModeResolvesItsLayers() {
        LayerPlan full = plan(4, TuningMode.FULL, TOP, 7, AT_HEAD, PrefixCachePolicy.CACHED);
        assertEquals(4, full.headLayer(), "top = L; FULL ignores k");
        assertPlan(full, 0, 4, 4, List.of(), List.of(), 0, false);
        assertTrue(full.tunes(0), "the embeddings train under FULL");
        assertPlan(cached(4, TuningMode.FULL, 2, 0), 0, 2, 2, List.of(), List.of(3, 4), 0, false);
        assertPlan(plan(4, TuningMode.TOP_K, TOP, 2, AT_HEAD, PrefixCachePolicy.CACHED), 3, 4, 2, List.of(0, 1, 2),
                List.of(), 2, true);
        assertPlan(cached(4, TuningMode.PARTIAL, 3, 1), 3, 3, 1, List.of(0, 1, 2), List.of(4), 2, true);
        assertPlan(cached(4, TuningMode.ADAPTERS, 2, 2), 1, 2, 2, List.of(0), List.of(3, 4), 0, false);
        LayerPlan probe = cached(4, TuningMode.PROBE, 2, 5);
        assertPlan(probe, 3, 2, 0, List.of(0, 1, 2), List.of(3, 4), 2, true);
        for (int i = 0; i <= 4; i++) assertFalse(probe.tunes(i), "PROBE tunes no layer: " + i);
    }

    @Test
    void theAuthorsBlockEndsBelowTheHead() {
        // ef_finetune.sh: 24 layers, head on 0-based 23 (= 24 here), tuned 0-based 16..17 (= 17..18 here)
        LayerPlan p = plan(24, TuningMode.ADAPTERS, OptionalInt.of(24), 2, OptionalInt.of(18), PrefixCachePolicy.CACHED);
        List<Integer> frozen = new java.util.ArrayList<>();
        for (int i = 0; i <= 24; i++) if (i < 17 || i > 18) frozen.add(i);
        assertPlan(p, 17, 18, 2, frozen, List.of(), 16, true);
        assertEquals(24, p.headLayer());
        assertEquals((24 - 16 + 2.0 * 2) / (3.0 * 24), p.relativeCompute(), 1e-15, "layers 17..24 run, 17..18 backward");
    }

    @Test
    void authorsDropoutFreezesThePrefixButRecomputesItInTrainingMode() {
        LayerPlan authors = plan(3, TuningMode.PARTIAL, OptionalInt.of(3), 1, AT_HEAD, PrefixCachePolicy.AUTHORS_DROPOUT);
        assertPlan(authors, 3, 3, 1, List.of(0, 1, 2), List.of(), 0, false);
        assertTrue(authors.frozenPrefixInTrainMode());
        LayerPlan recompute = plan(3, TuningMode.PARTIAL, OptionalInt.of(3), 1, AT_HEAD, PrefixCachePolicy.RECOMPUTE);
        assertPlan(recompute, 3, 3, 1, List.of(0, 1, 2), List.of(), 2, false);
        assertFalse(recompute.frozenPrefixInTrainMode());
        assertEquals((3 + 2.0) / 9, recompute.relativeCompute(), 1e-15, "recomputed: all 3 layers run forward");
        assertEquals((1 + 2.0) / 9, cached(3, TuningMode.PARTIAL, 3, 1).relativeCompute(), 1e-15, "cached: layer 3 only");
        assertEquals(authors.frozenLayers(), recompute.frozenLayers(), "the same layers are frozen either way");
    }

    private static void assertNames(Executable e, String... parts) {
        var ex = assertThrows(IllegalArgumentException.class, e::run);
        for (String p : parts) assertTrue(ex.getMessage().contains(p), "'" + p + "' in: " + ex.getMessage());
    }

    private interface Executable { void run(); }

    @Test
    void rejectsLayersThatDoNotFitNamingTheOption() {
        PrefixCachePolicy c = PrefixCachePolicy.CACHED;
        assertNames(() -> cached(4, TuningMode.PARTIAL, 5, 1), "--head-layer", "head_layer", "5 outside 1..4");
        assertNames(() -> cached(4, TuningMode.TOP_K, 2, 1), "--head-layer", "top-k puts the head on the top layer 4");
        assertNames(() -> plan(4, TuningMode.PARTIAL, OptionalInt.of(2), 1, OptionalInt.of(3), c), "--tune-last-layer",
                "tune_last_layer", "above the head layer 2");
        assertNames(() -> plan(4, TuningMode.FULL, TOP, 0, OptionalInt.of(2), c), "--tune-last-layer", "use one of partial");
        assertNames(() -> cached(4, TuningMode.PARTIAL, 3, 0), "--tune-layers", "0 outside 1..3");
        assertNames(() -> plan(4, TuningMode.ADAPTERS, TOP, 3, OptionalInt.of(2), c), "--tune-layers", "ends at layer 2");
        assertNames(() -> LayerPlan.parseHeadLayer("--head-layer", "0"), "--head-layer 0", "'top'");
        assertNames(() -> LayerPlan.parseHeadLayer("--head-layer", "x"), "--head-layer 'x'");
        assertEquals(OptionalInt.empty(), LayerPlan.parseHeadLayer("--head-layer", "top"));
        assertEquals(OptionalInt.of(3), LayerPlan.parseHeadLayer("--head-layer", "3"));
    }
}

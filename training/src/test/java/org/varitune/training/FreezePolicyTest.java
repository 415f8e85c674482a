package org.varitune.training;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tuning modes and name-based freezing on a 3-layer encoder. */
class FreezePolicyTest extends TestBase {
    private static final int L = 3;

    /** The set of "<block>:<kind>" that train: e for embeddings, 1..3 for layers, h for the head. */
    private static Set<String> trained(FreezePolicy p) {
        Set<String> s = new TreeSet<>();
        for (String n : List.of("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.1.output.LayerNorm.bias", "encoder.layer.1.output.adapter.up.weight",
                "encoder.layer.2.intermediate.dense.weight", "encoder.layer.2.attention.output.adapter.down.bias",
                "classifier.weight", "pooler.dense.bias")) {
            if (p.trains(n, L)) s.add(n);
        }
        return s;
    }

    @Test
    void modesTrainTheDocumentedLayers() {
        assertEquals(Set.of("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.1.output.LayerNorm.bias", "encoder.layer.1.output.adapter.up.weight",
                "encoder.layer.2.intermediate.dense.weight", "encoder.layer.2.attention.output.adapter.down.bias",
                "classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.full()));
        assertEquals(Set.of("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
                "encoder.layer.1.output.LayerNorm.bias", "encoder.layer.1.output.adapter.up.weight",
                "classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.of(TuningMode.FULL, 2, 0)), "head on 2");
        assertEquals(Set.of("encoder.layer.2.intermediate.dense.weight", "encoder.layer.2.attention.output.adapter.down.bias",
                "classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.of(TuningMode.TOP_K, 0, 1)));
        assertEquals(Set.of("encoder.layer.0.attention.self.query.weight", "encoder.layer.1.output.LayerNorm.bias",
                "encoder.layer.1.output.adapter.up.weight", "classifier.weight", "pooler.dense.bias"),
                trained(FreezePolicy.of(TuningMode.PARTIAL, 2, 2)));
        assertEquals(Set.of("encoder.layer.1.output.LayerNorm.bias", "encoder.layer.1.output.adapter.up.weight",
                "classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.of(TuningMode.ADAPTERS, 2, 1)));
        assertEquals(Set.of("classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.of(TuningMode.PROBE, 1, 0)));
        assertArrayEquals(new int[] {2, 3}, FreezePolicy.of(TuningMode.TOP_K, 0, 2).tunedLayers(L));
    }

    @Test
    void nameBasedPoliciesMatchWholeNames() {
        FreezePolicy p = FreezePolicy.matching("classifier\\..*|encoder\\.layer\\.2\\..*");
        assertEquals(Set.of("classifier.weight", "encoder.layer.2.intermediate.dense.weight",
                "encoder.layer.2.attention.output.adapter.down.bias"), trained(p));
        assertFalse(FreezePolicy.full().exceptMatching("embeddings\\..*").trains("embeddings.word_embeddings.weight", L));
        assertTrue(FreezePolicy.full().exceptMatching("embeddings\\..*").trains("encoder.layer.0.output.dense.bias", L));
    }

    @Test
    void aTunedBlockMayEndBelowTheHead() {
        FreezePolicy p = FreezePolicy.of(TuningMode.PARTIAL, 3, 1, 1);              // layer 1 under a head on 3
        assertArrayEquals(new int[] {1, 1}, p.tunedLayers(L));
        assertEquals(3, p.headLayer(L));
        assertEquals(Set.of("encoder.layer.0.attention.self.query.weight", "classifier.weight", "pooler.dense.bias"),
                trained(p), "layers 2 and 3 are frozen");
        assertEquals(Set.of("encoder.layer.1.output.LayerNorm.bias", "encoder.layer.1.output.adapter.up.weight",
                "classifier.weight", "pooler.dense.bias"), trained(FreezePolicy.of(TuningMode.ADAPTERS, 3, 1, 2)));
        assertArrayEquals(new int[] {1, 2}, FreezePolicy.of(TuningMode.ADAPTERS, 0, 2, 2).tunedLayers(L), "head on top");
        assertArrayEquals(new int[] {2, 3}, FreezePolicy.of(TuningMode.PARTIAL, 3, 2, 3).tunedLayers(L), "M = l is the default");
        var ex = assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.PARTIAL, 2, 1, 3).tunedLayers(L));
        assertTrue(ex.getMessage().contains("above the head layer 2"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.PARTIAL, 3, 2, 1).tunedLayers(L));
        assertTrue(ex.getMessage().contains("k = 2") && ex.getMessage().contains("ends at layer 1"), ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.TOP_K, 0, 1, 2).tunedLayers(L));
        assertTrue(ex.getMessage().contains("use partial or adapters"), ex.getMessage());
    }

    @Test
    void adaptersGoOnlyToTheGivenSitesOfTheTunedBlock() {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), 3, Pooling.Mode.FIRST_TOKEN, false, rand);
        FreezePolicy p = FreezePolicy.of(TuningMode.ADAPTERS, 3, 1, 2);
        p.insertAdapters(m.encoder(), null, Adapter.Site.houlsby(4), Adapter.Activation.RELU, new Random(0));
        assertFalse(m.encoder().layers().get(0).hasAdapters());
        assertFalse(m.encoder().layers().get(2).hasAdapters(), "layer 3 is above the tuned block");
        assertNull(m.encoder().layers().get(1).attentionAdapter(), "no attention site asked");
        assertEquals(4, m.encoder().layers().get(1).outputAdapter().bottleneck());
        p.apply(m);
        assertEquals(1 + 1, m.encoder().lowestTrainable(), "layer 2 is the lowest trainable block");
    }

    @Test
    void rejectsInconsistentSettingsNamingThem() {
        assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.PARTIAL, 2, 0));
        var ex = assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.PARTIAL, 2, 3).tunedLayers(L));
        assertTrue(ex.getMessage().contains("k = 3"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.TOP_K, 2, 1).headLayer(L));
        assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(TuningMode.FULL, 4, 0).headLayer(L));
    }

    @Test
    void applySetsTrainableFlagsAndChecksAdaptersAndTheHeadLayer() {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), 2, Pooling.Mode.FIRST_TOKEN, false, rand);
        FreezePolicy adapters = FreezePolicy.of(TuningMode.ADAPTERS, 2, 1);
        var ex = assertThrows(IllegalStateException.class, () -> adapters.apply(m));
        assertTrue(ex.getMessage().contains("encoder.layer.1"), ex.getMessage());
        adapters.insertAdapters(m.encoder(), 4, Adapter.Activation.RELU, new Random(0));
        assertFalse(m.encoder().layers().get(0).hasAdapters());
        adapters.apply(m);
        for (Parameter p : m.parameters()) {
            boolean expect = p.name().startsWith("classifier.") || p.name().startsWith("pooler.")
                    || (p.name().startsWith("encoder.layer.1.") && (p.name().contains("adapter") || p.name().contains("LayerNorm")));
            assertEquals(expect, p.trainable(), p.name());
        }
        for (Parameter p : m.encoder().layers().get(2).parameters()) assertFalse(p.trainable(), p.name() + " above the head");
        assertThrows(IllegalArgumentException.class, () -> FreezePolicy.full().apply(m), "head on 2, policy on 3");
    }
}

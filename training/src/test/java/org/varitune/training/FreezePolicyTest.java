package org.varitune.training;

import org.varitune.training.method.AdapterTuning;
import org.varitune.transformer.layers.Pooling;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plan-based and name-based freezing on a 3-layer encoder with adapters in every layer up to the head. */
class FreezePolicyTest extends TestBase {
    private static final int L = 3;

    /**
     * What trains, by block, read off the parameter names independently of the policy: "e" = all of the embeddings,
     * "i" = all of layer i, "ia" = exactly the adapters and LayerNorms of layer i, "i?" = any other subset, "h" = all of
     * the head; plus "above" when a parameter of a layer above the head trains.
     */
    private static Set<String> trained(SequenceClassifier m) {
        Set<String> s = new TreeSet<>();
        List<Parameter> emb = m.encoder().embeddings().parameters();
        if (emb.stream().anyMatch(Parameter::trainable)) s.add(emb.stream().allMatch(Parameter::trainable) ? "e" : "e?");
        for (int i = 1; i <= L; i++) {
            String prefix = "encoder.layer." + (i - 1) + ".";
            List<Parameter> ps = m.encoder().parameters().stream().filter(p -> p.name().startsWith(prefix)).toList();
            if (ps.stream().noneMatch(Parameter::trainable)) continue;
            if (i > m.headLayer()) { s.add("above"); continue; }
            boolean all = ps.stream().allMatch(Parameter::trainable);
            boolean adaptersOnly = ps.stream().allMatch(p -> p.trainable()
                    == (p.name().contains(".adapter.") || p.name().contains("LayerNorm.")));
            s.add(i + (all ? "" : adaptersOnly ? "a" : "?"));
        }
        if (m.head().parameters().stream().allMatch(Parameter::trainable)) s.add("h");
        return s;
    }

    private Set<String> trained(LayerPlan plan) {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), plan.headLayer(), Pooling.FIRST_TOKEN,
                true, rand);
        FreezePolicy.of(plan).apply(m);
        return trained(m);
    }

    @Test
    void eachModeTrainsThePlansLayersAndTheHead() {
        assertEquals(Set.of("e", "1", "2", "3", "h"), trained(Plans.full(L)));
        assertEquals(Set.of("e", "1", "2", "h"), trained(Plans.full(L, 2)), "head on 2: layer 3 is dropped");
        assertEquals(Set.of("3", "h"), trained(Plans.of(L, TuningMode.TOP_K, 3, 1)));
        assertEquals(Set.of("2", "3", "h"), trained(Plans.of(L, TuningMode.TOP_K, 3, 2)));
        assertEquals(Set.of("1", "2", "h"), trained(Plans.of(L, TuningMode.PARTIAL, 2, 2)));
        assertEquals(Set.of("2a", "h"), trained(Plans.of(L, TuningMode.ADAPTERS, 2, 1)));
        assertEquals(Set.of("h"), trained(Plans.of(L, TuningMode.PROBE, 1, 0)));
    }

    @Test
    void aTunedBlockMayEndBelowTheHead() {
        assertEquals(Set.of("1", "h"), trained(Plans.of(L, TuningMode.PARTIAL, 3, 1, 1)), "layers 2 and 3 frozen");
        assertEquals(Set.of("2a", "h"), trained(Plans.of(L, TuningMode.ADAPTERS, 3, 1, 2)));
    }

    @Test
    void nameBasedPoliciesMatchWholeNames() {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), L, Pooling.FIRST_TOKEN, false, rand);
        FreezePolicy.matching("classifier\\..*|encoder\\.layer\\.2\\..*").apply(m);
        for (Parameter p : m.parameters()) {
            assertEquals(p.name().startsWith("classifier.") || p.name().startsWith("encoder.layer.2."), p.trainable(), p.name());
        }
        FreezePolicy.of(Plans.full(L)).exceptMatching("embeddings\\..*").apply(m);
        assertEquals(Set.of("1", "2", "3", "h"), trained(m));
    }

    @Test
    void adaptersGoOnlyToTheGivenSitesOfTheTunedBlock() {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), 3, Pooling.FIRST_TOKEN, false, rand);
        FreezePolicy p = FreezePolicy.of(Plans.of(L, TuningMode.ADAPTERS, 3, 1, 2),
                new AdapterTuning(null, Adapter.Site.houlsby(4), Adapter.Activation.RELU));
        p.insert(m.encoder(), new Random(0));
        assertFalse(m.encoder().layers().get(0).hasAdapters());
        assertFalse(m.encoder().layers().get(2).hasAdapters(), "layer 3 is above the tuned block");
        assertNull(m.encoder().layers().get(1).attentionAdapter(), "no attention site asked");
        assertEquals(4, m.encoder().layers().get(1).outputAdapter().bottleneck());
        p.apply(m);
        assertEquals(1 + 1, m.encoder().lowestTrainable(), "layer 2 is the lowest trainable block");
    }

    @Test
    void applyChecksAdaptersAndTheHeadLayer() {
        SequenceClassifier m = TinyClassifiers.model(false, new CpuKernels(), 2, Pooling.FIRST_TOKEN, false, rand);
        FreezePolicy adapters = FreezePolicy.of(Plans.of(L, TuningMode.ADAPTERS, 2, 1), new AdapterTuning(
                Adapter.Site.houlsby(4), Adapter.Site.houlsby(4), Adapter.Activation.RELU));
        var ex = assertThrows(IllegalStateException.class, () -> adapters.apply(m));
        assertTrue(ex.getMessage().contains("encoder.layer.1"), ex.getMessage());
        adapters.insert(m.encoder(), new Random(0));
        assertFalse(m.encoder().layers().get(0).hasAdapters());
        adapters.apply(m);
        assertEquals(Set.of("2a", "h"), trained(m));
        for (Parameter p : m.encoder().layers().get(2).parameters()) assertFalse(p.trainable(), p.name() + " above the head");
        var head = assertThrows(IllegalArgumentException.class, () -> FreezePolicy.of(Plans.full(L)).apply(m));
        assertTrue(head.getMessage().contains("head on layer 3") && head.getMessage().contains("on layer 2"), head.getMessage());
    }
}

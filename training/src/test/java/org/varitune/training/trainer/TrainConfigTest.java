package org.varitune.training.trainer;

import org.varitune.transformer.layers.Pooling;

import org.varitune.training.PrefixCachePolicy;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.layers.Adapter;
import org.varitune.training.TuningMode;
import org.varitune.training.method.AdapterTuning;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.io.Spelled;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {
    @Test
    void badValuesAreErrorsNamingTheField() {
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().batchSize(0).build());
        assertTrue(e.getMessage().contains("batchSize"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().warmupRatio(1.5).build());
        assertTrue(e.getMessage().contains("warmupRatio"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.builder().mode(TuningMode.PARTIAL).tuneLayers(0).build());
        assertTrue(e.getMessage().contains("tuneLayers"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().batchSize(4).gradAccumulation(5).build());
        assertTrue(e.getMessage().contains("gradAccumulation"), e.getMessage());
    }

    @Test
    void learningRateDefaultsByModeAndAnExplicitOneWins() {
        assertEquals(2e-5, TrainConfig.builder().build().lr());
        assertEquals(1e-3, TrainConfig.builder().mode(TuningMode.PROBE).build().lr());
        assertEquals(5e-4, TrainConfig.builder().mode(TuningMode.PROBE).lr(5e-4).build().lr());
    }

    @Test
    void differingKeysIgnoreOperationalFields() {
        TrainConfig a = TrainConfig.builder().build();
        TrainConfig b = a.toBuilder().evalBatchSize(7).checkpointEverySteps(3).epochs(4).build();
        assertEquals(List.of("epochs (10 vs 4)"), TrainConfig.differingKeys(a.toMap(), b.toMap()));
        assertEquals(a, a.toBuilder().build(), "toBuilder round trip");
    }

    @Test
    void theRecordSpellsEnumsAsTheCommandLineDoes() {
        TrainConfig c = TrainConfig.builder().mode(TuningMode.TOP_K).prefixPolicy(PrefixCachePolicy.AUTHORS_DROPOUT)
                .headPooling(org.varitune.transformer.layers.Pooling.FIRST_TOKEN).build();
        var m = c.toMap();
        assertEquals("top-k", m.get("mode"));
        assertEquals("authors-dropout", m.get("prefixPolicy"));
        assertEquals("first-token", m.get("headPooling"));
        assertEquals("attention(size=64,init=near-identity,position=after-dropout,dropout=0.0) output(size=64,"
                + "init=near-identity,position=after-dropout,dropout=0.0) activation=relu",
                c.toBuilder().mode(TuningMode.ADAPTERS).build().toMap().get("adapters"));
    }

    @Test
    void prefixPoliciesParseTheirSpellingsAndRejectTheOldOnesWithAHint() {
        assertEquals(PrefixCachePolicy.AUTHORS_DROPOUT, Spelled.parse(PrefixCachePolicy.class, "authors-dropout", "--prefix-policy"));
        assertEquals(PrefixCachePolicy.RECOMPUTE, Spelled.parse(PrefixCachePolicy.class, "recompute", "--prefix-policy"));
        assertEquals(PrefixCachePolicy.CACHED, TrainConfig.builder().build().prefixPolicy(), "the default");
        var e = assertThrows(IllegalArgumentException.class, () -> Spelled.parse(PrefixCachePolicy.class, "auto", "--prefix-policy"));
        assertEquals("--prefix-policy 'auto' is the old spelling; use 'cached'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Spelled.parse(PrefixCachePolicy.class, "off", "--prefix-policy"));
        assertEquals("--prefix-policy 'off' is the old spelling; use 'recompute'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Spelled.parse(PrefixCachePolicy.class, "on", "--prefix-policy"));
        assertEquals("--prefix-policy 'on' is not one of cached, recompute, authors-dropout", e.getMessage());
    }

    @Test
    void adapterSitesAndTheTunedBlockTopAreValidatedAndRecordedAsSpecs() {
        Adapter.Site att = new Adapter.Site(256, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.1);
        TrainConfig c = TrainConfig.builder().mode(TuningMode.ADAPTERS).headLayer(24).tuneLayers(2).tuneLastLayer(18)
                .methodOption("attention-adapter", "init=bert,size=256,dropout=0.1,position=before-dropout")
                .methodOption("output-adapter", "none").build();
        assertEquals(new AdapterTuning(att, null, Adapter.Activation.RELU), TuningMethods.of(c));
        assertEquals("attention(size=256,init=bert,position=before-dropout,dropout=0.1) output(none) activation=relu",
                c.toMap().get("adapters"));
        assertFalse(c.toMap().containsKey("attentionAdapter"), "the adapters' options are the method's, recorded under adapters");
        assertFalse(TrainConfig.builder().build().toMap().containsKey("adapters"), "adapters' options decide nothing outside adapters runs");
        assertFalse(c.toMap().containsKey("lora"), "LoRA's options decide nothing outside lora runs");
        TrainConfig lora = TrainConfig.builder().mode(TuningMode.LORA).headLayer(3).tuneLayers(2)
                .methodOption("lora-rank", "4").methodOption("lora-alpha", "16").build();
        assertEquals("r=4,alpha=16.0,dropout=0.0,targets=query+value,layers=tuned", lora.toMap().get("lora"));
        assertEquals(att, Adapter.Site.parse(att.spec()), "spec round trip");
        assertEquals(Adapter.Site.houlsby(64), Adapter.Site.parse("size=64"), "defaults of a spec");
        assertEquals(List.of(), TrainConfig.differingKeys(c.toMap(), new java.util.LinkedHashMap<>(c.toMap())));
        TrainConfig other = c.toBuilder().methodOption("adapter-activation", "gelu").build();
        assertEquals(List.of("adapters (" + c.toMap().get("adapters") + " vs " + other.toMap().get("adapters") + ")"),
                TrainConfig.differingKeys(c.toMap(), other.toMap()), "a changed adapter option is a changed run");
        // --adapter-size: the width of every site that sets none; a site's own size wins
        AdapterTuning sized = (AdapterTuning) TuningMethods.of(TrainConfig.builder().mode(TuningMode.ADAPTERS)
                .methodOption("adapter-size", "32").methodOption("attention-adapter", "size=8,init=bert").build());
        assertEquals(new Adapter.Site(8, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0), sized.attention());
        assertEquals(Adapter.Site.houlsby(32), sized.output());
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().mode(TuningMode.ADAPTERS)
                .methodOption("attention-adapter", "none").methodOption("output-adapter", "size=0").build());
        assertTrue(e.getMessage().contains("--attention-adapter (attention_adapter)")
                && e.getMessage().contains("--output-adapter (output_adapter)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().mode(TuningMode.ADAPTERS)
                .methodOption("attention-adapter", "size=4,width=3").build());
        assertTrue(e.getMessage().contains("--attention-adapter (attention_adapter) 'size=4,width=3': unknown key 'width'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().mode(TuningMode.LORA)
                .methodOption("adapter-size", "4").build());
        assertTrue(e.getMessage().contains("--adapter-size (adapter_size) is an option of adapters, not of lora"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.builder().tuneLastLayer(2).build());
        assertTrue(e.getMessage().contains("tuneLastLayer") && e.getMessage().contains("full"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainConfig.builder().mode(TuningMode.PARTIAL).tuneLayers(3).tuneLastLayer(2).build());
        assertTrue(e.getMessage().contains("tuneLastLayer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Adapter.Site.parse("size=4,place=ffn"));
        assertTrue(e.getMessage().contains("'place'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Adapter.Site.parse("size=4,init=xavier"));
        assertTrue(e.getMessage().contains("xavier") && e.getMessage().contains("near-identity"), e.getMessage());
    }

    @Test
    void anEpochPlanCoversEveryExampleOnceAndBucketsByLength() {
        int[] lengths = new int[203];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < lengths.length; i++) lengths[i] = 3 + r.nextInt(60);
        var plan = BatchPlan.trainEpoch(lengths, 8, 5, 42, 0);
        assertEquals(BatchPlan.batchesPerEpoch(203, 8), plan.size());
        Set<Integer> seen = new HashSet<>();
        long padded = 0, real = 0;
        for (int[] b : plan) {
            int max = 0;
            for (int i : b) { assertTrue(seen.add(i), "index " + i + " twice"); max = Math.max(max, lengths[i]); real += lengths[i]; }
            padded += (long) max * b.length;
        }
        assertEquals(203, seen.size());
        assertTrue(padded < 1.25 * real, "bucketing keeps padding small: " + padded + " padded vs " + real + " real tokens");
        assertEquals(plan.stream().map(java.util.Arrays::toString).toList(),
                BatchPlan.trainEpoch(lengths, 8, 5, 42, 0).stream().map(java.util.Arrays::toString).toList(),
                "a pure function of (seed, epoch)");
        assertTrue(!java.util.Arrays.equals(plan.get(0), BatchPlan.trainEpoch(lengths, 8, 5, 42, 1).get(0)),
                "another epoch, another order");
    }
}

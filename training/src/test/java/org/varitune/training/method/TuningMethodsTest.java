package org.varitune.training.method;

import org.junit.jupiter.api.Test;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The registry: every mode has a method, every option a flag, a YAML key and help; options are checked by their method. */
class TuningMethodsTest extends TestBase {

    private static IllegalArgumentException rejected(TrainConfig.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build);
    }

    @Test
    void everyRegisteredOptionHasAFlagAYamlKeyAndHelpNamingItsDefault() {
        Set<String> flags = new HashSet<>(), keys = new HashSet<>();
        int n = 0;
        for (TuningMode mode : TuningMode.values()) {
            for (MethodOption<?> o : TuningMethods.entry(mode).options()) {
                n++;
                String stem = mode.spelling().replaceFirst("s$", "");          // adapter-size, attention-adapter
                assertTrue(o.name().contains(stem), o.name() + " names its method " + mode);
                assertEquals("--" + o.name(), o.flag());
                assertEquals(o.name().replace('-', '_'), o.yamlKey());
                assertTrue(flags.add(o.flag()) && keys.add(o.yamlKey()), o.name() + " declared once");
                assertTrue(o.help().endsWith(".") && o.help().contains("default"), o.name() + ": help names the default: " + o.help());
                assertEquals(o, TuningMethods.optionByYamlKey(o.yamlKey()).orElseThrow());
                assertTrue(TuningMethods.isOptionOf(o.name(), mode));
            }
        }
        assertEquals(n, TuningMethods.allOptions().size(), "every option once");
        assertEquals(List.of("--adapter-size", "--attention-adapter", "--output-adapter", "--adapter-activation"),
                TuningMethods.entry(TuningMode.ADAPTERS).options().stream().map(MethodOption::flag).toList());
        assertEquals(List.of("--lora-rank", "--lora-alpha", "--lora-dropout", "--lora-targets", "--lora-layers"),
                TuningMethods.entry(TuningMode.LORA).options().stream().map(MethodOption::flag).toList());
        assertEquals(List.of("--bitfit-biases"),
                TuningMethods.entry(TuningMode.BITFIT).options().stream().map(MethodOption::flag).toList());
        for (TuningMode m : List.of(TuningMode.FULL, TuningMode.TOP_K, TuningMode.PARTIAL, TuningMode.PROBE)) {
            assertEquals(List.of(), TuningMethods.entry(m).options(), m + " has no options");
        }
    }

    @Test
    void theDefaultLearningRatesAreRegisteredWithTheMethodsUnchanged() {
        Map<TuningMode, Double> expected = Map.of(TuningMode.FULL, 2e-5, TuningMode.TOP_K, 2e-5, TuningMode.PARTIAL, 2e-5,
                TuningMode.ADAPTERS, 1e-4, TuningMode.PROBE, 1e-3, TuningMode.LORA, 5e-4,
                TuningMode.BITFIT, 1e-3);
        for (TuningMode m : TuningMode.values()) {
            assertEquals(expected.get(m), TuningMethods.defaultLr(m), m.spelling());
            assertEquals(expected.get(m), TrainConfig.builder().mode(m).build().lr(), m.spelling());
        }
    }

    @Test
    void rejectsAnUnknownOptionAndAnOptionOfAnotherModeNamingThem() {
        var e = rejected(TrainConfig.builder().mode(TuningMode.PARTIAL).methodOption("lora-rank", "4"));
        assertTrue(e.getMessage().contains("--lora-rank (lora_rank) is an option of lora, not of partial"), e.getMessage());
        e = rejected(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-rnk", "4"));
        assertTrue(e.getMessage().contains("unknown tuning-method option 'lora-rnk'")
                && e.getMessage().contains("lora-rank, lora-alpha"), e.getMessage());
    }

    @Test
    void rejectsAValueLoraRejectsNamingTheFlagTheKeyAndTheValue() {
        Map<String, String> bad = Map.of("lora-rank", "0", "lora-alpha", "NaN", "lora-dropout", "1",
                "lora-targets", "query,query", "lora-layers", "every");
        for (var kv : bad.entrySet()) {
            var e = rejected(TrainConfig.builder().mode(TuningMode.LORA).methodOption(kv.getKey(), kv.getValue()));
            String name = kv.getKey();
            assertTrue(e.getMessage().contains("--" + name + " (" + name.replace('-', '_') + ") '" + kv.getValue() + "'"),
                    e.getMessage());
        }
        for (String alpha : List.of("0x1p3", "16f", "-1", "", "1e999")) {
            rejected(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-alpha", alpha));
        }
        rejected(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-rank", "2.5"));
        rejected(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-targets", "query,,value"));
    }

    @Test
    void loraParsesItsOwnOptionsWithPeftsDefaults() {
        assertEquals(LoraTuning.Config.DEFAULTS, LoraTuning.Config.of(Map.of()));
        assertEquals(new LoraTuning.Config(8, 8, 0, List.of(LinearRole.QUERY, LinearRole.VALUE), LoraTuning.Layers.TUNED),
                LoraTuning.Config.DEFAULTS, "PEFT's LoraConfig: r 8, alpha 8, dropout 0, query and value");
        var c = LoraTuning.Config.of(Map.of("lora-rank", "4", "lora-alpha", "16", "lora-dropout", "0.1",
                "lora-targets", "query, intermediate", "lora-layers", "all"));
        assertEquals(new LoraTuning.Config(4, 16, 0.1, List.of(LinearRole.QUERY, LinearRole.INTERMEDIATE),
                LoraTuning.Layers.ALL), c);
        assertEquals(c, LoraTuning.Config.of(c.options()), "options() round trip");
        TuningMethod m = TuningMethods.of(TrainConfig.builder().mode(TuningMode.LORA).methodOptions(c.options()).build());
        assertEquals(c, ((LoraTuning) m).config());
        assertTrue(m.tunesEveryLayerToTheHead());
    }

    @Test
    void methodOptionsAreSortedImmutableAndEqualWhateverTheOrderGiven() {
        TrainConfig a = TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-targets", "query")
                .methodOption("lora-alpha", "4").build();
        TrainConfig b = TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-alpha", "4")
                .methodOption("lora-targets", "query").build();
        assertEquals(a, b);
        assertEquals(List.of("lora-alpha", "lora-targets"), new ArrayList<>(a.methodOptions().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> a.methodOptions().put("lora-rank", "2"));
        assertEquals(a, a.toBuilder().build(), "toBuilder keeps them");
        assertEquals(Map.of(), a.toBuilder().methodOption("lora-alpha", null).methodOption("lora-targets", null).build()
                .methodOptions(), "a null value removes one");
    }

    @Test
    void theRunRecordKeepsLorasKeyAndGainsNoneForRunsWithoutOptions() {
        Map<String, Object> full = TrainConfig.builder().build().toMap();
        assertFalse(full.containsKey("methodOptions") || full.containsKey("lora") || full.containsKey("full"), full.toString());
        Map<String, Object> lora = TrainConfig.builder().mode(TuningMode.LORA).build().toMap();
        assertEquals("r=8,alpha=8.0,dropout=0.0,targets=query+value,layers=tuned", lora.get("lora"), "defaults recorded");
        List<String> keys = new ArrayList<>(lora.keySet());
        assertEquals(keys.indexOf("dataSeed") + 1, keys.indexOf("lora"), "at the place of methodOptions");
        assertEquals(keys.indexOf("lora") + 1, keys.indexOf("headPooling"));
        Set<String> fullKeys = new HashSet<>(full.keySet());
        fullKeys.add("lora");
        assertEquals(fullKeys, lora.keySet());
        TrainConfig r4 = TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-rank", "4").build();
        assertEquals(List.of("lora (r=4,alpha=8.0,dropout=0.0,targets=query+value,layers=tuned vs "
                + "r=8,alpha=8.0,dropout=0.0,targets=query+value,layers=tuned)"), TrainConfig.differingKeys(r4.toMap(), lora));
    }

    @Test
    void loraInEveryLayerRejectsATunedBlockEndingBelowTheHead() {
        var e = rejected(TrainConfig.builder().mode(TuningMode.LORA).headLayer(3).tuneLayers(1).tuneLastLayer(2)
                .methodOption("lora-layers", "all"));
        assertTrue(e.getMessage().contains("tuneLastLayer = 2") && e.getMessage().contains("layers=all"), e.getMessage());
        var plan = TrainConfig.builder().mode(TuningMode.LORA).headLayer(3).tuneLayers(1).tuneLastLayer(2).build().layerPlan(3);
        assertEquals(List.of(2, 2), List.of(plan.firstTuned(), plan.lastTuned()), "tuned: the block 2..2");
    }
}

package org.varitune.experiments.sweep;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.TuningMode;
import org.varitune.transformer.io.Spelled;
import org.varitune.training.method.TuningMethods;
import org.varitune.training.method.AdapterTuning;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.layers.Adapter;

import org.varitune.transformer.layers.Pooling;
import org.varitune.training.TuningMode;
import org.varitune.transformer.io.Spelled;
import org.varitune.training.method.TuningMethods;
import org.varitune.training.method.AdapterTuning;
import org.varitune.training.trainer.TrainConfig;
import org.varitune.transformer.layers.Adapter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentConfigTest {
    @TempDir Path tmp;

    static Path configs() {
        Path p = Path.of("configs");                      // surefire runs in the module directory
        return Files.isDirectory(p) ? p : Path.of("experiments/configs");
    }

    private Path write(String yaml) throws IOException {
        return Files.writeString(tmp.resolve("c.yaml"), yaml);
    }

    @Test
    void everyShippedConfigParsesAndExpands() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(configs())) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 5, "paper configs and demo: " + files);
        for (Path f : files) {
            ExperimentConfig c = ExperimentConfig.read(f, Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
            // the authors' configs mirror one script run each (one task, one method, one seed)
            boolean authors = f.getParent().getFileName().toString().equals("authors");
            assertTrue(RunSpec.expand(c).size() >= (authors ? 1 : 3), f.toString());
            // every run's hyperparameters make a valid TrainConfig (sites, pooling and prefix policy resolve)
            for (String task : c.tasks()) for (ExperimentConfig.Method m : c.methods()) c.trainFor(task, m.name())
                    .applyTo(TrainConfig.builder().mode(Spelled.parse(TuningMode.class, m.mode(), "mode"))).build();
        }
        ExperimentConfig paper = ExperimentConfig.read(configs().resolve("paper/roberta-base-finetune.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        // 8 tasks x (full + 4 top-k + 4 guided) x 3 seeds
        assertEquals(8 * 9 * 3, RunSpec.expand(paper).size());
        assertEquals(3, paper.trainFor("mnli", "full").epochs());
        assertEquals(10, paper.trainFor("rte", "guided").epochs());
        assertEquals(128, paper.trainFor("rte", "guided").maxLength());
        ExperimentConfig adapters = ExperimentConfig.read(configs().resolve("paper/roberta-base-adapters.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        assertEquals(1e-4, adapters.trainFor("rte", "guided-adapters").lr());
        assertEquals(2e-5, adapters.trainFor("rte", "full").lr());
    }

    @Test
    void theAuthorsConfigsCarryTheirScriptsValues() throws IOException {
        Map<String, String> vars = Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g");
        ExperimentConfig ft = ExperimentConfig.read(configs().resolve("authors/roberta-large-finetune.yaml"), vars);
        TrainConfig f = ft.trainFor("sst2", "full").applyTo(TrainConfig.builder().mode(TuningMode.FULL)).build();
        assertEquals(List.of(20L), ft.seeds());
        assertEquals(List.of(20, 3e-4, 8, 128, 0.06, 0.0, 0.0), List.of(f.epochs(), f.lr(), f.batchSize(), f.maxLength(),
                f.warmupRatio(), f.weightDecay(), f.maxGradNorm()));
        assertEquals(Pooling.FIRST_TOKEN, f.headPooling());
        assertEquals(PrefixCachePolicy.AUTHORS_DROPOUT, f.prefixPolicy());

        ExperimentConfig ef = ExperimentConfig.read(configs().resolve("authors/roberta-large-ef-adapters.yaml"), vars);
        ExperimentConfig.Train t = ef.trainFor("sst2", "ef-adapters");
        assertEquals(18, t.tuneLastLayer(), "their 0-based last_finetune_layer=17");
        assertEquals(List.of(2), ef.methods().get(0).k());
        assertEquals("top", ef.methods().get(0).headLayer(), "their head_layer=23 of 24 layers");
        TrainConfig a = t.applyTo(TrainConfig.builder().mode(TuningMode.ADAPTERS)).build();
        AdapterTuning at = (AdapterTuning) TuningMethods.of(a);
        assertEquals(new Adapter.Site(256, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.1), at.attention());
        assertEquals(new Adapter.Site(256, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0.1), at.output());
        assertEquals(PrefixCachePolicy.AUTHORS_DROPOUT, a.prefixPolicy());
    }

    @Test
    void adapterSitesMergeFieldByFieldAndSizeZeroMeansNone() throws IOException {
        Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - name: a\n    mode: adapters\n    k: [1]\n"
                + "    train: {attention_adapter: {dropout: 0.2}, output_adapter: {size: 0}}\n"
                + "train:\n  adapter_size: 16\n  attention_adapter: {init: bert, position: before-dropout}\n");
        ExperimentConfig c = ExperimentConfig.read(f, Map.of());
        TrainConfig t = c.trainFor("rte", "a").applyTo(TrainConfig.builder().mode(TuningMode.ADAPTERS)).build();
        AdapterTuning a = (AdapterTuning) TuningMethods.of(t);
        assertEquals(new Adapter.Site(16, Adapter.Init.BERT, Adapter.Position.BEFORE_DROPOUT, 0.2), a.attention());
        assertEquals(null, a.output(), "size 0 = no adapter after the FFN");
    }

    @Test
    void rejectsAnUnknownHeadPoolingPrefixPolicyOrAdapterPositionNamingTheFile() throws IOException {
        Map<String, String> expected = Map.of(
                "head_pooling: cls", "'cls' is the old spelling; use 'first-token'",
                "head_pooling: average", "'average' is not one of mean, mean-with-special, first-token",
                "prefix_policy: auto", "'auto' is the old spelling; use 'cached'",
                "attention_adapter: {position: middle}", "'middle' is not one of after-dropout, before-dropout");
        for (var bad : expected.entrySet()) {
            Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\ntrain:\n  " + bad.getKey() + "\n");
            IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()), bad.getKey());
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(bad.getValue())
                    && e.getMessage().contains("line 7"), e.getMessage());
        }
    }

    @Test
    void rejectsAnUnknownKeyNamingItAndTheLine() throws IOException {
        Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\ntrain:\n  epochz: 3\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("unknown key 'epochz'") && e.getMessage().contains("line 7"), e.getMessage());
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void rejectsAWrongTypeNamingTheKey() throws IOException {
        Path f = write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\ntrain:\n  epochs: three\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("train.epochs"), e.getMessage());
    }

    @Test
    void rejectsMissingRequiredKeysAndBadMethods() throws IOException {
        IOException e = assertThrows(IOException.class,
                () -> ExperimentConfig.read(write("name: x\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n"), Map.of()));
        assertTrue(e.getMessage().contains("model"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: partial}\n"), Map.of()));
        assertTrue(e.getMessage().contains("method 'g' (partial) needs k"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: sideways}\n"), Map.of()));
        assertTrue(e.getMessage().contains("mode 'sideways'"), e.getMessage());
    }

    @Test
    void nuMaxLengthDefaultsToTheSharedTrainMaxLengthNotAMethods() throws IOException {
        String base = "name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: partial, head_layer: auto, k: [1],"
                + " train: {max_length: 32}}\ntrain: {max_length: 96}\n";
        assertEquals(96, ExperimentConfig.read(write(base), Map.of()).variability().maxLength());
        ExperimentConfig c = ExperimentConfig.read(write(base + "variability: {max_length: 64}\n"), Map.of());
        assertEquals(64, c.variability().maxLength());
        assertEquals(org.varitune.transformer.layers.Pooling.MEAN_NON_SPECIAL, c.variability().pooling());
        assertEquals(128, ExperimentConfig.read(write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: f, mode: full}\n"),
                Map.of()).variability().maxLength(), "the default train.max_length");
    }

    @Test
    void unsetPlaceholderIsAnError() throws IOException {
        Path f = write("name: x\nmodel: ${NO_SUCH_VARITUNE_VAR}\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().contains("${NO_SUCH_VARITUNE_VAR}"), e.getMessage());
    }

    @Test
    void shardsCoverEveryRunExactlyOnce() throws IOException {
        ExperimentConfig c = ExperimentConfig.read(configs().resolve("paper/roberta-base-finetune.yaml"),
                Map.of("MODEL_DIR", "/m", "GLUE_DIR", "/g"));
        List<RunSpec> all = RunSpec.expand(c);
        for (int n : new int[] {1, 3, 7, 1000}) {
            Set<String> seen = new HashSet<>();
            int total = 0;
            for (int i = 0; i < n; i++) {
                for (RunSpec r : RunSpec.shard(all, i, n)) {
                    assertTrue(seen.add(r.id()), "run " + r.id() + " in two shards of " + n);
                    total++;
                }
            }
            assertEquals(all.size(), total, "n = " + n);
        }
        assertEquals(RunSpec.shard(all, 2, 7), RunSpec.shard(RunSpec.expand(c), 2, 7), "deterministic");
        assertThrows(IllegalArgumentException.class, () -> RunSpec.parseShard("3"));
        assertThrows(IllegalArgumentException.class, () -> RunSpec.shard(all, 3, 3));
    }

    private static final String HEAD = "name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n";

    @Test
    void rejectsAnOldPoolingSpellingWhenReadNamingTheKeyTheLineAndTheNewSpelling() throws IOException {
        Path f = write(HEAD + "variability:\n  variant: paper\n  pooling: MEAN_NON_SPECIAL\n");
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(f, Map.of()));
        assertTrue(e.getMessage().startsWith(f + ": pooling 'MEAN_NON_SPECIAL' is the old spelling; use 'mean'"), e.getMessage());
        assertTrue(e.getMessage().contains("variability.pooling") && e.getMessage().contains("line 8"), e.getMessage());
    }

    @Test
    void rejectsABadValueOfEveryEnumKeyWhenRead() throws IOException {
        String[][] cases = {
                {"variability:\n  variant: PAPYAN_SAMPLE_WEIGHTED\n", "variant 'PAPYAN_SAMPLE_WEIGHTED' is the old spelling; use 'papyan'"},
                {"train:\n  head_pooling: cls\n", "head_pooling 'cls' is the old spelling; use 'first-token'"},
                {"train:\n  prefix_policy: auto\n", "prefix_policy 'auto' is the old spelling; use 'cached'"},
                {"train:\n  adapter_activation: tanh\n", "adapter_activation 'tanh' is not one of relu, gelu"},
                {"train:\n  head_pooling: [mean]\n", "expected one of mean, mean-with-special, first-token, got START_ARRAY (at train.head_pooling"},
        };
        for (String[] c : cases) {
            IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(write(HEAD + c[0]), Map.of()), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("line 7"), e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: g, mode: TOP_K, k: [1]}\n"), Map.of()));
        assertTrue(e.getMessage().contains("method 'g': mode 'TOP_K' is spelled 'top-k'"), e.getMessage());
    }

    @Test
    void theHeadsPoolingUnderTheMetricsKeyIsAnErrorPointingToHeadPooling() throws IOException {
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(write(HEAD + "train:\n  pooling: mean\n"), Map.of()));
        assertTrue(e.getMessage().contains("unknown key 'pooling' at line 7")
                && e.getMessage().contains("the head's pooling is train.head_pooling"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(write(HEAD + "train:\n  cache: auto\n"), Map.of()));
        assertTrue(e.getMessage().contains("train.prefix_policy"), e.getMessage());
        e = assertThrows(IOException.class, () -> ExperimentConfig.read(write(HEAD + "variability:\n  head_pooling: mean\n"), Map.of()));
        assertTrue(e.getMessage().contains("nu's pooling is variability.pooling"), e.getMessage());
    }

    @Test
    void everyTrainKeyReachesTheTrainConfigAndUnsetKeysAreItsDefaults() throws IOException {
        ExperimentConfig c = ExperimentConfig.read(write(HEAD + "train:\n  head_pooling: first-token\n"
                + "  prefix_policy: authors-dropout\n  warmup_steps: 7\n  grad_accumulation: 4\n"
                + "  adapter_activation: gelu\n  batch_size: 16\n"), Map.of());
        TrainConfig t = c.trainFor("rte", "full").applyTo(TrainConfig.builder()).build();
        TrainConfig expected = TrainConfig.builder().headPooling(org.varitune.transformer.layers.Pooling.FIRST_TOKEN)
                .prefixPolicy(PrefixCachePolicy.AUTHORS_DROPOUT).warmupSteps(7).gradAccumulation(4)
                .batchSize(16).build();
        assertEquals(expected, t, "adapter_activation reaches only adapters runs");
        TrainConfig ta = c.train().applyTo(TrainConfig.builder().mode(TuningMode.ADAPTERS)).build();
        assertEquals(TrainConfig.builder().mode(TuningMode.ADAPTERS).headPooling(org.varitune.transformer.layers.Pooling.FIRST_TOKEN)
                .prefixPolicy(PrefixCachePolicy.AUTHORS_DROPOUT).warmupSteps(7).gradAccumulation(4).batchSize(16)
                .methodOption("adapter-activation", "gelu").build(), ta);
    }

    @Test
    void theYamlDefaultsAreTheTrainCommandsDefaultsWithTheLearningRatePerMode() throws IOException {
        ExperimentConfig c = ExperimentConfig.read(write(HEAD), Map.of());
        for (TuningMode m : TuningMode.values()) {
            TrainConfig yaml = c.trainFor("rte", "full").applyTo(TrainConfig.builder().mode(m)).build();
            assertEquals(TrainConfig.builder().mode(m).build(), yaml, m.spelling());
            assertEquals(TrainConfig.defaultLr(m), yaml.lr(), m.spelling());
        }
        assertEquals(10, c.train().epochs());
        assertEquals(0.1, c.train().weightDecay());
        assertEquals(org.varitune.transformer.layers.Pooling.MEAN_NON_SPECIAL, c.variability().pooling());
        assertEquals(org.varitune.metrics.Variant.PAPER_CLASS_BALANCED, c.variability().variant());
    }

    @Test
    void aCombinationTrainRejectsIsAnErrorWhenReadNamingTaskMethodAndField() throws IOException {
        IOException e = assertThrows(IOException.class, () -> ExperimentConfig.read(
                write(HEAD + "train:\n  batch_size: 4\n  grad_accumulation: 8\n"), Map.of()));
        assertTrue(e.getMessage().contains("task 'rte', method 'full': train config: gradAccumulation = 8"), e.getMessage());
    }

    @Test
    void methodOptionsMergeKeyByKeyAndReachOnlyTheRunsOfTheirMethod() throws IOException {
        ExperimentConfig c = ExperimentConfig.read(write("name: x\nmodel: m\ntasks: [rte, sst2]\nmethods:\n"
                + "  - {name: full, mode: full}\n"
                + "  - {name: l, mode: lora, k: [1], train: {lora_alpha: 4}}\n"
                + "  - {name: l2, mode: lora, k: [1], train: {lora_targets: 'query, intermediate', lora_layers: all}}\n"
                + "train:\n  lora_rank: 16\n  lora_targets: [query, key]\n"
                + "task_overrides:\n  rte: {lora_rank: 2}\n"), Map.of());
        assertEquals(Map.of("lora_alpha", "4", "lora_rank", "2", "lora_targets", "query,key"), c.trainFor("rte", "l").methodOptions());
        assertEquals(Map.of("lora_alpha", "4", "lora_rank", "16", "lora_targets", "query,key"), c.trainFor("sst2", "l").methodOptions());
        assertEquals(Map.of(), c.trainFor("rte", "full").methodOptions(), "LoRA's options do not reach full runs");
        TrainConfig l = c.trainFor("rte", "l").applyTo(TrainConfig.builder().mode(TuningMode.LORA)).build();
        assertEquals(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-rank", "2").methodOption("lora-alpha", "4")
                .methodOption("lora-targets", "query,key").build(), l);
        assertEquals("r=2,alpha=4.0,dropout=0.0,targets=query+key,layers=tuned", l.toMap().get("lora"));
        TrainConfig l2 = c.trainFor("sst2", "l2").applyTo(TrainConfig.builder().mode(TuningMode.LORA)).build();
        assertEquals("r=16,alpha=8.0,dropout=0.0,targets=query+intermediate,layers=all", l2.toMap().get("lora"),
                "a comma string and a list give the same targets");
        assertEquals(TrainConfig.builder().build(), c.trainFor("rte", "full").applyTo(TrainConfig.builder()).build());
    }
}

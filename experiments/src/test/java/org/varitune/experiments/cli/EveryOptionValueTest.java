package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.Variant;
import org.varitune.training.TuningMode;
import org.varitune.training.PrefixCachePolicy;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.layers.Adapter;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every value of every enum option works end to end on the tiny model (24 balanced SST-2 examples, one epoch):
 * {@code analyze} for every pooling x variant (balanced classes, so {@code paper} and {@code papyan} must agree), {@code train} for every mode, head pooling and prefix policy, and a
 * YAML sweep that sets each of them; and the spellings are one vocabulary.
 */
class EveryOptionValueTest {
    @TempDir static Path tmp;
    static Path model, glue;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        model = TinySetup.model(tmp.resolve("model"), 7);
        glue = TinySetup.sst2(tmp.resolve("glue"), 24, 8, 3);                   // labels alternate: 12 + 12
    }

    /** Runs the CLI, capturing stdout and stderr; asserts exit code 0. */
    private static String run(String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(buf, true));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(buf, true));
            int rc = cl.execute(args);
            assertEquals(0, rc, String.join(" ", args) + "\n" + buf);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return buf.toString();
    }

    private static double[] nu(JsonNode variability) {
        JsonNode ls = variability.get("layers");
        double[] nu = new double[ls.size()];
        for (int l = 0; l < nu.length; l++) nu[l] = ls.get(l).get("nu").asDouble();
        return nu;
    }

    /** Runs analyze with a pooling and a variant; checks the recorded spellings; returns variability.json. */
    private static JsonNode analyze(Pooling p, Variant v) throws Exception {
        Path out = tmp.resolve("analyze-" + p + "-" + v);
        run("analyze", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--pooling", p.spelling(), "--variant", v.spelling(), "--out", out.toString());
        JsonNode j = JSON.readTree(out.resolve("variability.json").toFile());
        assertEquals(p.spelling(), j.get("pooling").asText());
        assertEquals(v.spelling(), j.get("variant").asText());
        assertEquals(24, j.get("examples").asInt());
        return j;
    }

    private static void assertDefinedAndEqualOnBalancedData(double[] paper, double[] papyan, int fromLayer, String what) {
        for (int l = fromLayer; l < paper.length; l++) {
            assertTrue(paper[l] > 0 && Double.isFinite(paper[l]), what + " layer " + l + ": " + paper[l]);
            // on balanced classes the two variants are the same quantity (Variant's Javadoc)
            assertEquals(paper[l], papyan[l], 1e-9 * paper[l], what + ": paper vs papyan at layer " + l + " on 12 + 12");
        }
    }

    @Test
    void analyzeRunsForBothMeanPoolingsAndBothVariants() throws Exception {
        double[] mean = nu(analyze(Pooling.MEAN_NON_SPECIAL, Variant.PAPER_CLASS_BALANCED));
        assertDefinedAndEqualOnBalancedData(mean, nu(analyze(Pooling.MEAN_NON_SPECIAL, Variant.PAPYAN_SAMPLE_WEIGHTED)), 0, "mean");
        double[] withSpecial = nu(analyze(Pooling.MEAN_NON_PAD, Variant.PAPER_CLASS_BALANCED));
        assertDefinedAndEqualOnBalancedData(withSpecial, nu(analyze(Pooling.MEAN_NON_PAD, Variant.PAPYAN_SAMPLE_WEIGHTED)), 0,
                "mean-with-special");
        for (int l = 0; l < mean.length; l++) assertNotEquals(mean[l], withSpecial[l], "the specials change the mean at layer " + l);
    }

    /**
     * first-token pools [CLS], whose layer-0 state (word + position 0 + type 0 embeddings) is the same for every
     * example, so nu(0) is undefined (Sb = 0): reported as such, while layers 1..3 are defined. Needs the undefined-nu
     * handling of the variability report (nu null with a reason); without it the pass stops with "Sb ... is zero".
     */
    @Test
    void analyzeWithFirstTokenPoolingReportsTheConstantEmbeddingLayerAsUndefined() throws Exception {
        JsonNode paper = analyze(Pooling.FIRST_TOKEN, Variant.PAPER_CLASS_BALANCED);
        JsonNode papyan = analyze(Pooling.FIRST_TOKEN, Variant.PAPYAN_SAMPLE_WEIGHTED);
        for (JsonNode j : List.of(paper, papyan)) {
            JsonNode l0 = j.get("layers").get(0);
            assertTrue(l0.get("nu").isNull() && l0.has("nu_undefined_reason"), l0.toString());
        }
        assertDefinedAndEqualOnBalancedData(nu(paper), nu(papyan), 1, "first-token");
    }

    /** Trains through the CLI with the given options; returns metrics.json. */
    private static JsonNode train(String name, String... options) throws Exception {
        Path out = tmp.resolve("train-" + name);
        List<String> args = new ArrayList<>(List.of("train", "--model", model.toString(), "--glue-task", "sst2", "--data",
                glue.toString(), "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--out", out.toString()));
        args.addAll(List.of(options));
        run(args.toArray(String[]::new));
        JsonNode j = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(1, j.get("epochs").size(), name);
        double loss = j.get("epochs").get(0).get("train_loss").asDouble();
        assertTrue(loss > 0 && Double.isFinite(loss), name + ": train loss " + loss);
        return j;
    }

    @Test
    void trainRunsInEveryModeHeadPoolingAndPrefixPolicy() throws Exception {
        for (TuningMode m : TuningMode.values()) {
            JsonNode j = m == TuningMode.FULL || m == TuningMode.TOP_K
                    ? train(m.spelling(), "--mode", m.spelling(), "--tune-layers", "1")
                    : train(m.spelling(), "--mode", m.spelling(), "--head-layer", "2", "--tune-layers", "1");
            assertEquals(m.spelling(), j.get("mode").asText());
            assertEquals(m.spelling(), j.get("config").get("mode").asText());
        }
        Set<Double> losses = new HashSet<>();
        for (org.varitune.transformer.layers.Pooling p : org.varitune.transformer.layers.Pooling.values()) {
            JsonNode j = train("pool-" + p, "--mode", "partial", "--head-layer", "2", "--head-pooling", p.spelling());
            assertEquals(p.spelling(), j.get("config").get("headPooling").asText());
            losses.add(j.get("epochs").get(0).get("train_loss").asDouble());
        }
        assertEquals(3, losses.size(), "each head pooling trains a different head: " + losses);
        Map<PrefixCachePolicy, String> prefix = Map.of(PrefixCachePolicy.CACHED, "prefix cache of hidden state 1",
                PrefixCachePolicy.RECOMPUTE, "frozen prefix recomputed in eval mode up to hidden state 1",
                PrefixCachePolicy.AUTHORS_DROPOUT, "authors' semantics: dropout on in the frozen layers");
        for (PrefixCachePolicy p : PrefixCachePolicy.values()) {
            JsonNode j = train("prefix-" + p, "--mode", "partial", "--head-layer", "2", "--prefix-policy", p.spelling());
            assertEquals(p.spelling(), j.get("config").get("prefixPolicy").asText());
            assertTrue(j.get("prefix").asText().startsWith(prefix.get(p)), p + ": " + j.get("prefix"));
        }
        JsonNode j = train("gelu", "--mode", "adapters", "--head-layer", "2", "--adapter-activation", "gelu");
        assertTrue(j.get("config").get("adapters").asText().endsWith(") activation=gelu"), j.get("config").toString());
    }

    @Test
    void aSweepSetsEveryValueThroughTheYaml() throws Exception {
        Path config = Files.writeString(tmp.resolve("every-value.yaml"), String.join("\n",
                "name: every-value",
                "model: " + model,
                "glue_dir: " + glue,
                "tasks: [sst2]",
                "seeds: [1]",
                "variability: {pooling: mean-with-special, variant: papyan}",
                "methods:",
                "  - {name: full, mode: full, train: {head_pooling: first-token}}",
                "  - {name: top-k, mode: top-k, k: [1], train: {prefix_policy: recompute}}",
                "  - {name: partial, mode: partial, head_layer: 2, k: [1],"
                        + " train: {prefix_policy: authors-dropout, head_pooling: mean-with-special}}",
                "  - {name: adapters, mode: adapters, head_layer: auto, k: [1], train: {adapter_activation: gelu}}",
                "  - {name: probe, mode: probe, head_layer: 2}",
                "  - {name: lora, mode: lora, head_layer: 2, k: [1], train: {lora_rank: 2, lora_alpha: 4,"
                        + " lora_targets: [query, intermediate], lora_layers: tuned}}",
                "train: {epochs: 1, lr: 1.0e-3, batch_size: 8, max_length: 16, grad_accumulation: 2, warmup_steps: 1}",
                ""));
        Path out = tmp.resolve("sweep");
        run("sweep", config.toString(), "--out", out.toString());
        JsonNode v = JSON.readTree(out.resolve("variability/sst2-mean-with-special-papyan/variability.json").toFile());
        assertEquals("mean-with-special", v.get("pooling").asText());
        assertEquals("papyan", v.get("variant").asText());
        Map<String, Map<String, String>> expected = Map.of(
                "full-k0", Map.of("mode", "full", "headPooling", "first-token", "prefixPolicy", "cached"),
                "top-k-k1", Map.of("mode", "top-k", "headPooling", "mean", "prefixPolicy", "recompute"),
                "partial-k1", Map.of("mode", "partial", "headPooling", "mean-with-special", "prefixPolicy", "authors-dropout"),
                "adapters-k1", Map.of("mode", "adapters", "adapters", "attention(size=64,init=near-identity,"
                        + "position=after-dropout,dropout=0.0) output(size=64,init=near-identity,position=after-dropout,"
                        + "dropout=0.0) activation=gelu"),
                "probe-k0", Map.of("mode", "probe"),
                "lora-k1", Map.of("mode", "lora", "lora", "r=2,alpha=4.0,dropout=0.0,targets=query+intermediate,layers=tuned"));
        for (var e : expected.entrySet()) {
            Path dir = out.resolve("runs/sst2").resolve(e.getKey()).resolve("seed-1");
            JsonNode r = JSON.readTree(dir.resolve("result.json").toFile());
            assertEquals("done", r.get("status").asText(), e.getKey() + ": " + r);
            JsonNode c = JSON.readTree(dir.resolve("metrics.json").toFile()).get("config");
            for (var kv : e.getValue().entrySet()) assertEquals(kv.getValue(), c.get(kv.getKey()).asText(), e.getKey() + " " + kv.getKey());
            assertEquals(2, c.get("gradAccumulation").asInt(), e.getKey());
            assertEquals(1, c.get("warmupSteps").asInt(), e.getKey());
            assertEquals(0.1, c.get("weightDecay").asDouble(), e.getKey() + ": TrainConfig's default");
        }
        // LoRA in layer 2 of the tiny BERT (hidden 16, intermediate 24), rank 2, on query (16 -> 16) and
        // intermediate (16 -> 24): 2·(16 + 16) + 2·(16 + 24) = 144 parameters, plus the head (16·16 + 16 + 16·2 + 2)
        JsonNode lora = JSON.readTree(out.resolve("runs/sst2/lora-k1/seed-1/result.json").toFile());
        assertEquals(144 + 306, lora.get("trainable_parameters").asLong(), lora.toString());
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.lines().anyMatch(l -> l.startsWith("| lora") || l.contains("| lora |") || l.contains("lora k=1")), report);
    }

    @Test
    void everyOptionValueIsLowerCaseKebab() {
        Pattern kebab = Pattern.compile("[a-z]+(-[a-z]+)*");
        List<Class<? extends Enum<?>>> types = List.of(Pooling.class, Variant.class,
                TuningMode.class, PrefixCachePolicy.class, Adapter.Activation.class,
                org.varitune.training.method.BitFitTuning.Bias.class);
        for (Class<? extends Enum<?>> t : types) {
            Set<String> seen = new HashSet<>();
            for (Enum<?> e : t.getEnumConstants()) {
                String s = ((Spelled) e).spelling();
                assertTrue(kebab.matcher(s).matches(), t.getSimpleName() + "." + e.name() + " spelled " + s);
                assertEquals(s, e.toString(), "toString is the spelling (picocli lists it in --help)");
                assertTrue(seen.add(s), s + " twice in " + t.getSimpleName());
            }
        }
        assertEquals(List.of("mean", "mean-with-special", "first-token"), Spelled.spellings(Pooling.class));
    }
}

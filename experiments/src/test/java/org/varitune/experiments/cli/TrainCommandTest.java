package org.varitune.experiments.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.experiments.sweep.ExperimentConfig;
import org.varitune.training.TuningMode;
import org.varitune.training.trainer.TrainConfig;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code varitune train} and {@code varitune bench train} end to end on a tiny model and a GLUE-format SST-2. */
class TrainCommandTest {
    @TempDir Path tmp;

    /** Runs the CLI capturing stdout and stderr; asserts the exit code. */
    private String run(int expectedRc, String... args) {
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        System.setErr(new PrintStream(err, true));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int rc = cl.execute(args);
            assertEquals(expectedRc, rc, "exit code; output:\n" + buf + "\nstderr:\n" + err);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
        return buf + err.toString();
    }

    private String[] trainArgs(Path model, Path glue, Path out, int epochs, String lr) {
        return List.of("train", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(), "--mode",
                "partial", "--head-layer", "2", "--tune-layers", "1", "--epochs", Integer.toString(epochs),
                "--batch-size", "8", "--lr", lr, "--out", out.toString()).toArray(String[]::new);
    }

    @Test
    void trainPrintsEpochsAndWritesMetricsJsonAndARerunResumesTheFinishedRun() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 60, 20, 3);
        Path out = tmp.resolve("out");
        String text = run(0, trainArgs(model, glue, out, 2, "1e-3"));
        assertTrue(text.contains("trainable parameters: "), text);
        assertTrue(text.contains("epoch 1: train loss "), text);
        assertTrue(text.contains("epoch 2: train loss "), text);
        assertTrue(text.contains("prefix cache of hidden state 1"), text);
        JsonNode j = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals("partial", j.get("mode").asText());
        assertEquals(2, j.get("head_layer").asInt());
        assertEquals(1, j.get("tune_layers").asInt());
        assertTrue(j.get("trainable_parameters").asLong() > 0);
        assertEquals("sst2", j.get("task").asText());
        assertEquals(2, j.get("epochs").size());
        JsonNode e1 = j.get("epochs").get(0);
        assertEquals(1, e1.get("epoch").asInt());
        assertTrue(e1.get("train_loss").asDouble() > 0);
        assertTrue(e1.get("dev").get("accuracy").asDouble() >= 0);
        assertTrue(e1.get("seconds").asDouble() >= 0);
        int best = j.get("best").get("epoch").asInt();
        assertEquals(j.get("epochs").get(best - 1).get("dev").get("accuracy").asDouble(),
                j.get("best").get("dev").get("accuracy").asDouble(), 0.0);
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/last/weights.safetensors")));

        String again = run(0, trainArgs(model, glue, out, 2, "1e-3"));
        assertTrue(again.contains("already finished"), again);
        assertEquals(j.get("epochs"), new ObjectMapper().readTree(out.resolve("metrics.json").toFile()).get("epochs"));
    }

    @Test
    void aRerunWithOtherOptionsNamesTheDifferingKeys() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 20, 8, 3);
        Path out = tmp.resolve("out");
        run(0, trainArgs(model, glue, out, 1, "1e-3"));
        String text = run(2, trainArgs(model, glue, out, 1, "5e-4"));
        assertTrue(text.contains("lr (0.001 vs 5.0E-4)"), text);
    }

    @Test
    void theAuthorsAdapterFlagsTrainABlockBelowTheHeadAndExportItsSites() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        Path glue = TinySetup.sst2(tmp.resolve("glue"), 20, 8, 3);
        Path out = tmp.resolve("out");
        String att = "size=3,init=bert,position=before-dropout,dropout=0.1";
        String text = run(0, "train", "--model", model.toString(), "--glue-task", "sst2", "--data", glue.toString(),
                "--mode", "adapters", "--head-layer", "3", "--tune-layers", "1", "--tune-last-layer", "2",
                "--attention-adapter", att, "--output-adapter", "size=5,init=bert,dropout=0.1", "--head-pooling", "first-token",
                "--prefix-policy", "authors-dropout", "--warmup-steps", "1", "--epochs", "1", "--batch-size", "8",
                "--out", out.toString());
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(3, m.get("head_layer").asInt());
        assertEquals(1, m.get("tune_layers").asInt());
        JsonNode a = new ObjectMapper().readTree(out.resolve("model/config.json").toFile()).get("varitune").get("adapters");
        assertEquals(att, a.get("attention").asText(), text);
        assertEquals("size=5,init=bert,position=after-dropout,dropout=0.1", a.get("output").asText());
        assertEquals(List.of(2), List.of(a.get("layers").get(0).asInt()), "layer 2 only holds adapters");
        assertEquals(1, a.get("layers").size());

        String bad = run(2, "train", "--model", model.toString(), "--mode", "adapters", "--attention-adapter",
                "size=3,where=ffn", "--out", tmp.resolve("o").toString());
        assertTrue(bad.contains("--attention-adapter") && bad.contains("unknown key 'where'"), bad);
    }

    @Test
    void anUnknownModeIsAnErrorListingTheModes() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        String text = run(2, "train", "--model", model.toString(), "--mode", "dora", "--out", tmp.resolve("o").toString());
        assertTrue(text.contains("Invalid value for option '--mode': 'dora' is not one of full, top-k, partial, adapters, probe, lora, bitfit"), text);
    }

    @Test
    void benchTrainEndsWithTheThroughputLine() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        String text = run(0, "bench", "train", "--model", model.toString(), "--batch", "4", "--seq", "8", "--mode",
                "partial", "--head-layer", "3", "--tune-layers", "1", "--iters", "2", "--warmup", "1");
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("train_seq_per_s=[0-9]+\\.[0-9]+"), text);
        assertTrue(text.contains("prefix cached"), text);
        assertTrue(text.contains("flop share of a full fine-tuning step (all 3 layers): 0.333"), text);
    }

    @Test
    void benchProfilesListTheKernelsTheStepRunsWithTheirCallsAndFlopRates() throws Exception {
        Path model = TinySetup.model(tmp.resolve("model"), 7);
        // full fine-tuning of the tiny BERT (3 layers), 2 timed steps: per step and layer 6 Linears forward (q, k, v,
        // attention output, intermediate, output) and backward, one attention forward and backward
        String text = run(0, "bench", "train", "--model", model.toString(), "--batch", "4", "--seq", "8", "--iters", "2",
                "--warmup", "1", "--profile");
        assertTrue(text.matches("(?s).*\\nmatmulForward +(\\d+) +[0-9.]+ +[0-9.]+% +[0-9.]+\\n.*"), text);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\nmatmulForward +(\\d+) ").matcher(text);
        assertTrue(m.find(), text);
        assertTrue(Integer.parseInt(m.group(1)) >= 2 * 3 * 6, "at least 6 Linears in each of 3 layers, 2 steps: " + text);
        assertTrue(text.contains("(outside the kernels)") && text.contains("clipping + AdamW"), text);
        String fwd = run(0, "bench", "forward", "--model", model.toString(), "--batch", "2", "--seq", "8", "--iters", "1",
                "--warmup", "0", "--profile");
        m = java.util.regex.Pattern.compile("\\nmatmulForward +(\\d+) ").matcher(fwd);
        assertTrue(m.find() && Integer.parseInt(m.group(1)) == 3 * 6 + 1, "one forward: 3 layers x 6 Linears and BERT's pooler: " + fwd);
        assertTrue(fwd.contains("(outside the kernels)") && !fwd.contains("matmulBackward"), fwd);
    }

    @Test
    void oldSpellingsAndTheOtherCommandsPoolingAreErrorsWithAHint() {
        String out = tmp.resolve("o").toString();
        String[][] cases = {
                {"train has no --pooling: the head's pooling is --head-pooling", "train", "--pooling", "mean"},
                {"'MEAN_NON_SPECIAL' is the old spelling; use 'mean'", "train", "--head-pooling", "MEAN_NON_SPECIAL"},
                {"'auto' is the old spelling; use 'cached'", "train", "--prefix-policy", "auto"},
                {"--cache is now --prefix-policy", "train", "--cache", "off"},
                {"--adapter-activation (adapter_activation) 'RELU' is spelled 'relu'", "train", "--mode", "adapters",
                        "--adapter-activation", "RELU"},
                {"--adapter-size (adapter_size) is an option of adapters, not of full", "train", "--adapter-size", "8"},
                {"--attention-adapter (attention_adapter) 'size=8,init=xavier': 'xavier' is not one of near-identity, bert",
                        "train", "--mode", "adapters", "--attention-adapter", "size=8,init=xavier"},
                {"'CLS' is the old spelling; use 'first-token'", "analyze", "--pooling", "CLS"},
                {"'PAPER_CLASS_BALANCED' is the old spelling; use 'paper'", "analyze", "--variant", "PAPER_CLASS_BALANCED"},
                {"analyze has no --head-pooling", "analyze", "--head-pooling", "mean"},
                {"--cache is now --prefix-policy", "bench", "train", "--cache", "auto"},
        };
        for (String[] c : cases) {
            List<String> args = new java.util.ArrayList<>(List.of(c).subList(1, c.length));
            if (!args.get(0).equals("bench")) args.addAll(List.of("--out", out));
            String text = run(2, args.toArray(String[]::new));
            assertTrue(text.contains(c[0]), args + ": " + text);
        }
    }

    @Test
    void withoutOptionsTrainBuildsTheConfigTheYamlDefaultsBuildInEveryMode() throws Exception {
        ExperimentConfig yaml = ExperimentConfig.parse("name: x\nmodel: m\ntasks: [rte]\nmethods:\n  - {name: full, mode: full}\n",
                Path.of("defaults.yaml"), Map.of());
        for (TuningMode m : TuningMode.values()) {
            var parsed = Main.commandLine().parseArgs("train", "--mode", m.spelling(), "--out", "unused");
            TrainCommand cmd = (TrainCommand) parsed.subcommand().commandSpec().userObject();
            assertEquals(yaml.trainFor("rte", "full").applyTo(TrainConfig.builder().mode(m)).build(), cmd.config(), m.spelling());
        }
    }

    @Test
    void theMethodsOptionsAreFlagsOfTrainListedInItsHelpAndCheckedByTheMethod() throws Exception {
        String help = run(0, "train", "--help");
        assertTrue(help.contains("--lora-rank=R") && help.contains("LoRA rank r (default 8, PEFT's)."), help);
        String flat = help.replaceAll("\\s+", " ");
        assertTrue(flat.contains("Peak learning rate (default by mode, registered with its method: full 0.00002, top-k "
                + "0.00002, partial 0.00002, adapters 0.0001, probe 0.001, lora 0.0005, bitfit 0.001)."), flat);
        assertTrue(help.contains("--lora-targets=ROLE[,ROLE...]") && help.contains("--lora-layers=tuned|all"), help);
        var parsed = Main.commandLine().parseArgs("train", "--mode", "lora", "--lora-rank", "4", "--lora-targets",
                "query,intermediate", "--lora-layers", "all", "--out", "unused");
        TrainCommand cmd = (TrainCommand) parsed.subcommand().commandSpec().userObject();
        assertEquals(TrainConfig.builder().mode(TuningMode.LORA).methodOption("lora-rank", "4")
                .methodOption("lora-targets", "query,intermediate").methodOption("lora-layers", "all").build(), cmd.config());
        assertEquals("r=4,alpha=8.0,dropout=0.0,targets=query+intermediate,layers=all", cmd.config().toMap().get("lora"));

        Path model = TinySetup.model(tmp.resolve("model"), 7);
        String out = tmp.resolve("o").toString();
        String text = run(2, "train", "--model", model.toString(), "--mode", "partial", "--lora-rank", "4", "--out", out);
        assertTrue(text.contains("--lora-rank (lora_rank) is an option of lora, not of partial"), text);
        text = run(2, "train", "--model", model.toString(), "--mode", "lora", "--lora-rnk", "4", "--out", out);
        assertTrue(text.contains("Unknown options: '--lora-rnk'") && text.contains("Possible solutions: --lora-rank"), text);
        text = run(2, "train", "--model", model.toString(), "--mode", "lora", "--lora-alpha", "NaN", "--out", out);
        assertTrue(text.contains("--lora-alpha (lora_alpha) 'NaN': not a finite decimal number"), text);
        assertTrue(Files.notExists(tmp.resolve("o")), "rejected before any file is written");
    }
}

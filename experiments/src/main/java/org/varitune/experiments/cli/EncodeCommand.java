package org.varitune.experiments.cli;

import org.varitune.transformer.io.SafetensorsWriter;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.tokenize.Batch;
import org.varitune.transformer.tokenize.Encoding;
import org.varitune.transformer.tokenize.Tokenizer;
import org.varitune.transformer.tokenize.Tokenizers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code varitune encode}: tokenizes a padded batch, runs the encoder, prints tokens, shapes and per-layer
 * mean-pooled norms, and optionally writes the inputs and all hidden states as safetensors for comparison with
 * other frameworks.
 */
@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Encode texts (and optional pairs) and show or save every layer's hidden states.")
public final class EncodeCommand implements Callable<Integer> {
    @picocli.CommandLine.Mixin DeviceOption device = new DeviceOption();
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2",
            description = "Built-in name or HF model directory (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--text", required = true, description = "Text to encode; repeat for a batch.")
    List<String> texts;

    @Option(names = "--pair", description = "Second segment for each --text (repeat as often as --text).")
    List<String> pairs = new ArrayList<>();

    @Option(names = "--max-length", defaultValue = "512", description = "Truncate (longest_first) to this many tokens.")
    int maxLength;

    @Option(names = "--output", description = "Write input_ids, token_type_ids, attention_mask (I64) and "
            + "hidden_states.0..L (F32, [batch, seq, hidden]) to this .safetensors file.")
    Path output;

    @Override
    public Integer call() throws Exception {
        device.apply();
        if (!pairs.isEmpty() && pairs.size() != texts.size()) {
            throw new IllegalArgumentException("--pair given " + pairs.size() + " times but --text " + texts.size()
                    + " times: give one pair per text, or none");
        }
        Path dir = ModelSpec.directory(model);
        Tokenizer tok = Tokenizers.load(dir);
        Kernels kernels = Kernels.fromSystemProperty();
        Encoder enc = Encoder.load(dir, kernels);
        List<Encoding> encs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            encs.add(tok.encode(texts.get(i), pairs.isEmpty() ? null : pairs.get(i), maxLength));
        }
        Batch batch = Batch.pad(encs, tok.padTokenId(), 1);
        for (int i = 0; i < encs.size(); i++) {
            System.out.printf("[%d] %d tokens: %s%n", i, encs.get(i).ids().length, String.join(" ", encs.get(i).tokens()));
        }
        long t0 = System.nanoTime();
        EncoderOutput out = enc.forward(batch);
        double ms = (System.nanoTime() - t0) / 1e6;
        int B = batch.B(), T = batch.T(), C = out.hidden();
        System.out.printf(Locale.ROOT, "model %s (%s, %d layers, hidden %d), kernels %s, forward %.1f ms%n", model,
                enc.config().modelType(), enc.numLayers(), C, kernels.name(), ms);
        System.out.printf("hidden_states: %d x [%d, %d, %d]%n", out.hiddenStates().size(), B, T, C);
        System.out.println("per-layer norm of the mean-pooled hidden state (mean over attended tokens), per sequence:");
        for (int l = 0; l < out.hiddenStates().size(); l++) {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  layer %2d:", l));
            float[] h = out.hiddenStates().get(l);
            for (int b = 0; b < B; b++) sb.append(String.format(Locale.ROOT, " %8.4f", pooledNorm(h, batch, b, T, C)));
            System.out.println(sb);
        }
        if (output != null) {
            SafetensorsWriter w = new SafetensorsWriter();
            w.addI64("input_ids", toLong(batch.inputIds()), B, T);
            w.addI64("token_type_ids", toLong(batch.tokenTypeIds()), B, T);
            w.addI64("attention_mask", toLong(batch.attentionMask()), B, T);
            for (int l = 0; l < out.hiddenStates().size(); l++) w.addF32("hidden_states." + l, out.hiddenStates().get(l), B, T, C);
            w.metadata("model", model);
            w.metadata("producer", "varitune encode");
            w.write(output);
            System.out.println("wrote " + output);
        }
        return 0;
    }

    static double pooledNorm(float[] h, Batch batch, int b, int T, int C) {
        double[] mean = new double[C];
        int count = 0;
        for (int t = 0; t < T; t++) {
            if (batch.attentionMask()[b * T + t] == 0) continue;
            count++;
            for (int c = 0; c < C; c++) mean[c] += h[(b * T + t) * C + c];
        }
        double s = 0;
        for (int c = 0; c < C; c++) s += (mean[c] / Math.max(count, 1)) * (mean[c] / Math.max(count, 1));
        return Math.sqrt(s);
    }

    private static long[] toLong(int[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }
}

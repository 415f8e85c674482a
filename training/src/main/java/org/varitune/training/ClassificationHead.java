package org.varitune.training;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A sequence-classification (or regression, {@code numLabels == 1}) head on top of the hidden states of one encoder
 * layer: pooling, then the head's layers, giving logits (B, K). Parameter names are HF's
 * ({@code pooler.dense.*}, {@code classifier.*}); checkpoints may hold them under {@code bert.}/{@code roberta.}.
 */
public interface ClassificationHead {

    /** What a head's backward needs; each head has its own record. */
    interface Saved {}

    int numLabels();

    int hiddenSize();

    Pooling pooling();

    /** The head's parameters, in HF order. */
    List<Parameter> parameters();

    /**
     * hidden: (B, T, C), not modified; attentionMask and specialTokensMask: (B, T) (see {@link Pooling}). Returns
     * logits (B, K), with what backward needs when {@code keep}. Dropout per {@code drop}.
     */
    Fwd<Saved> forward(float[] hidden, int[] attentionMask, int[] specialTokensMask, int B, int T,
                       DropoutContext drop, boolean keep);

    /**
     * Differentiates the forward from dLogits (B, K): accumulates into the trainable head parameters' grads and
     * returns dHidden (B, T, C), a new array.
     */
    float[] backward(float[] dLogits, Saved saved);

    /**
     * HF {@code _init_weights}: every weight ~ N(0, std²) ({@code initializer_range}, 0.02 for BERT/RoBERTa), every
     * bias 0. Modifies all head parameters.
     */
    default void initialize(Random rng, double std) {
        for (Parameter p : parameters()) {
            float[] d = p.data();
            boolean bias = p.name().endsWith(".bias");
            for (int i = 0; i < d.length; i++) d[i] = bias ? 0f : (float) (std * rng.nextGaussian());
        }
    }

    /**
     * Loads every head parameter from {@code src} by HF name, trying {@code name}, {@code bert.name} and
     * {@code roberta.name} (a checkpoint stores BERT's pooler as {@code bert.pooler.dense.*}). A missing or misshapen
     * tensor is an error naming the source and the keys. Modifies all head parameters.
     */
    default void loadFrom(WeightSource src) throws IOException {
        List<String> problems = new ArrayList<>();
        for (Parameter p : parameters()) {
            String key = null;
            for (String prefix : List.of("", "bert.", "roberta.")) {
                if (src.names().contains(prefix + p.name())) { key = prefix + p.name(); break; }
            }
            if (key == null) { problems.add("missing " + p.name()); continue; }
            int[] shape = src.info(key).shape();
            if (!Arrays.equals(shape, p.shape())) {
                problems.add(key + " has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(p.shape()));
                continue;
            }
            p.copyFrom(src.readFloat(key), shape);
        }
        if (!problems.isEmpty()) throw new IOException(src.source() + ": cannot load the head: " + problems);
    }

    /**
     * Copies the head parameters that the encoder also holds by the same name (BERT's {@code pooler.dense.*} when the
     * encoder checkpoint had a pooler). Returns how many were copied. Modifies those head parameters.
     */
    default int copyFromEncoder(Encoder encoder) {
        Map<String, Parameter> enc = encoder.parameterMap();
        int copied = 0;
        for (Parameter p : parameters()) {
            Parameter src = enc.get(p.name());
            if (src == null) continue;
            p.copyFrom(src.data(), src.shape());
            copied++;
        }
        return copied;
    }
}

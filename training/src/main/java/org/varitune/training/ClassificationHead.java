package org.varitune.training;

import org.varitune.transformer.layers.Pooling;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Fwd;
import org.varitune.transformer.layers.Linear;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.HeadSpec;
import org.varitune.transformer.model.ModelFamily;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A sequence-classification (or regression, {@code numLabels == 1}) head on the hidden states of one encoder layer,
 * configured by its family's {@link HeadSpec}, with a configurable pooling:
 * <pre>
 *   p      = pooling(h)                                    // (B, C); HF: h[:, 0]
 *   x      = dropoutBeforeDense ? dropout₁(p) : p
 *   a      = activation(dense(x))                          // (B, C)
 *   logits = out(dropout₂(a))                              // (B, K)
 * </pre>
 * BERT ({@code BertForSequenceClassification}): {@code pooler.dense}, tanh, {@code classifier}; RoBERTa
 * ({@code RobertaClassificationHead}): dropout₁, {@code classifier.dense}, tanh, {@code classifier.out_proj};
 * DistilBERT ({@code DistilBertForSequenceClassification}): {@code pre_classifier}, ReLU, {@code classifier}.
 * Parameter names are HF's; a checkpoint stores the dense under the encoder prefix when
 * {@link HeadSpec#denseUnderPrefix()} ({@code bert.pooler.dense.*}). Both dropouts have the same rate, with
 * independent masks (sites {@link Dropout#HEAD_FIRST}, {@link Dropout#HEAD_SECOND}).
 */
public final class ClassificationHead {
    private final ModelFamily family;
    private final HeadSpec spec;
    private final Pooling pooling;
    private final Linear dense, out;
    private final Dropout dropout1, dropout2;
    private final int hidden, numLabels;

    /** What backward needs. a: (B, C) after the activation; mask1 is null without the first dropout. */
    public record Saved(Pooling.Saved pool, Dropout.Mask mask1, Linear.Saved dense, float[] a, Dropout.Mask mask2,
                        Linear.Saved out) {}

    /**
     * @param family      whose head this is ({@link ModelFamily#head()})
     * @param dropoutProb the head's dropout (HF {@code classifier_dropout}, DistilBERT {@code seq_classif_dropout})
     */
    public ClassificationHead(Kernels kernels, ModelFamily family, int hidden, int numLabels, double dropoutProb,
                              Pooling pooling) {
        if (numLabels < 1) throw new IllegalArgumentException("numLabels " + numLabels + " must be >= 1");
        this.family = family;
        this.spec = family.head();
        this.pooling = pooling;
        this.hidden = hidden;
        this.numLabels = numLabels;
        this.dense = new Linear(kernels, spec.dense(), hidden, hidden);
        this.out = new Linear(kernels, spec.out(), hidden, numLabels);
        this.dropout1 = new Dropout(spec.dropoutBeforeDense() ? dropoutProb : 0, Dropout.site(Dropout.HEAD_LAYER, Dropout.HEAD_FIRST));
        this.dropout2 = new Dropout(dropoutProb, Dropout.site(Dropout.HEAD_LAYER, Dropout.HEAD_SECOND));
    }

    /** The default head of {@code encoder}'s family, with its config's head dropout. */
    public static ClassificationHead of(Encoder encoder, int numLabels, Pooling pooling) {
        var c = encoder.config();
        return new ClassificationHead(encoder.kernels(), c.family(), c.hiddenSize(), numLabels, c.classifierDropout(), pooling);
    }

    public ModelFamily family() { return family; }
    public int numLabels() { return numLabels; }
    public int hiddenSize() { return hidden; }
    public Pooling pooling() { return pooling; }

    /** The head's dropout probability. */
    public float dropoutProb() { return dropout2.p(); }

    /** dense.weight, dense.bias, out.weight, out.bias (HF order). */
    public List<Parameter> parameters() { return List.of(dense.weight(), dense.bias(), out.weight(), out.bias()); }

    /** The key of a head parameter in an HF checkpoint: under the encoder prefix for the dense when the spec says so. */
    public String checkpointName(Parameter p) {
        boolean underPrefix = spec.denseUnderPrefix() && p.name().startsWith(spec.dense() + ".");
        return underPrefix ? family.prefix() + p.name() : p.name();
    }

    /**
     * hidden: (B, T, C), not modified; attentionMask and specialTokensMask: (B, T) (see {@link Pooling}). Returns
     * logits (B, K), with what backward needs when {@code keep}. Dropout per {@code drop}.
     */
    public Fwd<Saved> forward(float[] h, int[] attentionMask, int[] specialTokensMask, int B, int T,
                              DropoutContext drop, boolean keep) {
        var p = pooling.forward(h, attentionMask, specialTokensMask, B, T, hidden);   // p: (B, C), a new array
        float[] x = p.out();
        Dropout.Mask m1 = dropout1.forwardInPlace(x, B * hidden, drop);   // x = dropout₁(p), in place (rate 0: none)
        var d = dense.forward(x, B, keep);
        float[] a = d.out();                                               // a: (B, C) = activation(dense(x))
        for (int i = 0; i < a.length; i++) a[i] = spec.activation().apply(a[i]);
        float[] y = a;
        Dropout.Mask m2 = dropout2.mask(drop, B * hidden);
        if (m2 != null) {
            y = new float[B * hidden];                                     // y: (B, C) = dropout₂(a)
            Dropout.apply(y, a, m2);
        }
        var logits = out.forward(y, B, keep);                              // logits: (B, K)
        return new Fwd<>(logits.out(), keep ? new Saved(p.saved(), m1, d.saved(), a, m2, logits.saved()) : null);
    }

    /**
     * Differentiates the forward from dLogits (B, K): accumulates into the trainable head parameters' grads and
     * returns dHidden (B, T, C), a new array.
     */
    public float[] backward(float[] dLogits, Saved s) {
        // forward was: logits = out(dropout₂(a))
        float[] dA = out.backward(dLogits, s.out(), true);
        Dropout.applyInPlace(dA, s.mask2());
        // forward was: a = activation(pre), so dPre = dA·activation'(pre), written with a (tanh: 1 − a²; ReLU: a > 0)
        float[] a = s.a();
        for (int i = 0; i < dA.length; i++) dA[i] *= spec.activation().derivativeFromOutput(a[i]);
        // forward was: pre = dense(dropout₁(p))
        float[] dX = dense.backward(dA, s.dense(), true);
        Dropout.applyInPlace(dX, s.mask1());
        // forward was: p = pooling(h)
        return Pooling.backward(dX, s.pool());
    }

    /**
     * HF {@code _init_weights}: every weight ~ N(0, std²) ({@code initializer_range}, 0.02 for BERT/RoBERTa), every
     * bias 0. Modifies all head parameters.
     */
    public void initialize(Random rng, double std) {
        for (Parameter p : parameters()) {
            float[] d = p.data();
            boolean bias = p.name().endsWith(".bias");
            for (int i = 0; i < d.length; i++) d[i] = bias ? 0f : (float) (std * rng.nextGaussian());
        }
    }

    /**
     * Loads every head parameter from {@code src} by HF name, trying {@code name} and then the family's
     * {@code prefix + name} (a checkpoint stores BERT's pooler as {@code bert.pooler.dense.*}). A missing or
     * misshapen tensor is an error naming the source and the keys. Modifies all head parameters.
     */
    public void loadFrom(WeightSource src) throws IOException {
        List<String> problems = new ArrayList<>();
        for (Parameter p : parameters()) {
            String key = checkpointKey(src, p);
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

    /** The key {@link #loadFrom} reads for {@code p}, or null when {@code src} has neither spelling. */
    public String checkpointKey(WeightSource src, Parameter p) {
        for (String key : List.of(p.name(), family.prefix() + p.name())) if (src.contains(key)) return key;
        return null;
    }

    /**
     * Copies the head parameters that the encoder also holds by the same name (BERT's {@code pooler.dense.*} when the
     * encoder checkpoint had a pooler). Returns how many were copied. Modifies those head parameters.
     */
    public int copyFromEncoder(Encoder encoder) {
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

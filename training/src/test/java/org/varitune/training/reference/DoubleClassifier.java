package org.varitune.training.reference;

import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.DoubleLayers;

import java.util.Map;

import static org.varitune.transformer.reference.DoubleLayers.dropoutBackward;
import static org.varitune.transformer.reference.DoubleLayers.dropoutForward;
import static org.varitune.transformer.reference.DoubleLayers.matmulBackward;
import static org.varitune.transformer.reference.DoubleLayers.matmulForward;

/**
 * The whole classifier in double: the shared encoder oracle {@link DoubleEncoder} (its first {@code headLayer}
 * layers), then what only training needs, in the same forward/backward style: pooling, the BERT
 * ({@code classifier(drop(tanh(pooler(pooled))))}), RoBERTa ({@code out_proj(drop(tanh(dense(drop(pooled)))))}) or
 * DistilBERT ({@code classifier(drop(relu(pre_classifier(pooled))))}) head, written from HF's
 * {@code modeling_*.py} independently of the main code's {@code HeadSpec}, cross-entropy and MSE. Head parameters live in the encoder's map under their HF names; dropout masks come
 * from the encoder's {@link DoubleEncoder.Masks} at the head's sites.
 */
public final class DoubleClassifier {
    private final DoubleEncoder enc;
    private final int headLayer, C;
    private final String pooling;
    private final boolean roberta, distilbert;

    /** @param pooling a {@code Pooling} name */
    public DoubleClassifier(DoubleEncoder encoder, int headLayer, String pooling) {
        this.enc = encoder;
        this.headLayer = headLayer;
        this.pooling = pooling;
        this.C = encoder.config().hiddenSize();
        this.roberta = encoder.config().modelType().equals("roberta");
        this.distilbert = encoder.config().modelType().equals("distilbert");
        if (!roberta && !distilbert && !encoder.config().modelType().equals("bert")) {
            throw new IllegalArgumentException("DoubleClassifier: head of " + encoder.config().modelType() + " not written");
        }
    }

    public DoubleEncoder encoder() { return enc; }

    public Map<String, double[]> parameters() { return enc.parameters(); }

    public Map<String, double[]> zeroGrads() { return enc.zeroGrads(); }

    // ---------------------------------------------------------------- pooling

    /** Pooling as a weighted sum {@code pooled[b] = Σ_t w[b,t]·h[b,t]}. pooled: (B, C) overwritten; w: (B, T); h: (B, T, C). */
    public static void poolForward(double[] pooled, double[] h, double[] w, int B, int T, int C) {
        java.util.Arrays.fill(pooled, 0, B * C, 0);
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) for (int c = 0; c < C; c++) {
            pooled[b * C + c] += w[b * T + t] * h[(b * T + t) * C + c];
        }
    }

    /** dH: (B, T, C) accumulated; {@code dH[b,t] += w[b,t]·dPooled[b]}. */
    public static void poolBackward(double[] dH, double[] dPooled, double[] w, int B, int T, int C) {
        // forward was: pooled[b, c] = Σ_t w[b, t]·h[b, t, c]
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) for (int c = 0; c < C; c++) {
            dH[(b * T + t) * C + c] += w[b * T + t] * dPooled[b * C + c];
        }
    }

    /**
     * Pooling weights (B, T) per mode name: first token; mean over attended; mean over attended non-special (a row
     * without one: over attended).
     */
    public static double[] poolWeights(String mode, int[] mask, int[] special, int B, int T) {
        double[] w = new double[B * T];
        for (int b = 0; b < B; b++) {
            if (mode.equals("FIRST_TOKEN")) { w[b * T] = 1; continue; }
            int count = 0;
            for (int t = 0; t < T; t++) {
                if (mask[b * T + t] == 1 && (mode.equals("MEAN_NON_PAD") || special[b * T + t] == 0)) count++;
            }
            // a row of specials only (an empty text) is pooled over all its attended tokens
            boolean all = mode.equals("MEAN_NON_PAD") || count == 0;
            if (count == 0) for (int t = 0; t < T; t++) count += mask[b * T + t];
            for (int t = 0; t < T; t++) {
                if (mask[b * T + t] == 1 && (all || special[b * T + t] == 0)) w[b * T + t] = 1.0 / count;
            }
        }
        return w;
    }

    // ---------------------------------------------------------------- losses

    /** Mean cross-entropy {@code (1/B)·Σ_b (log Σ_k exp(logits[b,k]) − logits[b,label_b])} over (B, K) logits. */
    public static double crossEntropy(double[] logits, int[] labels, int B, int K) {
        double total = 0;
        for (int b = 0; b < B; b++) {
            double sum = 0;
            for (int k = 0; k < K; k++) sum += Math.exp(logits[b * K + k]);
            total += Math.log(sum) - logits[b * K + labels[b]];
        }
        return total / B;
    }

    /** {@code dLogits = dLoss·(softmax(logits) − onehot(label))/B}: (B, K). */
    public static double[] crossEntropyBackward(double[] logits, int[] labels, int B, int K, double dLoss) {
        double[] d = new double[B * K];
        for (int b = 0; b < B; b++) {
            // forward was: loss += (log Σ_k exp(logits[b, k]) − logits[b, label]) / B
            double sum = 0;
            for (int k = 0; k < K; k++) sum += Math.exp(logits[b * K + k]);
            for (int k = 0; k < K; k++) d[b * K + k] = dLoss * (Math.exp(logits[b * K + k]) / sum - (k == labels[b] ? 1 : 0)) / B;
        }
        return d;
    }

    /** Mean squared error {@code (1/n)·Σ (pred − target)²}. */
    public static double mse(double[] pred, double[] target) {
        double s = 0;
        for (int i = 0; i < pred.length; i++) s += (pred[i] - target[i]) * (pred[i] - target[i]);
        return s / pred.length;
    }

    // ---------------------------------------------------------------- head

    /** Head intermediates: pooling weights (B, T), pooled (B, C), dense input x1, activation output a, dropped a2 (B, C), logits (B, K). */
    public record HeadTape(double[] poolW, double[] pooled, double[] x1, double[] a, double[] a2, double[] logits, int b, int t) {}

    private String dense1() { return roberta ? "classifier.dense" : distilbert ? "pre_classifier" : "pooler.dense"; }

    private String dense2() { return roberta ? "classifier.out_proj" : "classifier"; }

    /** The dense layer's activation: HF's BERT pooler and RoBERTa head use tanh, DistilBERT's head ReLU. */
    private DoubleLayers.Act act() { return distilbert ? DoubleLayers.Act.RELU : DoubleLayers.Act.TANH; }

    private double[] headMask(int slot, int n) { return enc.mask(Dropout.HEAD_LAYER, slot, n); }

    /**
     * Pooling then the BERT (pooler + classifier), RoBERTa (classifier.dense + out_proj) or DistilBERT
     * (pre_classifier + classifier) head; h: (B, T, C).
     */
    public HeadTape head(double[] h, int[] mask, int[] special, int B, int T) {
        double[] wts = poolWeights(pooling, mask, special, B, T);
        double[] pooled = new double[B * C], x1 = new double[B * C], pre = new double[B * C];  // (B, C) each
        double[] a = new double[B * C], a2 = new double[B * C];
        poolForward(pooled, h, wts, B, T, C);
        dropoutForward(x1, pooled, roberta ? headMask(Dropout.HEAD_FIRST, B * C) : null, B * C);
        matmulForward(pre, x1, enc.w(dense1() + ".weight"), enc.w(dense1() + ".bias"), B, C, C);
        act().forward(a, pre, B * C);
        dropoutForward(a2, a, headMask(Dropout.HEAD_SECOND, B * C), B * C);
        int K = enc.w(dense2() + ".bias").length;
        double[] logits = new double[B * K];
        matmulForward(logits, a2, enc.w(dense2() + ".weight"), enc.w(dense2() + ".bias"), B, C, K);
        return new HeadTape(wts, pooled, x1, a, a2, logits, B, T);
    }

    /** Accumulates the head's gradients; returns dH (B, T, C). */
    public double[] headBackward(HeadTape t, double[] dLogits, Map<String, double[]> g) {
        int B = t.b(), T = t.t(), K = enc.w(dense2() + ".bias").length;
        // forward was: logits = W2·a2 + b2, a2 = drop(a)
        double[] dA2 = new double[B * C], dA = new double[B * C], dPre = new double[B * C];
        matmulBackward(dA2, g.get(dense2() + ".weight"), g.get(dense2() + ".bias"), dLogits, t.a2(), enc.w(dense2() + ".weight"), B, C, K);
        dropoutBackward(dA, dA2, headMask(Dropout.HEAD_SECOND, B * C), B * C);
        // forward was: a = tanh(pre) | relu(pre), pre = W1·x1 + b1; tanh' = 1 − a², relu' = [a > 0] (from the tape's a,
        // so pre is not stored)
        for (int i = 0; i < dPre.length; i++) {
            dPre[i] = dA[i] * (distilbert ? (t.a()[i] > 0 ? 1 : 0) : 1 - t.a()[i] * t.a()[i]);
        }
        double[] dX1 = new double[B * C], dPooled = new double[B * C], dH = new double[B * T * C];
        matmulBackward(dX1, g.get(dense1() + ".weight"), g.get(dense1() + ".bias"), dPre, t.x1(), enc.w(dense1() + ".weight"), B, C, C);
        // forward was: x1 = drop?(pooled), pooled = Σ_t w·h
        dropoutBackward(dPooled, dX1, roberta ? headMask(Dropout.HEAD_FIRST, B * C) : null, B * C);
        poolBackward(dH, dPooled, t.poolW(), B, T, C);
        return dH;
    }

    // ---------------------------------------------------------------- whole model

    /** Whole-model intermediates. */
    public record Tape(DoubleEncoder.Tape encoder, HeadTape head) {
        public double[] logits() { return head.logits(); }
    }

    public Tape forward(int[] ids, int[] types, int[] mask, int[] special, int B, int T) {
        DoubleEncoder.Tape e = enc.forward(ids, types, mask, B, T, headLayer);
        return new Tape(e, head(e.last(), mask, special, B, T));
    }

    /** Gradients of every parameter, from dLogits (B, K). */
    public Map<String, double[]> backward(Tape t, double[] dLogits) {
        Map<String, double[]> g = zeroGrads();
        enc.backward(t.encoder(), headBackward(t.head(), dLogits, g), g);
        return g;
    }

    /** Mean cross-entropy of the model on a batch. */
    public double loss(int[] ids, int[] types, int[] mask, int[] special, int[] labels, int B, int T) {
        Tape t = forward(ids, types, mask, special, B, T);
        return crossEntropy(t.logits(), labels, B, t.logits().length / B);
    }
}

package org.varitune.training;

/**
 * Mean cross-entropy over the batch, HF {@code CrossEntropyLoss()} on {@code (B, K)} logits:
 * {@code loss = (1/B)·Σ_b −log softmax(logits[b])[labels[b]]}, with a max-subtracted log-softmax in double.
 */
public final class CrossEntropyLoss {
    private CrossEntropyLoss() {}

    /** The loss and what backward needs: the softmax probabilities. */
    public record Output(double loss, float[] probs, int[] labels, int b, int k) {}   // probs: (B, K)

    /**
     * @param logits (B, K), not modified
     * @param labels (B), each in [0, K); an out-of-range label is an error naming the row
     */
    public static Output forward(float[] logits, int[] labels, int B, int K) {
        if (logits.length != B * K || labels.length != B) {
            throw new IllegalArgumentException("cross-entropy: logits has " + logits.length + " values and labels "
                    + labels.length + ", expected (B, K) = (" + B + ", " + K + ") and (B)");
        }
        float[] probs = new float[B * K];
        double total = 0.0;
        for (int b = 0; b < B; b++) {
            int y = labels[b];
            if (y < 0 || y >= K) throw new IllegalArgumentException("label " + y + " of row " + b + " outside [0, " + K + ")");
            int o = b * K;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < K; k++) max = Math.max(max, logits[o + k]);
            double sum = 0.0;
            for (int k = 0; k < K; k++) sum += Math.exp(logits[o + k] - max);
            double logSum = max + Math.log(sum);                           // log Σ exp(logits)
            total += logSum - logits[o + y];                               // −log softmax[y]
            for (int k = 0; k < K; k++) probs[o + k] = (float) Math.exp(logits[o + k] - logSum);
        }
        return new Output(total / B, probs, labels, B, K);
    }

    /**
     * forward was loss = (1/B)·Σ_b (logSumExp(logits[b]) − logits[b, y_b]); so
     * {@code dLogits[b,k] = dLoss·(softmax[b,k] − [k == y_b])/B}. Returns dLogits (B, K), a new array. For gradient
     * accumulation over m micro-batches pass {@code dLoss = 1/m}.
     */
    public static float[] backward(double dLoss, Output out) {
        int B = out.b(), K = out.k();
        float[] d = new float[B * K];                                      // dLogits: (B, K)
        double s = dLoss / B;
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < K; k++) {
                double g = out.probs()[b * K + k] - (k == out.labels()[b] ? 1.0 : 0.0);
                d[b * K + k] = (float) (s * g);
            }
        }
        return d;
    }
}

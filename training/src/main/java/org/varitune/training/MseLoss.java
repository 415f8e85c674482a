package org.varitune.training;

/**
 * Mean squared error for regression heads ({@code numLabels = 1}, e.g. STS-B), HF {@code MSELoss()} on
 * {@code logits.squeeze()}: {@code loss = (1/B)·Σ_b (pred[b] − target[b])²}.
 */
public final class MseLoss {
    private MseLoss() {}

    /** The loss and what backward needs: the residuals pred − target. */
    public record Output(double loss, double[] residuals) {}                // residuals: (B)

    /** pred: (B) (the (B, 1) logits), target: (B); neither modified. */
    public static Output forward(float[] pred, float[] target, int B) {
        if (pred.length != B || target.length != B) {
            throw new IllegalArgumentException("mse: pred has " + pred.length + " values and target " + target.length
                    + ", expected B = " + B + " each (numLabels must be 1)");
        }
        double[] r = new double[B];
        double total = 0.0;
        for (int b = 0; b < B; b++) {
            r[b] = (double) pred[b] - target[b];
            total += r[b] * r[b];
        }
        return new Output(total / B, r);
    }

    /** forward was loss = (1/B)·Σ r², r = pred − target; so dPred = dLoss·2r/B. Returns dPred (B), a new array. */
    public static float[] backward(double dLoss, Output out) {
        int B = out.residuals().length;
        float[] d = new float[B];
        for (int b = 0; b < B; b++) d[b] = (float) (dLoss * 2.0 * out.residuals()[b] / B);
        return d;
    }
}

package org.varitune.training.reference;

import org.varitune.transformer.kernels.MathUtil;

/**
 * Double-precision oracles of the layers, as naive loops (llm.c's {@code *_cpu} reference functions): each forward
 * with its backward, written independently of the float kernels (the LayerNorm and softmax backwards go through the
 * full Jacobian, not the kernels' closed forms). Backwards <b>accumulate</b> into non-null gradient arrays.
 * Shapes as in the layers: N rows, C channels, B batch, T sequence, H heads, D head size.
 */
public final class DoubleLayers {
    private DoubleLayers() {}

    /** y = x·Wᵀ + b. x: (N, IC), W: (OC, IC), b: (OC) or null. Returns y: (N, OC). */
    public static double[] linear(double[] x, double[] w, double[] b, int N, int IC, int OC) {
        double[] y = new double[N * OC];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double acc = b == null ? 0 : b[o];
                for (int i = 0; i < IC; i++) acc += x[n * IC + i] * w[o * IC + i];
                y[n * OC + o] = acc;
            }
        }
        return y;
    }

    /** dX += dY·W; dW += dYᵀ·x; dB += Σ_n dY. Null outputs are skipped. */
    public static void linearBackward(double[] dY, double[] x, double[] w, int N, int IC, int OC,
                                      double[] dX, double[] dW, double[] dB) {
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double g = dY[n * OC + o];
                if (dB != null) dB[o] += g;
                for (int i = 0; i < IC; i++) {
                    if (dX != null) dX[n * IC + i] += g * w[o * IC + i];
                    if (dW != null) dW[o * IC + i] += g * x[n * IC + i];
                }
            }
        }
    }

    /** y = (x − mean)/sqrt(var + eps)·w + b per row, population variance. x: (N, C). */
    public static double[] layerNorm(double[] x, double[] w, double[] b, int N, int C, double eps) {
        double[] y = new double[N * C];
        for (int n = 0; n < N; n++) {
            double[] norm = norm(x, n, C, eps);
            for (int c = 0; c < C; c++) y[n * C + c] = norm[c] * w[c] + b[c];
        }
        return y;
    }

    /**
     * LayerNorm backward through the Jacobian {@code ∂norm_j/∂x_i = rstd·(δij − 1/C − norm_i·norm_j/C)}:
     * dX += Σ_j (w⊙dY)_j·∂norm_j/∂x_i; dW += norm⊙dY; dB += dY.
     */
    public static void layerNormBackward(double[] dY, double[] x, double[] w, int N, int C, double eps,
                                         double[] dX, double[] dW, double[] dB) {
        for (int n = 0; n < N; n++) {
            double[] norm = norm(x, n, C, eps);
            double rstd = rstd(x, n, C, eps);
            for (int c = 0; c < C; c++) {
                if (dW != null) dW[c] += norm[c] * dY[n * C + c];
                if (dB != null) dB[c] += dY[n * C + c];
            }
            if (dX == null) continue;
            for (int i = 0; i < C; i++) {
                double acc = 0;
                for (int j = 0; j < C; j++) {
                    double jac = rstd * ((i == j ? 1 : 0) - 1.0 / C - norm[i] * norm[j] / C);
                    acc += w[j] * dY[n * C + j] * jac;
                }
                dX[n * C + i] += acc;
            }
        }
    }

    private static double[] norm(double[] x, int n, int C, double eps) {
        double mean = 0;
        for (int c = 0; c < C; c++) mean += x[n * C + c];
        mean /= C;
        double r = rstd(x, n, C, eps);
        double[] out = new double[C];
        for (int c = 0; c < C; c++) out[c] = (x[n * C + c] - mean) * r;
        return out;
    }

    private static double rstd(double[] x, int n, int C, double eps) {
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++) mean += x[n * C + c];
        mean /= C;
        for (int c = 0; c < C; c++) var += (x[n * C + c] - mean) * (x[n * C + c] - mean);
        return 1.0 / Math.sqrt(var / C + eps);
    }

    /** Elementwise activations with their derivatives. */
    public enum Act {
        GELU, RELU, TANH;

        public double f(double x) {
            return switch (this) {
                case GELU -> 0.5 * x * (1 + MathUtil.erf(x / Math.sqrt(2)));
                case RELU -> Math.max(0, x);
                case TANH -> Math.tanh(x);
            };
        }

        public double df(double x) {
            return switch (this) {
                case GELU -> 0.5 * (1 + MathUtil.erf(x / Math.sqrt(2))) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
                case RELU -> x > 0 ? 1 : 0;
                case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            };
        }

        public double[] apply(double[] x) {
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) y[i] = f(x[i]);
            return y;
        }

        /** dX += dY·f'(x). */
        public void backward(double[] dY, double[] x, double[] dX) {
            for (int i = 0; i < x.length; i++) dX[i] += dY[i] * df(x[i]);
        }
    }

    /** y = x⊙m, m the dropout multipliers (0 or 1/(1 − p)); null m = identity. Backward is the same map. */
    public static double[] dropout(double[] x, double[] m) {
        if (m == null) return x.clone();
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * m[i];
        return y;
    }

    /** y = a + b. */
    public static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** a += b. */
    public static void addInto(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }

    /**
     * Attention probabilities att = softmax(Q·Kᵀ/√D + mask) per (b, h, t), masked keys excluded, a fully masked row
     * all 0. q, k: (B, T, C). Returns att: (B, H, T, T).
     */
    public static double[] attentionProbs(double[] q, double[] k, int[] mask, int B, int T, int H, int D) {
        int C = H * D;
        double[] att = new double[B * H * T * T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    double[] pre = new double[T];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < T; j++) {
                        if (mask[b * T + j] == 0) continue;
                        for (int d = 0; d < D; d++) pre[j] += q[(b * T + t) * C + h * D + d] * k[(b * T + j) * C + h * D + d];
                        pre[j] /= Math.sqrt(D);
                        max = Math.max(max, pre[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < T; j++) if (mask[b * T + j] != 0) sum += Math.exp(pre[j] - max);
                    for (int j = 0; j < T; j++) {
                        att[((b * H + h) * T + t) * T + j] = mask[b * T + j] == 0 ? 0 : Math.exp(pre[j] - max) / sum;
                    }
                }
            }
        }
        return att;
    }

    /** out = dropout(att)·V per head. att: (B, H, T, T), drop: its multipliers or null, v: (B, T, C). */
    public static double[] attentionValues(double[] att, double[] drop, double[] v, int B, int T, int H, int D) {
        int C = H * D;
        double[] a = dropout(att, drop);
        double[] out = new double[B * T * C];
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) for (int t = 0; t < T; t++) {
            for (int j = 0; j < T; j++) {
                double p = a[((b * H + h) * T + t) * T + j];
                for (int d = 0; d < D; d++) out[(b * T + t) * C + h * D + d] += p * v[(b * T + j) * C + h * D + d];
            }
        }
        return out;
    }

    /**
     * Backward of {@code out = dropout(softmax(QKᵀ/√D + mask))·V}, the softmax through its Jacobian
     * {@code ∂att_i/∂pre_j = att_i(δij − att_j)}: accumulates dQ, dK, dV (B, T, C).
     */
    public static void attentionBackward(double[] dOut, double[] q, double[] k, double[] v, double[] att, double[] drop,
                                         int B, int T, int H, int D, double[] dQ, double[] dK, double[] dV) {
        int C = H * D;
        double scale = 1 / Math.sqrt(D);
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) for (int t = 0; t < T; t++) {
            int ai = ((b * H + h) * T + t) * T;
            double[] dAtt = new double[T];
            for (int j = 0; j < T; j++) {
                double m = drop == null ? 1 : drop[ai + j];
                for (int d = 0; d < D; d++) {
                    double g = dOut[(b * T + t) * C + h * D + d];
                    dAtt[j] += g * v[(b * T + j) * C + h * D + d] * m;          // through out = (att⊙m)·V
                    dV[(b * T + j) * C + h * D + d] += att[ai + j] * m * g;
                }
            }
            for (int j = 0; j < T; j++) {
                double dPre = 0;
                for (int i = 0; i < T; i++) dPre += dAtt[i] * att[ai + i] * ((i == j ? 1 : 0) - att[ai + j]);
                for (int d = 0; d < D; d++) {
                    dQ[(b * T + t) * C + h * D + d] += dPre * scale * k[(b * T + j) * C + h * D + d];
                    dK[(b * T + j) * C + h * D + d] += dPre * scale * q[(b * T + t) * C + h * D + d];
                }
            }
        }
    }

    /** Mean cross-entropy over B rows of (B, K) logits. */
    public static double crossEntropy(double[] logits, int[] labels, int B, int K) {
        double total = 0;
        for (int b = 0; b < B; b++) {
            double sum = 0;
            for (int k = 0; k < K; k++) sum += Math.exp(logits[b * K + k]);
            total += Math.log(sum) - logits[b * K + labels[b]];
        }
        return total / B;
    }

    /** d(cross-entropy)/d(logits), times dLoss. */
    public static double[] crossEntropyBackward(double[] logits, int[] labels, int B, int K, double dLoss) {
        double[] d = new double[B * K];
        for (int b = 0; b < B; b++) {
            double sum = 0;
            for (int k = 0; k < K; k++) sum += Math.exp(logits[b * K + k]);
            for (int k = 0; k < K; k++) d[b * K + k] = dLoss * (Math.exp(logits[b * K + k]) / sum - (k == labels[b] ? 1 : 0)) / B;
        }
        return d;
    }

    /** Mean squared error over B predictions. */
    public static double mse(double[] pred, double[] target) {
        double s = 0;
        for (int i = 0; i < pred.length; i++) s += (pred[i] - target[i]) * (pred[i] - target[i]);
        return s / pred.length;
    }

    /** Pooling as a weighted sum over positions: pooled[b] = Σ_t w[b,t]·h[b,t]. w: (B, T), h: (B, T, C). */
    public static double[] pool(double[] h, double[] w, int B, int T, int C) {
        double[] p = new double[B * C];
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) for (int c = 0; c < C; c++) {
            p[b * C + c] += w[b * T + t] * h[(b * T + t) * C + c];
        }
        return p;
    }

    /** dH += w[b,t]·dPooled[b]. */
    public static void poolBackward(double[] dPooled, double[] w, int B, int T, int C, double[] dH) {
        for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) for (int c = 0; c < C; c++) {
            dH[(b * T + t) * C + c] += w[b * T + t] * dPooled[b * C + c];
        }
    }

    /** Pooling weights written out per mode name: first token, mean over attended, mean over attended non-special. */
    public static double[] poolWeights(String mode, int[] mask, int[] special, int B, int T) {
        double[] w = new double[B * T];
        for (int b = 0; b < B; b++) {
            if (mode.equals("FIRST_TOKEN")) { w[b * T] = 1; continue; }
            int count = 0;
            for (int t = 0; t < T; t++) {
                if (mask[b * T + t] == 1 && (mode.equals("MEAN_NON_PAD") || special[b * T + t] == 0)) count++;
            }
            for (int t = 0; t < T; t++) {
                if (mask[b * T + t] == 1 && (mode.equals("MEAN_NON_PAD") || special[b * T + t] == 0)) w[b * T + t] = 1.0 / count;
            }
        }
        return w;
    }
}

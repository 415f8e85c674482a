package org.varitune.transformer.reference;

/**
 * Double-precision oracle of bidirectional multi-head attention with a key-padding mask:
 * {@code att = softmax(Q·Kᵀ/√D, padded keys excluded)}, {@code out = att·V}, a row with every key padded gives
 * {@code att = 0, out = 0}. Layout as in {@link org.varitune.transformer.kernels.Kernels#attentionForward}.
 */
public final class AttentionRef {
    private AttentionRef() {}

    /** out, q, k, v: (B, T, C = H·D); att: (B, H, T, T) or null, overwritten; mask: (B, T), 0 = padding. */
    public static void forward(double[] out, double[] att, double[] q, double[] k, double[] v, int[] mask,
                               int B, int T, int H, int D) {
        int C = H * D;
        double[] p = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < T; u++) {
                        if (mask[b * T + u] == 0) continue;
                        double dot = 0;
                        for (int d = 0; d < D; d++) dot += q[(b * T + t) * C + h * D + d] * k[(b * T + u) * C + h * D + d];
                        p[u] = dot / Math.sqrt(D);
                        max = Math.max(max, p[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u < T; u++) {
                        p[u] = mask[b * T + u] == 0 ? 0 : Math.exp(p[u] - max);
                        sum += p[u];
                    }
                    for (int u = 0; u < T; u++) p[u] = sum == 0 ? 0 : p[u] / sum;
                    if (att != null) System.arraycopy(p, 0, att, ((b * H + h) * T + t) * T, T);
                    for (int d = 0; d < D; d++) {
                        double acc = 0;
                        for (int u = 0; u < T; u++) acc += p[u] * v[(b * T + u) * C + h * D + d];
                        out[(b * T + t) * C + h * D + d] = acc;
                    }
                }
            }
        }
    }

    /** dQ, dK, dV: (B, T, C), accumulated; att from {@link #forward}. */
    public static void backward(double[] dQ, double[] dK, double[] dV, double[] dOut, double[] q, double[] k,
                                double[] v, double[] att, int B, int T, int H, int D) {
        int C = H * D;
        double[] dPre = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    int o = (b * T + t) * C + h * D, a = ((b * H + h) * T + t) * T;
                    // forward was: out[t, d] = Σ_u att[t, u]·v[u, d]
                    double rowDot = 0;
                    for (int u = 0; u < T; u++) {
                        double dAtt = 0;
                        for (int d = 0; d < D; d++) {
                            dAtt += dOut[o + d] * v[(b * T + u) * C + h * D + d];
                            dV[(b * T + u) * C + h * D + d] += att[a + u] * dOut[o + d];
                        }
                        dPre[u] = dAtt;
                        rowDot += att[a + u] * dAtt;
                    }
                    // forward was: att[t, :] = softmax(pre[t, :]), pre[t, u] = Σ_d q[t, d]·k[u, d]/√D
                    for (int u = 0; u < T; u++) {
                        double g = att[a + u] * (dPre[u] - rowDot) / Math.sqrt(D);
                        for (int d = 0; d < D; d++) {
                            dQ[o + d] += g * k[(b * T + u) * C + h * D + d];
                            dK[(b * T + u) * C + h * D + d] += g * q[o + d];
                        }
                    }
                }
            }
        }
    }
}

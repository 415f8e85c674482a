package org.varitune.transformer.kernels;

/**
 * Scalar loops for the attention split into its two halves (probabilities, then probabilities·V), used when
 * attention-probability dropout sits between them. They are the default implementations of the corresponding
 * {@link Kernels} methods, and {@link CpuKernels}' fused attention is these two halves run back to back (double
 * accumulation, float outputs).
 */
final class SplitAttention {
    private SplitAttention() {}

    /** att = softmax(Q·Kᵀ/√D + mask); a fully masked row gets att = 0. att: (B, H, T, T) overwritten. */
    static void probs(float[] att, float[] q, float[] k, int[] attentionMask, int B, int T, int H, int D) {
        int C = H * D;
        double scale = 1.0 / Math.sqrt(D);
        double[] row = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    int qi = (b * T + t) * C + h * D;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 < T; t2++) {
                        if (attentionMask[b * T + t2] == 0) { row[t2] = Double.NEGATIVE_INFINITY; continue; }
                        int ki = (b * T + t2) * C + h * D;
                        double dot = 0.0;
                        for (int d = 0; d < D; d++) dot += (double) q[qi + d] * k[ki + d];
                        row[t2] = dot * scale;
                        max = Math.max(max, row[t2]);
                    }
                    double sum = 0.0;
                    for (int t2 = 0; t2 < T; t2++) {
                        row[t2] = max == Double.NEGATIVE_INFINITY ? 0.0 : Math.exp(row[t2] - max);
                        sum += row[t2];
                    }
                    double inv = sum == 0.0 ? 0.0 : 1.0 / sum;
                    int ai = ((b * H + h) * T + t) * T;
                    for (int t2 = 0; t2 < T; t2++) att[ai + t2] = (float) (row[t2] * inv);
                }
            }
        }
    }

    /** out[b,t,h·D+d] = Σ_t2 att[b,h,t,t2]·v[b,t2,h·D+d]. out: (B, T, C) overwritten. */
    static void values(float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        int C = H * D;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    int ai = ((b * H + h) * T + t) * T, oi = (b * T + t) * C + h * D;
                    for (int d = 0; d < D; d++) {
                        double acc = 0.0;
                        for (int t2 = 0; t2 < T; t2++) acc += (double) att[ai + t2] * v[(b * T + t2) * C + h * D + d];
                        out[oi + d] = (float) acc;
                    }
                }
            }
        }
    }

    /** forward was out = att·V: dAtt += dOut·Vᵀ, dV += attᵀ·dOut. */
    static void valuesBackward(float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                               int B, int T, int H, int D) {
        int C = H * D;
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    int ai = ((b * H + h) * T + t) * T, oi = (b * T + t) * C + h * D;
                    for (int t2 = 0; t2 < T; t2++) {
                        int vi = (b * T + t2) * C + h * D;
                        double acc = 0.0;
                        for (int d = 0; d < D; d++) {
                            acc += (double) dOut[oi + d] * v[vi + d];
                            dV[vi + d] += att[ai + t2] * dOut[oi + d];
                        }
                        dAtt[ai + t2] += (float) acc;
                    }
                }
            }
        }
    }

    /** forward was att = softmax(pre), pre = Q·Kᵀ/√D: dPre = att⊙(dAtt − rowsum(att⊙dAtt)); dQ, dK accumulated. */
    static void probsBackward(float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q, float[] k,
                              int B, int T, int H, int D) {
        int C = H * D;
        double scale = 1.0 / Math.sqrt(D);
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int t = 0; t < T; t++) {
                    int ai = ((b * H + h) * T + t) * T, qi = (b * T + t) * C + h * D;
                    double rowDot = 0.0;
                    for (int t2 = 0; t2 < T; t2++) rowDot += (double) att[ai + t2] * dAtt[ai + t2];
                    for (int t2 = 0; t2 < T; t2++) {
                        double dPre = att[ai + t2] * (dAtt[ai + t2] - rowDot) * scale;
                        if (dPre == 0.0) continue;
                        int ki = (b * T + t2) * C + h * D;
                        for (int d = 0; d < D; d++) {
                            if (dQ != null) dQ[qi + d] += (float) (dPre * k[ki + d]);
                            if (dK != null) dK[ki + d] += (float) (dPre * q[qi + d]);
                        }
                    }
                }
            }
        }
    }
}

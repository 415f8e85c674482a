package org.varitune.transformer.reference;

import org.varitune.transformer.kernels.MathUtil;

/**
 * The double-precision oracle of every layer, as naive loops in the style of llm.c's {@code *_cpu} reference
 * functions: each {@code xForward} with its {@code xBackward}, written independently of the float kernels (the
 * LayerNorm and softmax backwards go through their full Jacobians, not the kernels' closed forms). Conventions of
 * {@link org.varitune.transformer.kernels.Kernels}: forwards overwrite their outputs; backwards <b>accumulate</b>
 * into their gradient arrays and skip the null ones. Shapes: N rows, C (IC, OC) channels, B batch, T sequence,
 * H heads, D head size, R adapter bottleneck.
 */
public final class DoubleLayers {
    private DoubleLayers() {}

    // ---------------------------------------------------------------- matmul (Linear)

    /** {@code out = x·Wᵀ + b}. out: (N, OC) overwritten; x: (N, IC); weight: (OC, IC); bias: (OC) or null. */
    public static void matmulForward(double[] out, double[] x, double[] weight, double[] bias, int N, int IC, int OC) {
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double acc = bias == null ? 0 : bias[o];
                for (int i = 0; i < IC; i++) acc += x[n * IC + i] * weight[o * IC + i];
                out[n * OC + o] = acc;
            }
        }
    }

    /** {@code dX += dOut·W}, {@code dW += dOutᵀ·x}, {@code dB += Σ_n dOut}. dX: (N, IC), dWeight: (OC, IC), dBias: (OC). */
    public static void matmulBackward(double[] dX, double[] dWeight, double[] dBias, double[] dOut, double[] x,
                                      double[] weight, int N, int IC, int OC) {
        // forward was: out[n, o] = bias[o] + Σ_i x[n, i]·weight[o, i]
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double d = dOut[n * OC + o];
                if (dBias != null) dBias[o] += d;
                for (int i = 0; i < IC; i++) {
                    if (dX != null) dX[n * IC + i] += d * weight[o * IC + i];
                    if (dWeight != null) dWeight[o * IC + i] += d * x[n * IC + i];
                }
            }
        }
    }

    // ---------------------------------------------------------------- LayerNorm

    /**
     * {@code out = (x − mean)·rstd·weight + bias} per row, {@code rstd = 1/sqrt(var + eps)}, population variance,
     * two-pass. out: (N, C) overwritten; mean, rstd: (N) overwritten or null; x: (N, C); weight, bias: (C).
     */
    public static void layerNormForward(double[] out, double[] mean, double[] rstd, double[] x, double[] weight,
                                        double[] bias, int N, int C, double eps) {
        for (int n = 0; n < N; n++) {
            double m = 0;
            for (int c = 0; c < C; c++) m += x[n * C + c];
            m /= C;
            double v = 0;
            for (int c = 0; c < C; c++) v += (x[n * C + c] - m) * (x[n * C + c] - m);
            v /= C;
            double s = 1 / Math.sqrt(v + eps);
            for (int c = 0; c < C; c++) out[n * C + c] = (x[n * C + c] - m) * s * weight[c] + bias[c];
            if (mean != null) mean[n] = m;
            if (rstd != null) rstd[n] = s;
        }
    }

    /**
     * Through the Jacobian {@code ∂norm_j/∂x_i = rstd·(δij − 1/C − norm_i·norm_j/C)}:
     * {@code dX_i += Σ_j weight_j·dOut_j·∂norm_j/∂x_i}, {@code dWeight += norm⊙dOut}, {@code dBias += dOut}.
     * dX: (N, C), dWeight, dBias: (C); mean, rstd: (N) from {@link #layerNormForward}.
     */
    public static void layerNormBackward(double[] dX, double[] dWeight, double[] dBias, double[] dOut, double[] x,
                                         double[] mean, double[] rstd, double[] weight, int N, int C) {
        double[] norm = new double[C];                               // norm: (C) one row
        for (int n = 0; n < N; n++) {
            // forward was: out[c] = norm[c]·weight[c] + bias[c], norm[c] = (x[c] − mean)·rstd
            for (int c = 0; c < C; c++) {
                norm[c] = (x[n * C + c] - mean[n]) * rstd[n];
                if (dWeight != null) dWeight[c] += norm[c] * dOut[n * C + c];
                if (dBias != null) dBias[c] += dOut[n * C + c];
            }
            if (dX == null) continue;
            for (int i = 0; i < C; i++) {
                double acc = 0;
                for (int j = 0; j < C; j++) {
                    double jac = rstd[n] * ((i == j ? 1 : 0) - 1.0 / C - norm[i] * norm[j] / C);
                    acc += weight[j] * dOut[n * C + j] * jac;
                }
                dX[n * C + i] += acc;
            }
        }
    }

    // ---------------------------------------------------------------- activations, dropout, residual

    /** Elementwise activations: the encoder's GELU, the adapters' GELU or ReLU, the BERT pooler's tanh. */
    public enum Act {
        /**
         * Exact GELU {@code x·Φ(x) = 0.5·x·(1 + erf(x/√2))}, with {@code Φ(x) = 0.5·erfc(−x/√2)} (no cancellation
         * for x < 0).
         */
        GELU,
        /** {@code max(0, x)}. */
        RELU,
        /** {@code tanh(x)}. */
        TANH;

        /** out: (n) overwritten; {@code out = f(x)}. */
        public void forward(double[] out, double[] x, int n) {
            for (int i = 0; i < n; i++) {
                out[i] = switch (this) {
                    case GELU -> x[i] * 0.5 * MathUtil.erfc(-x[i] / Math.sqrt(2));
                    case RELU -> Math.max(0, x[i]);
                    case TANH -> Math.tanh(x[i]);
                };
            }
        }

        /** dX: (n) accumulated; {@code dX += dOut·f'(x)}. */
        public void backward(double[] dX, double[] dOut, double[] x, int n) {
            for (int i = 0; i < n; i++) {
                // forward was: out = x·Φ(x) | max(0, x) | tanh(x)
                double d = switch (this) {
                    case GELU -> 0.5 * MathUtil.erfc(-x[i] / Math.sqrt(2)) + x[i] * Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
                    case RELU -> x[i] > 0 ? 1 : 0;
                    case TANH -> 1 - Math.tanh(x[i]) * Math.tanh(x[i]);
                };
                dX[i] += dOut[i] * d;
            }
        }
    }

    /** {@code out = x⊙m}, m the dropout multipliers (0 or 1/(1 − p)), null m = identity. out, x, m: (n). */
    public static void dropoutForward(double[] out, double[] x, double[] m, int n) {
        for (int i = 0; i < n; i++) out[i] = m == null ? x[i] : x[i] * m[i];
    }

    /** dX: (n) accumulated; {@code dX += dOut⊙m}. */
    public static void dropoutBackward(double[] dX, double[] dOut, double[] m, int n) {
        // forward was: out[i] = x[i]·m[i]
        for (int i = 0; i < n; i++) dX[i] += m == null ? dOut[i] : dOut[i] * m[i];
    }

    /** {@code out = a + b}. out, a, b: (n). */
    public static void residualForward(double[] out, double[] a, double[] b, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }

    /** dA, dB: (n) accumulated or null; {@code dA += dOut, dB += dOut}. */
    public static void residualBackward(double[] dA, double[] dB, double[] dOut, int n) {
        // forward was: out[i] = a[i] + b[i]
        for (int i = 0; i < n; i++) {
            if (dA != null) dA[i] += dOut[i];
            if (dB != null) dB[i] += dOut[i];
        }
    }

    // ---------------------------------------------------------------- attention

    /**
     * Bidirectional multi-head attention with a key-padding mask and dropout on the probabilities:
     * {@code att = softmax(Q·Kᵀ/√D)} over the keys with mask 1 (masked keys get exactly 0; a row whose keys are all
     * masked is all 0, so its output is 0 — HF would attend uniformly there), {@code out = (att⊙m)·V}.
     * out: (B, T, C = H·D) overwritten; att: (B, H, T, T) overwritten, or null; q, k, v: (B, T, C);
     * mask: (B, T), 0 = padding; attDrop: (B, H, T, T) multipliers, or null.
     */
    public static void attentionForward(double[] out, double[] att, double[] q, double[] k, double[] v, int[] mask,
                                        double[] attDrop, int B, int T, int H, int D) {
        int C = H * D;
        double[] p = new double[T];                                  // p: (T) one query row of att
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
                    int a = ((b * H + h) * T + t) * T;
                    for (int u = 0; u < T; u++) p[u] = sum == 0 ? 0 : p[u] / sum;
                    if (att != null) System.arraycopy(p, 0, att, a, T);
                    for (int d = 0; d < D; d++) {
                        double acc = 0;
                        for (int u = 0; u < T; u++) {
                            acc += p[u] * (attDrop == null ? 1 : attDrop[a + u]) * v[(b * T + u) * C + h * D + d];
                        }
                        out[(b * T + t) * C + h * D + d] = acc;
                    }
                }
            }
        }
    }

    /**
     * The softmax through its Jacobian {@code ∂att_u/∂pre_j = att_u·(δuj − att_j)}. dQ, dK, dV: (B, T, C)
     * accumulated; att: (B, H, T, T) from {@link #attentionForward}; attDrop as there.
     */
    public static void attentionBackward(double[] dQ, double[] dK, double[] dV, double[] dOut, double[] q, double[] k,
                                         double[] v, double[] att, double[] attDrop, int B, int T, int H, int D) {
        int C = H * D;
        double scale = 1 / Math.sqrt(D);
        double[] dAtt = new double[T];                               // dAtt: (T) one query row
        for (int b = 0; b < B; b++) for (int h = 0; h < H; h++) for (int t = 0; t < T; t++) {
            int a = ((b * H + h) * T + t) * T, o = (b * T + t) * C + h * D;
            // forward was: out[t, d] = Σ_u att[t, u]·m[t, u]·v[u, d]
            for (int u = 0; u < T; u++) {
                double m = attDrop == null ? 1 : attDrop[a + u];
                dAtt[u] = 0;
                for (int d = 0; d < D; d++) {
                    dAtt[u] += dOut[o + d] * v[(b * T + u) * C + h * D + d] * m;
                    dV[(b * T + u) * C + h * D + d] += att[a + u] * m * dOut[o + d];
                }
            }
            // forward was: att[t, :] = softmax(pre[t, :]), pre[t, j] = Σ_d q[t, d]·k[j, d]/√D
            for (int j = 0; j < T; j++) {
                double dPre = 0;
                for (int u = 0; u < T; u++) dPre += dAtt[u] * att[a + u] * ((u == j ? 1 : 0) - att[a + j]);
                for (int d = 0; d < D; d++) {
                    dQ[o + d] += dPre * scale * k[(b * T + j) * C + h * D + d];
                    dK[(b * T + j) * C + h * D + d] += dPre * scale * q[o + d];
                }
            }
        }
    }

    // ---------------------------------------------------------------- embeddings

    /**
     * Position ids per family: BERT and DistilBERT {@code p = t}; RoBERTa
     * {@code p = padding_idx + cumsum(id ≠ pad)} at real tokens and {@code padding_idx} at pads (HF
     * {@code create_position_ids_from_input_ids}). ids: (B, T); returns (B, T).
     */
    public static int[] positionIds(String modelType, int[] ids, int padTokenId, int B, int T) {
        int[] pos = new int[B * T];
        for (int b = 0; b < B; b++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                int i = b * T + t;
                if (!modelType.equals("roberta")) { pos[i] = t; continue; }
                if (ids[i] != padTokenId) count++;
                pos[i] = ids[i] != padTokenId ? padTokenId + count : padTokenId;
            }
        }
        return pos;
    }

    /**
     * {@code out[n] = word[ids[n]] + position[pos[n]] + type[types[n]]}, the last term absent when {@code type} is
     * null (DistilBERT); null types = all 0. out: (N, C) overwritten; ids, pos, types: (N); tables (rows, C).
     */
    public static void embeddingsForward(double[] out, int[] ids, int[] pos, int[] types, double[] word,
                                         double[] position, double[] type, int N, int C) {
        for (int n = 0; n < N; n++) {
            int id = ids[n], p = pos[n], s = types == null ? 0 : types[n];
            check("token id", id, n, word.length / C);
            check("position id", p, n, position.length / C);
            if (type != null) check("token type id", s, n, type.length / C);
            for (int c = 0; c < C; c++) {
                out[n * C + c] = word[id * C + c] + position[p * C + c] + (type == null ? 0 : type[s * C + c]);
            }
        }
    }

    private static void check(String what, int v, int n, int rows) {
        if (v < 0 || v >= rows) throw new IllegalArgumentException(what + " " + v + " at flat index " + n + " outside [0, " + rows + ")");
    }

    /**
     * Scatter-add of dOut into the looked-up rows, except HF's {@code padding_idx} rows, which get no gradient
     * although the forward reads them: the word row {@code padTokenId}, and the position row
     * {@code positionPadRow} (RoBERTa's padding_idx; −1 for none). dWord, dPosition, dType: tables, accumulated or
     * null; dOut: (N, C).
     */
    public static void embeddingsBackward(double[] dWord, double[] dPosition, double[] dType, double[] dOut, int[] ids,
                                          int[] pos, int[] types, int padTokenId, int positionPadRow, int N, int C) {
        // forward was: out[n] = word[ids[n]] + position[pos[n]] + type[types[n]]
        for (int n = 0; n < N; n++) for (int c = 0; c < C; c++) {
            if (dWord != null && ids[n] != padTokenId) dWord[ids[n] * C + c] += dOut[n * C + c];
            if (dPosition != null && pos[n] != positionPadRow) dPosition[pos[n] * C + c] += dOut[n * C + c];
            if (dType != null) dType[(types == null ? 0 : types[n]) * C + c] += dOut[n * C + c];
        }
    }

    // ---------------------------------------------------------------- adapter

    /**
     * Houlsby adapter {@code out = x + up(drop(act(down(x))))}. out: (N, C) overwritten; z: (N, R) the
     * pre-activation, overwritten; a: (N, R) the dropped activation, overwritten; x: (N, C); downW: (R, C),
     * downB: (R), upW: (C, R), upB: (C); m: (N, R) bottleneck dropout multipliers or null.
     */
    public static void adapterForward(double[] out, double[] z, double[] a, double[] x, double[] downW, double[] downB,
                                      double[] upW, double[] upB, double[] m, Act act, int N, int C, int R) {
        matmulForward(z, x, downW, downB, N, C, R);
        act.forward(a, z, N * R);
        dropoutForward(a, a, m, N * R);
        matmulForward(out, a, upW, upB, N, R, C);
        residualForward(out, out, x, N * C);
    }

    /** dX: (N, C) and the four parameter gradients accumulated; z, a from {@link #adapterForward}. */
    public static void adapterBackward(double[] dX, double[] dDownW, double[] dDownB, double[] dUpW, double[] dUpB,
                                       double[] dOut, double[] x, double[] z, double[] a, double[] downW, double[] upW,
                                       double[] m, Act act, int N, int C, int R) {
        // forward was: out = up(a) + x
        residualBackward(dX, null, dOut, N * C);
        double[] dA = new double[N * R];                             // dA: (N, R)
        matmulBackward(dA, dUpW, dUpB, dOut, a, upW, N, R, C);
        // forward was: a = drop(act(z))
        double[] dAct = new double[N * R], dZ = new double[N * R];
        dropoutBackward(dAct, dA, m, N * R);
        act.backward(dZ, dAct, z, N * R);
        // forward was: z = down(x)
        matmulBackward(dX, dDownW, dDownB, dZ, x, downW, N, C, R);
    }
}

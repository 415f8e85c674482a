package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Multi-head attention forward and backward on the Vector API, parallel over the B·H (batch, head) pairs, each pair's
 * products done by {@link VectorGemm} on per-chunk scratch (Kᵀ or Vᵀ of the head: (D, T); scores: (T, T)).
 * Formulas as in {@link Kernels#attentionForward} and {@link CpuKernels}; sums in float.
 */
final class VectorAttention {
    private VectorAttention() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    static void forward(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                        int B, int T, int H, int D) {
        // out, q, k, v: (B, T, C)  att: (B, H, T, T)  attentionMask: (B, T)
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            float[] kt = new float[D * T];                       // (D, T)
            float[] scratch = att == null ? new float[T * T] : null; // (T, T)
            float[] bias = new float[T];                         // (T): 0 to attend, −∞ for padding
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / H, h = bh % H;
                int base = b * T * C + h * D;                  // (b, 0, h·D)
                for (int t2 = 0; t2 < T; t2++) {
                    bias[t2] = attentionMask[b * T + t2] == 0 ? Float.NEGATIVE_INFINITY : 0f;
                }
                float[] p = att == null ? scratch : att;
                int pOff = att == null ? 0 : bh * T * T;
                // pre[t, t2] = Σ_d q[t, d]·k[t2, d]
                VectorGemm.transpose(kt, 0, T, k, base, C, D, T);
                VectorGemm.gemm(q, base, C, 1, kt, 0, T, p, pOff, T, 0, T, T, D, false, null);
                // att[t, :] = softmax(pre[t, :]·scale + bias)
                for (int t = 0; t < T; t++) softmaxRow(p, pOff + t * T, T, scale, bias);
                // out[t, d] = Σ_t2 att[t, t2]·v[t2, d]
                VectorGemm.gemm(p, pOff, T, 1, v, base, C, out, base, C, 0, T, D, T, false, null);
            }
        });
    }

    /** In place: {@code r = exp(s·scale + bias − max)/Σ}, with a row whose bias is all −∞ set to 0. */
    private static void softmaxRow(float[] r, int off, int T, float scale, float[] bias) {
        int e = S.loopBound(T), i = 0;
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; i < e; i += VL) {
            FloatVector s = FloatVector.fromArray(S, r, off + i).mul(scale).add(FloatVector.fromArray(S, bias, i));
            s.intoArray(r, off + i);
            mv = mv.max(s);
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < T; i++) {
            r[off + i] = r[off + i] * scale + bias[i];
            max = Math.max(max, r[off + i]);
        }
        if (max == Float.NEGATIVE_INFINITY) {                    // every key masked: att = 0, out = 0
            java.util.Arrays.fill(r, off, off + T, 0f);
            return;
        }
        i = 0;
        for (; i < e; i += VL) {
            FloatVector x = FastGelu.exp(FloatVector.fromArray(S, r, off + i).sub(max));   // deterministic exp
            x.intoArray(r, off + i);
        }
        for (; i < T; i++) r[off + i] = FastGelu.expScalar(r[off + i] - max);   // exp(−∞) = 0: padded keys get 0
        float sum = 0f;                                              // in index order: bit-identical across JIT tiers
        for (i = 0; i < T; i++) sum += r[off + i];
        float inv = 1f / sum;
        i = 0;
        for (; i < e; i += VL) FloatVector.fromArray(S, r, off + i).mul(inv).intoArray(r, off + i);
        for (; i < T; i++) r[off + i] *= inv;
    }

    static void backward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k, float[] v,
                         float[] att, int B, int T, int H, int D) {
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            float[] vt = new float[D * T];       // (D, T)
            float[] dPre = new float[T * T];     // (T, T)
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / H, h = bh % H;
                int base = b * T * C + h * D;
                int aOff = bh * T * T;
                // forward was: out[t, d] = Σ_t2 att[t, t2]·v[t2, d]
                // so dV[t2, d] += Σ_t att[t, t2]·dOut[t, d]  and  dAtt[t, t2] = Σ_d dOut[t, d]·v[t2, d]
                VectorGemm.gemm(att, aOff, 1, T, dOut, base, C, dV, base, C, 0, T, D, T, true, null);
                VectorGemm.transpose(vt, 0, T, v, base, C, D, T);
                VectorGemm.gemm(dOut, base, C, 1, vt, 0, T, dPre, 0, T, 0, T, T, D, false, null);
                // forward was: att = softmax(pre·scale); so dPre = att⊙(dAtt − Σ_t2 att⊙dAtt)·scale
                for (int t = 0; t < T; t++) softmaxBackwardRow(dPre, t * T, att, aOff + t * T, T, scale);
                // forward was: pre[t, t2] = Σ_d q[t, d]·k[t2, d]
                // so dQ[t, d] += Σ_t2 dPre[t, t2]·k[t2, d]  and  dK[t2, d] += Σ_t dPre[t, t2]·q[t, d]
                VectorGemm.gemm(dPre, 0, T, 1, k, base, C, dQ, base, C, 0, T, D, T, true, null);
                VectorGemm.gemm(dPre, 0, 1, T, q, base, C, dK, base, C, 0, T, D, T, true, null);
            }
        });
    }

    /** In place on d (holding dAtt): {@code d = a⊙(d − Σ a⊙d)·scale}. */
    private static void softmaxBackwardRow(float[] d, int dOff, float[] a, int aOff, int T, float scale) {
        int e = S.loopBound(T), i = 0;
        float dot = 0f;                                              // in index order: bit-identical across JIT tiers
        for (; i < T; i++) dot = Math.fma(a[aOff + i], d[dOff + i], dot);
        i = 0;
        for (; i < e; i += VL) {
            FloatVector.fromArray(S, d, dOff + i).sub(dot).mul(FloatVector.fromArray(S, a, aOff + i)).mul(scale)
                    .intoArray(d, dOff + i);
        }
        for (; i < T; i++) d[dOff + i] = a[aOff + i] * (d[dOff + i] - dot) * scale;
    }
}

package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static org.varitune.transformer.kernels.FastGelu.E0;
import static org.varitune.transformer.kernels.FastGelu.E1;
import static org.varitune.transformer.kernels.FastGelu.E2;
import static org.varitune.transformer.kernels.FastGelu.E3;
import static org.varitune.transformer.kernels.FastGelu.E4;
import static org.varitune.transformer.kernels.FastGelu.E5;
import static org.varitune.transformer.kernels.FastGelu.LN2_HI;
import static org.varitune.transformer.kernels.FastGelu.LN2_LO;
import static org.varitune.transformer.kernels.FastGelu.LOG2E;
import static org.varitune.transformer.kernels.FastGelu.ROUND;

/**
 * Multi-head attention, fused and split, forward and backward: parallel over the B·H (batch, head) pairs, and per pair
 * (each head a strided block of Q, K, V with leading dimension C) the (T × D)·(D × T) and (T × T)·(T × D) products
 * and the softmax as {@link Products} says: all in AVX-512 C ({@link NativeAttention}); or the products on
 * single-threaded OpenBLAS straight on the arrays ({@link NativeGemm}) and the softmax on the Vector API; or all on the
 * Vector API, products on {@link VectorGemm} with reused per-thread scratch (Kᵀ or Vᵀ of the head: (D, T)). A (T, T)
 * block for the probabilities or their gradient in every case. Formulas as in {@link Kernels#attentionForward} and {@link CpuKernels};
 * sums run in float.
 *
 * <h2>Deterministic</h2>
 * Every result is bit-identical from call to call, whichever thread runs a head, and whether the JIT has compiled the
 * loops or not: a single-threaded OpenBLAS product depends only on its shapes and operands; the Vector API ones are
 * FMA chains in k order (any tile shape gives the same chain per element), exp is
 * {@link FastGelu#exp}'s formula inlined by hand (IEEE operations only; {@code lanewise(EXP)} rounds differently
 * compiled and interpreted), and the row sums of the softmax and its backward are lane-wise partial sums followed by
 * a sum of the lanes in lane order, never {@code reduceLanes(ADD)} (whose order is unspecified). The row maximum does
 * use {@code reduceLanes(MAX)}: a maximum is exact in any order.
 *
 * <p>The fused kernels run the same per-head steps as the split ones, so {@code attentionForward} equals
 * {@code attentionProbs} then {@code attentionValues} bit for bit, and {@code attentionBackward} equals
 * {@code attentionValuesBackward} (into a zeroed dAtt) then {@code attentionProbsBackward}.
 */
final class VectorAttention {
    private VectorAttention() {}

    /** How each head's steps run. */
    enum Products {
        /** Products and softmax in AVX-512 C ({@link NativeAttention}). */
        AVX512,
        /** Products on single-threaded OpenBLAS straight on the arrays ({@link NativeGemm}), softmax here. */
        OPENBLAS,
        /** Everything here, products on {@link VectorGemm}. */
        VECTOR
    }

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();

    /** Per-thread scratch, grown on demand and reused across calls. */
    private static final class Work {
        float[] dt = new float[0];       // (D, T): Kᵀ or Vᵀ of one head
        float[] tt = new float[0];       // (T, T): probabilities (when att is not kept) or dAtt / dPre of one head
        float[] dropped = new float[0];  // (T, T): one head's probabilities after dropout
        float[] bias = new float[0];     // (T): 0 for a key to attend, −∞ for padding
        final float[] lanes = new float[VL];

        Work ensure(int T, int D) {
            if (dt.length < D * T) dt = new float[D * T];
            if (tt.length < T * T) tt = new float[T * T];
            if (dropped.length < T * T) dropped = new float[T * T];
            if (bias.length < T) bias = new float[T];
            return this;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    /**
     * out = att·V with att = softmax(Q·Kᵀ/√D + mask), or with {@code keepBits} non-null out = (att⊙m·dropScale)·V,
     * the dropout applied per head into scratch ({@link DropoutOps#applyRange}: the bits of
     * {@link DropoutOps#apply} on the whole of att). att (the probabilities before dropout) is written when non-null.
     */
    static void forward(Products impl, float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                        long[] keepBits, float dropScale, int B, int T, int H, int D) {
        // out, q, k, v: (B, T, C)  att: (B, H, T, T) or null  attentionMask: (B, T)  keepBits: ceil(B·H·T·T/64) or null
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            Work w = WORK.get().ensure(T, D);
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / H, base = b * T * C + (bh % H) * D;           // (b, 0, h·D)
                float[] p = att == null ? w.tt : att;
                int pOff = att == null ? 0 : bh * T * T;
                probsHead(impl, p, pOff, q, k, base, C, T, D, scale, attentionMask, b, w);
                if (keepBits == null) {
                    valuesHead(impl, out, p, pOff, v, base, C, T, D);
                } else {                                                    // dropped: (T, T) = att⊙m·dropScale
                    DropoutOps.applyRange(w.dropped, 0, p, pOff, keepBits, bh * T * T, dropScale, T * T);
                    valuesHead(impl, out, w.dropped, 0, v, base, C, T, D);
                }
            }
        });
    }

    /** att = softmax(Q·Kᵀ/√D + mask) per (b, h); see {@link Kernels#attentionProbs}. */
    static void probs(Products impl, float[] att, float[] q, float[] k, int[] attentionMask, int B, int T, int H, int D) {
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            Work w = WORK.get().ensure(T, D);
            for (int bh = lo; bh < hi; bh++) {
                int b = bh / H;
                probsHead(impl, att, bh * T * T, q, k, b * T * C + (bh % H) * D, C, T, D, scale, attentionMask, b, w);
            }
        });
    }

    /** out = att·V per (b, h); see {@link Kernels#attentionValues}. */
    static void values(Products impl, float[] out, float[] att, float[] v, int B, int T, int H, int D) {
        int C = H * D;
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            for (int bh = lo; bh < hi; bh++) {
                valuesHead(impl, out, att, bh * T * T, v, (bh / H) * T * C + (bh % H) * D, C, T, D);
            }
        });
    }

    /** forward was out = att·V: dAtt += dOut·Vᵀ, dV += attᵀ·dOut; see {@link Kernels#attentionValuesBackward}. */
    static void valuesBackward(Products impl, float[] dAtt, float[] dV, float[] dOut, float[] att, float[] v,
                               int B, int T, int H, int D) {
        int C = H * D;
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            Work w = WORK.get().ensure(T, D);
            for (int bh = lo; bh < hi; bh++) {
                int base = (bh / H) * T * C + (bh % H) * D, aOff = bh * T * T;
                valuesBackwardHead(impl, dAtt, aOff, true, dV, dOut, att, aOff, v, base, C, T, D, w);
            }
        });
    }

    /**
     * forward was att = softmax(pre), pre = Q·Kᵀ/√D: dPre = att⊙(dAtt − rowsum(att⊙dAtt))/√D, dQ += dPre·K,
     * dK += dPreᵀ·Q (each skipped when null); see {@link Kernels#attentionProbsBackward}.
     */
    static void probsBackward(Products impl, float[] dQ, float[] dK, float[] dAtt, float[] att, float[] q, float[] k,
                              int B, int T, int H, int D) {
        if (dQ == null && dK == null) return;
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            Work w = WORK.get().ensure(T, D);
            for (int bh = lo; bh < hi; bh++) {
                int base = (bh / H) * T * C + (bh % H) * D, aOff = bh * T * T;
                softmaxBackward(impl, dQ, dK, w.tt, dAtt, aOff, att, aOff, q, k, base, C, T, D, scale, w);
            }
        });
    }

    /**
     * Backward of {@link #forward}; with {@code keepBits} non-null, of its dropout form: per head attDrop =
     * att⊙m·dropScale (into scratch), dV += attDropᵀ·dOut, dAtt = (dOut·Vᵀ)⊙m·dropScale, then the softmax backward
     * and its products, as the split kernels with {@link DropoutOps#apply} between them.
     */
    static void backward(Products impl, float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k, float[] v,
                         float[] att, long[] keepBits, float dropScale, int B, int T, int H, int D) {
        int C = H * D;
        float scale = (float) (1.0 / Math.sqrt(D));
        Parallel.parallelForRange(B * H, 1, (lo, hi) -> {
            Work w = WORK.get().ensure(T, D);
            for (int bh = lo; bh < hi; bh++) {
                int base = (bh / H) * T * C + (bh % H) * D, aOff = bh * T * T;
                if (keepBits != null) {
                    // forward was: out = attDrop·V, attDrop = att⊙m·dropScale (in dropped)
                    DropoutOps.applyRange(w.dropped, 0, att, aOff, keepBits, aOff, dropScale, T * T);
                    valuesBackwardHead(impl, w.tt, 0, false, dV, dOut, w.dropped, 0, v, base, C, T, D, w);
                    DropoutOps.applyRange(w.tt, 0, w.tt, 0, keepBits, aOff, dropScale, T * T);
                } else {
                    // dAtt (in tt) = dOut·Vᵀ and dV += attᵀ·dOut, as attentionValuesBackward into a zeroed dAtt
                    valuesBackwardHead(impl, w.tt, 0, false, dV, dOut, att, aOff, v, base, C, T, D, w);
                }
                softmaxBackward(impl, dQ, dK, w.tt, w.tt, 0, att, aOff, q, k, base, C, T, D, scale, w);
            }
        });
    }

    /** p[pOff + t·T + t2] = softmax_t2(scale·Σ_d q[t, d]·k[t2, d] + bias[t2]) for the head at base. */
    private static void probsHead(Products impl, float[] p, int pOff, float[] q, float[] k, int base, int C, int T, int D,
                                  float scale, int[] attentionMask, int b, Work w) {
        float[] bias = w.bias;
        boolean any = false;
        for (int t2 = 0; t2 < T; t2++) {
            boolean keep = attentionMask[b * T + t2] != 0;
            bias[t2] = keep ? 0f : Float.NEGATIVE_INFINITY;
            any |= keep;
        }
        if (!any) {                                              // every key masked: att = 0 (and out = 0)
            java.util.Arrays.fill(p, pOff, pOff + T * T, 0f);
            return;
        }
        if (impl == Products.AVX512) {
            NativeAttention.probsHead(p, pOff, q, k, base, C, T, D, scale, bias, w.dt);
            return;
        }
        // pre[t, t2] = Σ_d q[t, d]·k[t2, d]
        if (impl == Products.OPENBLAS) {
            NativeGemm.sgemm(false, true, T, T, D, 1f, q, base, C, k, base, C, 0f, p, pOff, T);
        } else {                                                 // with kt = Kᵀ: (D, T)
            VectorGemm.transpose(w.dt, 0, T, k, base, C, D, T);
            VectorGemm.gemm(q, base, C, 1, w.dt, 0, T, p, pOff, T, 0, T, T, D, false, null);
        }
        for (int t = 0; t < T; t++) softmaxRow(p, pOff + t * T, T, scale, bias, w.lanes);
    }

    /**
     * forward was out[t, d] = Σ_t2 att[t, t2]·v[t2, d]: dAtt[t, t2] (+)= Σ_d dOut[t, d]·v[t2, d] (accumulated or,
     * when not, overwritten) and dV[t2, d] += Σ_t att[t, t2]·dOut[t, d].
     */
    /** out[t, d] = Σ_t2 att[t, t2]·v[t2, d] for the head at base. */
    private static void valuesHead(Products impl, float[] out, float[] att, int aOff, float[] v, int base, int C, int T,
                                   int D) {
        if (impl == Products.AVX512) NativeAttention.valuesHead(out, att, aOff, v, base, C, T, D);
        else if (impl == Products.OPENBLAS) NativeGemm.sgemm(false, false, T, D, T, 1f, att, aOff, T, v, base, C, 0f, out, base, C);
        else VectorGemm.gemm(att, aOff, T, 1, v, base, C, out, base, C, 0, T, D, T, false, null);
    }

    private static void valuesBackwardHead(Products impl, float[] dAtt, int dOff, boolean accumulate, float[] dV, float[] dOut,
                                           float[] att, int aOff, float[] v, int base, int C, int T, int D, Work w) {
        if (impl == Products.AVX512) {
            NativeAttention.valuesBackwardHead(dAtt, dOff, accumulate, dV, dOut, att, aOff, v, base, C, T, D, w.dt);
            return;
        }
        if (impl == Products.OPENBLAS) {
            NativeGemm.sgemm(false, true, T, T, D, 1f, dOut, base, C, v, base, C, accumulate ? 1f : 0f, dAtt, dOff, T);
            if (dV != null) NativeGemm.sgemm(true, false, T, D, T, 1f, att, aOff, T, dOut, base, C, 1f, dV, base, C);
            return;
        }
        VectorGemm.transpose(w.dt, 0, T, v, base, C, D, T);                      // vt: (D, T)
        VectorGemm.gemm(dOut, base, C, 1, w.dt, 0, T, dAtt, dOff, T, 0, T, T, D, accumulate, null);
        if (dV != null) VectorGemm.gemm(att, aOff, 1, T, dOut, base, C, dV, base, C, 0, T, D, T, true, null);
    }

    /**
     * forward was att = softmax(pre), pre = q·kᵀ·scale: dPre (into dPre, a (T, T) block at 0) = att⊙(g − rowsum(att⊙g))·
     * scale from g's block at gOff (g may be dPre), then the products of {@link #probsBackwardProducts}.
     */
    private static void softmaxBackward(Products impl, float[] dQ, float[] dK, float[] dPre, float[] g, int gOff,
                                        float[] att, int aOff, float[] q, float[] k, int base, int C, int T, int D,
                                        float scale, Work w) {
        if (impl == Products.AVX512) {
            NativeAttention.probsBackwardHead(dQ, dK, dPre, 0, g, gOff, att, aOff, q, k, base, C, T, D, scale);
            return;
        }
        for (int t = 0; t < T; t++) softmaxBackwardRow(dPre, t * T, g, gOff + t * T, att, aOff + t * T, T, scale, w.lanes);
        probsBackwardProducts(impl, dQ, dK, dPre, q, k, base, C, T, D);
    }

    /** forward was pre[t, t2] = Σ_d q[t, d]·k[t2, d]: dQ[t, :] += Σ_t2 dPre[t, t2]·k[t2, :], dK[t2, :] += Σ_t dPre[t, t2]·q[t, :]. */
    private static void probsBackwardProducts(Products impl, float[] dQ, float[] dK, float[] dPre, float[] q, float[] k,
                                              int base, int C, int T, int D) {
        if (impl == Products.OPENBLAS) {
            if (dQ != null) NativeGemm.sgemm(false, false, T, D, T, 1f, dPre, 0, T, k, base, C, 1f, dQ, base, C);
            if (dK != null) NativeGemm.sgemm(true, false, T, D, T, 1f, dPre, 0, T, q, base, C, 1f, dK, base, C);
            return;
        }
        if (dQ != null) VectorGemm.gemm(dPre, 0, T, 1, k, base, C, dQ, base, C, 0, T, D, T, true, null);
        if (dK != null) VectorGemm.gemm(dPre, 0, 1, T, q, base, C, dK, base, C, 0, T, D, T, true, null);
    }

    /**
     * In place: {@code r = exp(s − max)/Σ exp(s − max)} with {@code s = r·scale + bias}; a row whose bias is all −∞
     * is set to 0. The sum is lane-wise, then over the lanes in lane order, then the scalar tail in index order.
     */
    private static void softmaxRow(float[] r, int off, int T, float scale, float[] bias, float[] lanes) {
        int e = S.loopBound(T), i = 0;
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; i < e; i += VL) {
            FloatVector s = FloatVector.fromArray(S, r, off + i).mul(scale).add(FloatVector.fromArray(S, bias, i));
            s.intoArray(r, off + i);
            mv = mv.max(s);
        }
        float max = mv.reduceLanes(VectorOperators.MAX);                     // exact in any order
        for (; i < T; i++) {
            r[off + i] = r[off + i] * scale + bias[i];
            max = Math.max(max, r[off + i]);
        }
        if (max == Float.NEGATIVE_INFINITY) {                    // every key masked: att = 0, out = 0
            java.util.Arrays.fill(r, off, off + T, 0f);
            return;
        }
        FloatVector sv = FloatVector.zero(S);
        for (i = 0; i < e; i += VL) {
            // exp(s − max): FastGelu.exp inlined by hand (a vector returned from a helper C2 does not inline is boxed)
            FloatVector xIn = FloatVector.fromArray(S, r, off + i).sub(max);
            FloatVector x = xIn.max(-87f);
            FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);
            FloatVector rr = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
            rr = n.fma(FloatVector.broadcast(S, -LN2_LO), rr);
            FloatVector pe = rr.fma(E0, E1).fma(rr, FloatVector.broadcast(S, E2)).fma(rr, FloatVector.broadcast(S, E3))
                    .fma(rr, FloatVector.broadcast(S, E4)).fma(rr, FloatVector.broadcast(S, E5));
            FloatVector y = pe.mul(rr.mul(rr)).add(rr).add(1f);
            IntVector bits = n.add(ROUND + 127f).reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
            FloatVector ex = y.mul(bits.reinterpretAsFloats()).blend(0f, xIn.lt(-87f));   // exp(−∞) = 0: padding
            ex.intoArray(r, off + i);
            sv = sv.add(ex);
        }
        sv.intoArray(lanes, 0);
        float sum = 0f;
        for (int l = 0; l < VL; l++) sum += lanes[l];
        for (; i < T; i++) {
            r[off + i] = FastGelu.expScalar(r[off + i] - max);
            sum += r[off + i];
        }
        float inv = 1f / sum;
        for (i = 0; i < e; i += VL) FloatVector.fromArray(S, r, off + i).mul(inv).intoArray(r, off + i);
        for (; i < T; i++) r[off + i] *= inv;
    }

    /**
     * {@code d[dOff + i] = a[aOff + i]·(g[gOff + i] − Σ_j a[aOff + j]·g[gOff + j])·scale} for i &lt; T (d may alias g);
     * the sum as in {@link #softmaxRow}.
     */
    private static void softmaxBackwardRow(float[] d, int dOff, float[] g, int gOff, float[] a, int aOff, int T,
                                           float scale, float[] lanes) {
        int e = S.loopBound(T), i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (; i < e; i += VL) acc = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, g, gOff + i), acc);
        acc.intoArray(lanes, 0);
        float dot = 0f;
        for (int l = 0; l < VL; l++) dot += lanes[l];
        for (; i < T; i++) dot = Math.fma(a[aOff + i], g[gOff + i], dot);
        for (i = 0; i < e; i += VL) {
            FloatVector.fromArray(S, g, gOff + i).sub(dot).mul(FloatVector.fromArray(S, a, aOff + i)).mul(scale)
                    .intoArray(d, dOff + i);
        }
        for (; i < T; i++) d[dOff + i] = (g[gOff + i] - dot) * a[aOff + i] * scale;
    }
}

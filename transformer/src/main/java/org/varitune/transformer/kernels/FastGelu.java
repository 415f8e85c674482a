package org.varitune.transformer.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact-form GELU on the Vector API in float lanes: {@code gelu(x) = x·Φ(x)}, {@code gelu'(x) = Φ(x) + x·φ(x)}, with
 * {@code Φ(x) = ½·erfc(|z|)} for x < 0 and {@code 1 − ½·erfc(|z|)} for x ≥ 0, {@code z = x/√2}. {@code erfc(a)} is
 * Abramowitz &amp; Stegun 7.1.26, {@code t·P(t)·exp(−a²)} with {@code t = 1/(1 + 0.3275911·a)} (absolute error of
 * erf below 1.5e-7; the same approximation PyTorch's vectorised CPU erf uses), and {@code exp} is {@link #exp}.
 * Computing erfc directly keeps large negative x free of the {@code 1 + erf} cancellation.
 *
 * <p>Only IEEE add, mul, fma, div and integer bit operations are used, so the result is bit-identical whether the JIT
 * has compiled the vector code or the interpreter runs its scalar fallback (the library's {@code lanewise(EXP)} is not:
 * its intrinsic and its fallback round differently, which would break bit-identical resume). The scalar tail uses
 * the same formulas in float ({@link #geluScalar}).
 */
final class FastGelu {
    private FastGelu() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int VL = S.length();
    static final float INV_SQRT2 = 0.70710678118654752f;
    static final float INV_SQRT_2PI = 0.39894228040143268f;
    private static final float P = 0.3275911f;
    private static final float A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f,
            A5 = 1.061405429f;
    // exp: x = n·ln2 + r, |r| <= ln2/2; exp(r) by the Cephes expf polynomial (relative error ~1e-7).
    // (package-private so that hot loops elsewhere can inline exp by hand, with the very same constants)
    static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;
    static final float ROUND = 12582912f;            // 1.5·2^23: adding and subtracting rounds to an integer

    static void forward(float[] out, float[] x, int n) { forward(out, x, n, false); }

    /** out = GELU(x), chunk by chunk in C ({@link NativeGelu}: the same bits) when {@code inC}. */
    static void forward(float[] out, float[] x, int n, boolean inC) {
        Parallel.parallelForRange(n, 1 << 14, (lo, hi) -> {
            if (inC) NativeGelu.forward(out, x, lo, hi);
            else range(x, lo, hi, out, null, null, false);
        });
    }

    static void backward(float[] dX, float[] x, float[] dOut, int n) { backward(dX, x, dOut, n, false, false); }

    /**
     * dX (+)= dOut·GELU'(x): added to dX, or when {@code overwrite} written without reading it; in C
     * ({@link NativeGelu}: the same bits) when {@code inC}.
     */
    static void backward(float[] dX, float[] x, float[] dOut, int n, boolean overwrite, boolean inC) {
        Parallel.parallelForRange(n, 1 << 14, (lo, hi) -> {
            if (inC) NativeGelu.backward(dX, x, dOut, lo, hi, overwrite);
            else range(x, lo, hi, null, dOut, dX, overwrite);
        });
    }

    /**
     * {@code exp(x)} in float lanes for x ≤ 0 (softmax after max subtraction, GELU's exp(−x²/2)); below −87 the
     * result is exactly 0 (so masked keys, at −∞, get probability 0). Bit-identical compiled or interpreted.
     */
    static FloatVector exp(FloatVector xIn) {
        FloatVector x = xIn.max(-87f);
        FloatVector n = x.fma(LOG2E, ROUND).sub(ROUND);                          // round(x·log2 e)
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(E0, E1).fma(r, FloatVector.broadcast(S, E2)).fma(r, FloatVector.broadcast(S, E3))
                .fma(r, FloatVector.broadcast(S, E4)).fma(r, FloatVector.broadcast(S, E5));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n from the bits of n + 127 + 1.5·2^23 (an integer in the low mantissa bits), shifted into the exponent;
        // convert(F2I) is not intrinsified on JDK 17 and costs 5x
        IntVector bits = n.add(ROUND + 127f).reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats()).blend(0f, xIn.lt(-87f));
    }

    /** Scalar twin of {@link #exp}, same operations in the same order. */
    static float expScalar(float x) {
        if (x < -87f) return 0f;
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E0, E1), r, E2), r, E3), r, E4), r, E5);
        float y = p * (r * r) + r + 1f;
        return y * Float.intBitsToFloat(Float.floatToRawIntBits(n + (ROUND + 127f)) << 23);
    }

    private static void range(float[] x, int lo, int hi, float[] out, float[] dOut, float[] dX, boolean overwrite) {
        int i = lo;
        for (int end = lo + S.loopBound(hi - lo); i < end; i += VL) {
            FloatVector xv = FloatVector.fromArray(S, x, i);
            FloatVector a = xv.abs().mul(INV_SQRT2);
            // e = exp(−z²) = exp(−x²/2): the body of exp(), inlined by hand (a vector returned from a helper that
            // C2 does not inline is boxed on JDK 17, which costs ~10x)
            FloatVector ex = a.mul(a).neg();
            FloatVector xc = ex.max(-87f);
            FloatVector n = xc.fma(LOG2E, ROUND).sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector pe = r.fma(E0, E1).fma(r, FloatVector.broadcast(S, E2)).fma(r, FloatVector.broadcast(S, E3))
                    .fma(r, FloatVector.broadcast(S, E4)).fma(r, FloatVector.broadcast(S, E5));
            FloatVector y = pe.mul(r.mul(r)).add(r).add(1f);
            // 2^n from the bits of n + 127 + 1.5·2^23 (an integer in the low mantissa bits), shifted into the exponent
            IntVector bits = n.add(ROUND + 127f).reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
            FloatVector e = y.mul(bits.reinterpretAsFloats()).blend(0f, ex.lt(-87f));
            FloatVector t = a.fma(P, 1f);
            t = FloatVector.broadcast(S, 1f).div(t);
            FloatVector poly = t.fma(A5, A4).fma(t, FloatVector.broadcast(S, A3)).fma(t, FloatVector.broadcast(S, A2))
                    .fma(t, FloatVector.broadcast(S, A1)).mul(t);
            FloatVector half = poly.mul(e).mul(0.5f);                               // ½·erfc(|z|)
            VectorMask<Float> neg = xv.lt(0f);
            FloatVector cdf = half.neg().add(1f).blend(half, neg);                  // Φ(x)
            if (out != null) {
                xv.mul(cdf).intoArray(out, i);
            } else {
                // forward was: out = x·Φ(x); so dX += dOut·(Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π)
                FloatVector grad = xv.mul(e).fma(FloatVector.broadcast(S, INV_SQRT_2PI), cdf);
                FloatVector dOutV = FloatVector.fromArray(S, dOut, i);
                if (overwrite) dOutV.mul(grad).intoArray(dX, i);
                else dOutV.fma(grad, FloatVector.fromArray(S, dX, i)).intoArray(dX, i);
            }
        }
        for (; i < hi; i++) {
            if (out != null) out[i] = geluScalar(x[i]);
            else dX[i] = overwrite ? dOut[i] * geluGradScalar(x[i]) : Math.fma(dOut[i], geluGradScalar(x[i]), dX[i]);
        }
    }

    private static float cdfScalar(float x, float e) {
        float a = Math.abs(x) * INV_SQRT2;
        float t = 1f / Math.fma(a, P, 1f);
        float poly = Math.fma(Math.fma(Math.fma(Math.fma(t, A5, A4), t, A3), t, A2), t, A1) * t;
        float half = poly * e * 0.5f;
        return x < 0f ? half : -half + 1f;
    }

    /** Scalar GELU with the vector path's formulas. */
    static float geluScalar(float x) {
        float a = Math.abs(x) * INV_SQRT2;
        return x * cdfScalar(x, expScalar(-(a * a)));
    }

    static float geluGradScalar(float x) {
        float a = Math.abs(x) * INV_SQRT2;
        float e = expScalar(-(a * a));
        return Math.fma(x * e, INV_SQRT_2PI, cdfScalar(x, e));
    }
}

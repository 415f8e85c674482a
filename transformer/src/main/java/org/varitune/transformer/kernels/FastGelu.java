package org.varitune.transformer.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact GELU on the Vector API, float in and out, computed in double lanes: {@code gelu(x) = x·Φ(x)} and
 * {@code gelu'(x) = Φ(x) + x·φ(x)}, with {@code Φ(x) = 1 − erfc(z)/2} for x ≥ 0 and {@code erfc(|z|)/2} for x < 0,
 * {@code z = x/√2}, so large negative x keeps its relative accuracy (no {@code 1 + erf} cancellation).
 * {@code erfc(a)} uses the three ranges of Cody's rational approximations, as {@link MathUtil#erf} does, with
 * the same coefficients, evaluated branch-free and blended per lane; {@code exp(−a²)} (shared by erfc and φ) is the
 * vector exp in double. Errors against {@link MathUtil#gelu} are the final rounding to float (about 6e-8 relative),
 * see {@code FastGeluTest}.
 */
final class FastGelu {
    private FastGelu() {}

    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    private static final int L = DS.length();
    private static final double INV_SQRT_PI = 0.564189583547756287;

    static void forward(float[] out, float[] x, int n) {
        Parallel.parallelForRange(n, 1 << 13, (lo, hi) -> {
            int i = lo;
            for (int e = lo + FS.loopBound(hi - lo); i < e; i += L) {
                DoubleVector xv = (DoubleVector) FloatVector.fromArray(FS, x, i).convertShape(VectorOperators.F2D, DS, 0);
                DoubleVector a = xv.abs().mul(MathUtil.INV_SQRT2);
                DoubleVector e2 = a.mul(a).neg().lanewise(VectorOperators.EXP);
                DoubleVector g = xv.mul(phi(xv, a, e2));
                ((FloatVector) g.convertShape(VectorOperators.D2F, FS, 0)).intoArray(out, i);
            }
            for (; i < hi; i++) out[i] = (float) MathUtil.gelu(x[i]);
        });
    }

    static void backward(float[] dX, float[] x, float[] dOut, int n) {
        // forward was: out = x·Φ(x); so dX += dOut·(Φ(x) + x·φ(x)), φ(x) = exp(−x²/2)/√(2π) = exp(−z²)/√(2π)
        Parallel.parallelForRange(n, 1 << 13, (lo, hi) -> {
            int i = lo;
            for (int e = lo + FS.loopBound(hi - lo); i < e; i += L) {
                DoubleVector xv = (DoubleVector) FloatVector.fromArray(FS, x, i).convertShape(VectorOperators.F2D, DS, 0);
                DoubleVector a = xv.abs().mul(MathUtil.INV_SQRT2);
                DoubleVector e2 = a.mul(a).neg().lanewise(VectorOperators.EXP);
                DoubleVector grad = xv.mul(e2).mul(MathUtil.INV_SQRT_2PI).add(phi(xv, a, e2));
                DoubleVector d = (DoubleVector) FloatVector.fromArray(FS, dOut, i).convertShape(VectorOperators.F2D, DS, 0);
                FloatVector upd = (FloatVector) d.mul(grad).convertShape(VectorOperators.D2F, FS, 0);
                FloatVector.fromArray(FS, dX, i).add(upd).intoArray(dX, i);
            }
            for (; i < hi; i++) dX[i] += (float) (dOut[i] * MathUtil.geluGrad(x[i]));
        });
    }

    /** Φ(x) per lane, given a = |x|/√2 and e2 = exp(−a²). */
    private static DoubleVector phi(DoubleVector x, DoubleVector a, DoubleVector e2) {
        VectorMask<Double> small = a.lt(0.5), tail = a.compare(VectorOperators.GE, 4.0);
        VectorMask<Double> mid = small.or(tail).not();
        DoubleVector erfc = DoubleVector.zero(DS);
        if (small.anyTrue()) {
            // erf(a) = a·P(a²)/Q(a²), |a| < 0.5
            DoubleVector t = a.mul(a);
            DoubleVector top = h(h(h(h(c(0.185777706184603153), t, 3.16112374387056560), t, 113.864154151050156), t,
                    377.485237685302021), t, 3209.37758913846947);
            DoubleVector bot = h(h(h(h(c(1.0), t, 23.6012909523441209), t, 244.024637934444173), t,
                    1282.61652607737228), t, 2844.23683343917062);
            erfc = erfc.blend(a.mul(top).div(bot).neg().add(1.0), small);
        }
        if (mid.anyTrue()) {
            // erfc(a) = exp(−a²)·P(a)/Q(a), 0.5 <= a < 4
            DoubleVector top = h(h(h(h(h(h(h(h(c(2.15311535474403846e-8), a, 0.564188496988670089), a,
                    8.88314979438837594), a, 66.1191906371416295), a, 298.635138197400131), a, 881.952221241769090), a,
                    1712.04761263407058), a, 2051.07837782607147), a, 1230.33935479799725);
            DoubleVector bot = h(h(h(h(h(h(h(h(c(1.0), a, 15.7449261107098347), a, 117.693950891312499), a,
                    537.181101862009858), a, 1621.38957456669019), a, 3290.79923573345963), a, 4362.61909014324716), a,
                    3439.36767414372164), a, 1230.33935480374942);
            erfc = erfc.blend(e2.mul(top).div(bot), mid);
        }
        if (tail.anyTrue()) {
            // erfc(a) = exp(−a²)·(1/√π − z·P(z)/Q(z))/a, z = 1/a², a >= 4
            DoubleVector z = DoubleVector.broadcast(DS, 1.0).div(a.mul(a));
            DoubleVector top = h(h(h(h(h(c(0.0163153871373020978), z, 0.305326634961232344), z, 0.360344899949804439), z,
                    0.125781726111229246), z, 0.0160837851487422766), z, 6.58749161529837803e-4);
            DoubleVector bot = h(h(h(h(h(c(1.0), z, 2.56852019228982242), z, 1.87295284992346725), z,
                    0.527905102951428412), z, 0.0605183413124413191), z, 2.33520497626869185e-3);
            DoubleVector r = bot.mul(INV_SQRT_PI).sub(z.mul(top)).div(bot.mul(a));
            erfc = erfc.blend(e2.mul(r), tail);
        }
        DoubleVector half = erfc.mul(0.5);
        return half.neg().add(1.0).blend(half, x.lt(0.0));
    }

    private static DoubleVector c(double v) { return DoubleVector.broadcast(DS, v); }

    /** One Horner step: {@code p·t + k}. */
    private static DoubleVector h(DoubleVector p, DoubleVector t, double k) { return p.fma(t, c(k)); }
}

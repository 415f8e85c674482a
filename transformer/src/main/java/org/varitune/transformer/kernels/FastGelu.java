package org.varitune.transformer.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Exact GELU on the Vector API, float in and out, computed in double lanes: {@code gelu(x) = x·Φ(x)} and
 * {@code gelu'(x) = Φ(x) + x·φ(x)}, with {@code Φ(x) = 1 − erfc(z)/2} for x ≥ 0 and {@code erfc(|z|)/2} for
 * x < 0, {@code z = x/√2}, so large negative x keeps its relative accuracy (no {@code 1 + erf} cancellation).
 * {@code erfc(a)} uses the three ranges of Cody's rational approximations, as {@link MathUtil#erf} does, with the
 * same coefficients, all three evaluated for every lane, blended (branch-free), then one division; {@code exp(−a²)} (shared by erfc
 * and φ) is the vector exp in double. Errors against {@link MathUtil#gelu} are the final rounding to float (about
 * 6e-8 relative), see {@code FastGeluTest}.
 *
 * <p>JIT notes (JDK 17): the whole vector body sits in one method that takes only arrays, with no helper taking or
 * returning vectors and no vector chosen by a branch; either makes C2 box the vectors, which measured 25 ns per
 * element instead of a few.
 */
final class FastGelu {
    private FastGelu() {}

    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    private static final int L = DS.length();
    private static final double INV_SQRT_PI = 0.564189583547756287;

    static void forward(float[] out, float[] x, int n) {
        Parallel.parallelForRange(n, 1 << 13, (lo, hi) -> range(x, lo, hi, out, null, null));
    }

    static void backward(float[] dX, float[] x, float[] dOut, int n) {
        Parallel.parallelForRange(n, 1 << 13, (lo, hi) -> range(x, lo, hi, null, dOut, dX));
    }

    /** Forward ({@code out != null}: out = x·Φ(x)) or backward (dX += dOut·(Φ(x) + x·φ(x))) over [lo, hi). */
    private static void range(float[] x, int lo, int hi, float[] out, float[] dOut, float[] dX) {
        int i = lo;
        for (int end = lo + FS.loopBound(hi - lo); i < end; i += L) {
            DoubleVector xv = (DoubleVector) FloatVector.fromArray(FS, x, i).convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector a = xv.abs().mul(MathUtil.INV_SQRT2);
            DoubleVector t = a.mul(a);
            DoubleVector e2 = t.neg().lanewise(VectorOperators.EXP);           // exp(−a²) = exp(−x²/2)
            VectorMask<Double> small = a.lt(0.5), mid = a.lt(4.0);

            // Each range gives erfc(a) = num/den; the ranges are blended first and divided once.
            // a < 0.5: erfc(a) = 1 − a·P(a²)/Q(a²) = (Q − a·P)/Q
            DoubleVector p = t.mul(0.185777706184603153).add(3.16112374387056560).mul(t).add(113.864154151050156)
                    .mul(t).add(377.485237685302021).mul(t).add(3209.37758913846947);
            DoubleVector q = t.add(23.6012909523441209).mul(t).add(244.024637934444173).mul(t)
                    .add(1282.61652607737228).mul(t).add(2844.23683343917062);
            DoubleVector numSmall = q.sub(a.mul(p)), denSmall = q;

            // 0.5 <= a < 4: erfc(a) = exp(−a²)·P(a)/Q(a)
            p = a.mul(2.15311535474403846e-8).add(0.564188496988670089).mul(a).add(8.88314979438837594).mul(a)
                    .add(66.1191906371416295).mul(a).add(298.635138197400131).mul(a).add(881.952221241769090).mul(a)
                    .add(1712.04761263407058).mul(a).add(2051.07837782607147).mul(a).add(1230.33935479799725);
            q = a.add(15.7449261107098347).mul(a).add(117.693950891312499).mul(a).add(537.181101862009858).mul(a)
                    .add(1621.38957456669019).mul(a).add(3290.79923573345963).mul(a).add(4362.61909014324716).mul(a)
                    .add(3439.36767414372164).mul(a).add(1230.33935480374942);
            DoubleVector numMid = e2.mul(p), denMid = q;

            // a >= 4: erfc(a) = exp(−a²)·(1/√π − z·P(z)/Q(z))/a with z = 1/a²; with N = t⁶·z·P(z) and M = t⁶·Q(z),
            // polynomials in t = a² (clamped at 800, where exp(−a²) is already 0), this is exp(−a²)·(M/√π − N)/(M·a)
            DoubleVector tc = t.min(800.0);
            p = tc.mul(6.58749161529837803e-4).add(0.0160837851487422766).mul(tc).add(0.125781726111229246).mul(tc)
                    .add(0.360344899949804439).mul(tc).add(0.305326634961232344).mul(tc).add(0.0163153871373020978);
            q = tc.mul(2.33520497626869185e-3).add(0.0605183413124413191).mul(tc).add(0.527905102951428412).mul(tc)
                    .add(1.87295284992346725).mul(tc).add(2.56852019228982242).mul(tc).add(1.0).mul(tc);
            DoubleVector numTail = e2.mul(q.mul(INV_SQRT_PI).sub(p)), denTail = q.mul(a);

            DoubleVector num = numTail.blend(numMid, mid).blend(numSmall, small);
            DoubleVector den = denTail.blend(denMid, mid).blend(denSmall, small);
            DoubleVector half = num.div(den).mul(0.5);
            DoubleVector phi = half.neg().add(1.0).blend(half, xv.lt(0.0));
            if (out != null) {
                ((FloatVector) xv.mul(phi).convertShape(VectorOperators.D2F, FS, 0)).intoArray(out, i);
            } else {
                // forward was: out = x·Φ(x); so dX += dOut·(Φ(x) + x·φ(x)), φ(x) = exp(−z²)/√(2π)
                DoubleVector grad = xv.mul(e2).mul(MathUtil.INV_SQRT_2PI).add(phi);
                DoubleVector d =
                        (DoubleVector) FloatVector.fromArray(FS, dOut, i).convertShape(VectorOperators.F2D, DS, 0);
                FloatVector upd = (FloatVector) d.mul(grad).convertShape(VectorOperators.D2F, FS, 0);
                FloatVector.fromArray(FS, dX, i).add(upd).intoArray(dX, i);
            }
        }
        for (; i < hi; i++) {
            if (out != null) out[i] = (float) MathUtil.gelu(x[i]);
            else dX[i] += (float) (dOut[i] * MathUtil.geluGrad(x[i]));
        }
    }
}

package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.stream.IntStream;

/**
 * {@code nu = (1/C) trace(Sw Sb⁺)} with a truncated pseudo-inverse, by two routes that must agree.
 *
 * <h2>Pseudo-inverse and its tolerance</h2>
 * {@code Sb = A Aᵀ} with {@code A = [m_0 − c, …, m_{C−1} − c] / √C} (d × C; {@code c} is the centre, the mean of
 * class means or the global mean, both in the affine hull of the means), so {@code rank(Sb) ≤ C − 1}. With the
 * eigenpairs {@code (λ_i, u_i)} of Sb that are kept, {@code Sb⁺ = Σ_i u_i u_iᵀ / λ_i} and
 * <pre>  nu = (1/C) Σ_{i kept} u_iᵀ Sw u_i / λ_i.</pre>
 * An eigenpair is kept when {@code λ_i > relTol · λ_max} and it is among the {@code C − 1} largest. The default
 * {@link #DEFAULT_RELATIVE_TOLERANCE} = 1e-8 on eigenvalues (1e-4 on singular values of A): hidden states arrive as
 * float32 (unit roundoff 6e-8), so a class mean is known to about 1e-7 of the vectors' norm, which in pretrained
 * encoders can be ~100× the spread of the class means; directions of A with σ below ~1e-5 σ_max are therefore
 * indistinguishable from float noise, and 1e-4 leaves a 10× margin. Rounding in the double accumulation itself
 * (≈1e-16 relative) is far below. The rank cap {@code C − 1} drops the algebraic null direction even if noise lifts
 * it above the tolerance. {@code λ_max = 0} (all class means equal) has no ratio and is an error.
 *
 * <h2>Routes</h2>
 * {@link #ratio} (used everywhere) takes the thin SVD of A (d × C, cost O(d C²)) and evaluates {@code u_iᵀ Sw u_i}
 * through a caller-supplied quadratic form, so Sw never has to exist as a d × d matrix. {@link #ratioViaEigen} is the
 * dense reference: a symmetric eigendecomposition of the d × d Sb (EJML), cost O(d³); tests check both agree.
 */
public final class RatioMath {
    private RatioMath() {}

    /** Relative eigenvalue tolerance of the pseudo-inverse of Sb; see the class documentation. */
    public static final double DEFAULT_RELATIVE_TOLERANCE = 1e-8;

    /** ε of the zero test of Sb: float32 unit roundoff 2⁻²⁴; see the class documentation. */
    public static final double SB_ZERO_RELATIVE = 0x1p-24;

    /** {@code uᵀ Sw u} for a unit vector u of length d; must not modify u. */
    @FunctionalInterface
    public interface QuadraticForm {
        double apply(double[] u);
    }

    /**
     * One evaluation of the ratio.
     *
     * @param nu              (1/C) trace(Sw Sb⁺); empty when Sb is zero
     * @param undefinedReason why nu is empty, null when it is present
     * @param rank            number of eigenpairs of Sb kept (0 when undefined)
     * @param keptEigenvalues kept eigenvalues of Sb, descending
     * @param droppedNonzero  eigenvalues of Sb that were &gt; 0 (in the SVD route: singular values &gt; 0) but dropped
     *                        by the tolerance or the rank cap
     * @param traceSb         trace(Sb), all eigenvalues
     */
    public record Parts(OptionalDouble nu, String undefinedReason, int rank, double[] keptEigenvalues, int droppedNonzero,
                        double traceSb) {
        public Parts {
            if (nu.isPresent() == (undefinedReason != null)) {
                throw new IllegalArgumentException("nu must be present exactly when there is no undefined reason");
            }
        }

        /** nu, or an IllegalStateException carrying the reason it is undefined. */
        public double nuOrThrow() {
            if (nu.isEmpty()) throw new IllegalStateException("nu is undefined: " + undefinedReason);
            return nu.getAsDouble();
        }

        static Parts undefined(String reason, double traceSb) {
            return new Parts(OptionalDouble.empty(), reason, 0, new double[0], 0, traceSb);
        }
    }

    /**
     * Why Sb counts as zero ({@code λ_max ≤ (ε s)²}), or null when it does not.
     *
     * @param lambdaMax     largest eigenvalue of Sb
     * @param meanSquareNorm s², the mean squared norm of the vectors
     */
    static String zeroBetweenScatter(double lambdaMax, double meanSquareNorm) {
        if (!(meanSquareNorm >= 0)) throw new IllegalArgumentException("mean square norm must be >= 0, got " + meanSquareNorm);
        if (!(lambdaMax >= 0)) throw new IllegalStateException("largest eigenvalue of Sb is " + lambdaMax + " (decomposition failed)");
        double floor = SB_ZERO_RELATIVE * SB_ZERO_RELATIVE * meanSquareNorm;
        if (lambdaMax == 0) return "Sb = 0: every class has exactly the same mean at this layer";
        if (lambdaMax <= floor) {
            return String.format(Locale.ROOT, "Sb = 0 to float32 precision: every class has the same mean at this layer "
                    + "(largest eigenvalue of Sb %.3g <= (2^-24 * rms norm of the vectors %.3g)^2 = %.3g)",
                    lambdaMax, Math.sqrt(meanSquareNorm), floor);
        }
        return null;
    }

    /**
     * Ratio by the thin SVD of {@code A = (means − center)/√C}.
     *
     * @param means  class means, (C, d) row-major, in any common shift; not modified
     * @param center (d) the centre in the same shift; not modified
     * @param sw     quadratic form of Sw in the same coordinates
     * @param relTol relative eigenvalue tolerance, in (0, 1)
     * @param meanSquareNorm s², mean squared norm of the unshifted vectors (the scale of the zero test of Sb)
     */
    public static Parts ratio(double[] means, double[] center, int C, int d, QuadraticForm sw, double relTol,
                              double meanSquareNorm) {
        checkTol(relTol);
        if (means.length != C * d || center.length != d) {
            throw new IllegalArgumentException("means length " + means.length + " != C*d = " + C + "*" + d
                    + " or center length " + center.length + " != d");
        }
        if (C < 2) throw new IllegalArgumentException("the ratio needs at least 2 classes, got C = " + C);
        DMatrixRMaj a = new DMatrixRMaj(d, C);   // a: (d, C)
        double s = 1.0 / Math.sqrt(C);
        for (int y = 0; y < C; y++) {
            for (int i = 0; i < d; i++) a.unsafe_set(i, y, (means[y * d + i] - center[i]) * s);
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(d, C, true, false, true);
        if (!svd.decompose(a)) throw new IllegalStateException("SVD of the (d=" + d + ", C=" + C + ") mean matrix failed");
        double[] sv = svd.getSingularValues();
        int ns = svd.numberOfSingularValues();
        DMatrixRMaj u = svd.getU(null, false);   // u: (d, ns)
        Integer[] order = IntStream.range(0, ns).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> -sv[i]));
        double[] lambda = new double[ns];
        double traceSb = 0;
        for (int k = 0; k < ns; k++) {
            lambda[k] = sv[order[k]] * sv[order[k]];
            traceSb += lambda[k];
        }
        String zero = zeroBetweenScatter(ns == 0 ? 0 : lambda[0], meanSquareNorm);
        if (zero != null) return Parts.undefined(zero, traceSb);
        int rank = keptCount(lambda, C, relTol);
        double[] col = new double[d];
        double acc = 0;
        for (int k = 0; k < rank; k++) {
            int j = order[k];
            for (int i = 0; i < d; i++) col[i] = u.unsafe_get(i, j);
            acc += sw.apply(col) / lambda[k];
        }
        int dropped = 0;
        for (int k = rank; k < ns; k++) if (sv[order[k]] > 0) dropped++;
        return new Parts(OptionalDouble.of(acc / C), null, rank, Arrays.copyOf(lambda, rank), dropped, traceSb);
    }

    /**
     * Dense reference: symmetric eigendecomposition of Sb, then {@code (1/C) Σ_{i kept} u_iᵀ Sw u_i / λ_i}.
     *
     * @param sw (d, d) symmetric; not modified
     * @param sb (d, d) symmetric; not modified
     * @param meanSquareNorm s², as in {@link #ratio}
     */
    public static Parts ratioViaEigen(DMatrixRMaj sw, DMatrixRMaj sb, int C, double relTol, double meanSquareNorm) {
        checkTol(relTol);
        int d = sb.numRows;
        if (sb.numCols != d || sw.numRows != d || sw.numCols != d) {
            throw new IllegalArgumentException("Sw " + sw.numRows + "x" + sw.numCols + " and Sb " + sb.numRows + "x"
                    + sb.numCols + " must be square and equal");
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, true, true);
        if (!eig.decompose(sb.copy())) throw new IllegalStateException("eigendecomposition of Sb (" + d + "x" + d + ") failed");
        Integer[] order = IntStream.range(0, d).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> -eig.getEigenvalue(i).real));
        double[] lambda = new double[d];
        double traceSb = 0;
        for (int k = 0; k < d; k++) {
            lambda[k] = eig.getEigenvalue(order[k]).real;
            traceSb += lambda[k];
        }
        String zero = zeroBetweenScatter(Math.max(0, lambda[0]), meanSquareNorm);
        if (zero != null) return Parts.undefined(zero, traceSb);
        int rank = keptCount(lambda, C, relTol);
        double acc = 0;
        for (int k = 0; k < rank; k++) {
            DMatrixRMaj v = eig.getEigenVector(order[k]);
            double norm2 = 0, q = 0;
            for (int i = 0; i < d; i++) norm2 += v.data[i] * v.data[i];
            for (int i = 0; i < d; i++) {
                double row = 0;
                for (int j = 0; j < d; j++) row += sw.unsafe_get(i, j) * v.data[j];
                q += v.data[i] * row;
            }
            acc += q / norm2 / lambda[k];
        }
        int dropped = 0;
        for (int k = rank; k < d; k++) if (lambda[k] > 0) dropped++;
        return new Parts(OptionalDouble.of(acc / C), null, rank, Arrays.copyOf(lambda, rank), dropped, traceSb);
    }

    /** Number of leading (descending) eigenvalues kept: λ &gt; relTol·λ_max, at most C − 1; λ_max &gt; 0 here. */
    private static int keptCount(double[] lambdaDesc, int C, double relTol) {
        double max = lambdaDesc[0];
        int r = 0;
        while (r < lambdaDesc.length && r < C - 1 && lambdaDesc[r] > relTol * max) r++;
        return r;
    }

    private static void checkTol(double relTol) {
        if (!(relTol > 0 && relTol < 1)) throw new IllegalArgumentException("relative tolerance must be in (0, 1), got " + relTol);
    }
}

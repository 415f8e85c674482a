package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.linsol.svd.SolvePseudoInverseSvd_DDRM;

/**
 * Independent two-pass reference on stored vectors: class means, then Sw and Sb by plain double loops straight from
 * the definitions, then nu = (1/C) trace(Sw · pinv(Sb)) with EJML's SVD pseudo-inverse (singular values below 1e-9 of
 * the largest dropped). Shares no code with the streaming path.
 */
final class TwoPassOracle {
    final int d, C;
    final DMatrixRMaj sw, sb;
    final double nu;

    /** x: (N, d) float rows; labels: (N). */
    TwoPassOracle(float[] x, int[] labels, int N, int d, int C, Variant v) {
        this.d = d;
        this.C = C;
        double[][] mean = new double[C][d];
        int[] n = new int[C];
        for (int k = 0; k < N; k++) {
            n[labels[k]]++;
            for (int i = 0; i < d; i++) mean[labels[k]][i] += x[k * d + i];
        }
        for (int y = 0; y < C; y++) for (int i = 0; i < d; i++) mean[y][i] /= n[y];
        double[] center = new double[d];
        for (int y = 0; y < C; y++) {
            for (int i = 0; i < d; i++) {
                center[i] += v == Variant.PAPER_CLASS_BALANCED ? mean[y][i] / C : mean[y][i] * n[y] / N;
            }
        }
        sw = new DMatrixRMaj(d, d);
        for (int k = 0; k < N; k++) {
            int y = labels[k];
            double w = v == Variant.PAPER_CLASS_BALANCED ? 1.0 / (C * n[y]) : 1.0 / N;
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    sw.add(i, j, w * (x[k * d + i] - mean[y][i]) * (x[k * d + j] - mean[y][j]));
                }
            }
        }
        sb = new DMatrixRMaj(d, d);
        for (int y = 0; y < C; y++) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) sb.add(i, j, (mean[y][i] - center[i]) * (mean[y][j] - center[j]) / C);
            }
        }
        SolvePseudoInverseSvd_DDRM solver = new SolvePseudoInverseSvd_DDRM();
        solver.setThreshold(1e-9 / d);   // EJML drops σ < threshold · max(rows, cols) · σ_max
        if (!solver.setA(sb.copy())) throw new IllegalStateException("pinv failed");
        DMatrixRMaj pinv = new DMatrixRMaj(d, d);
        solver.invert(pinv);
        DMatrixRMaj prod = new DMatrixRMaj(d, d);
        CommonOps_DDRM.mult(sw, pinv, prod);
        nu = CommonOps_DDRM.trace(prod) / C;
    }

    static double[] flat(DMatrixRMaj m) { return m.data.clone(); }
}

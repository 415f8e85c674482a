package org.varitune.metrics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

import java.util.Random;

final class Orthogonal {
    private Orthogonal() {}

    /** A random d × d orthogonal matrix: Q of the QR decomposition of a Gaussian matrix. */
    static DMatrixRMaj random(Random rand, int d) {
        DMatrixRMaj g = new DMatrixRMaj(d, d);
        for (int i = 0; i < d * d; i++) g.data[i] = rand.nextGaussian();
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(d, d);
        if (!qr.decompose(g)) throw new IllegalStateException("QR failed");
        return qr.getQ(null, false);
    }
}

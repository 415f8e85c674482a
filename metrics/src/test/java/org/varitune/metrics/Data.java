package org.varitune.metrics;

import java.util.Random;

/** Seeded synthetic pooled vectors: class clusters with anisotropic noise on top of a large common offset. */
final class Data {
    final float[] x;      // (N, d)
    final int[] labels;   // (N)
    final int N, d, C;
    final int[] counts;

    Data(float[] x, int[] labels, int d, int C) {
        this.x = x;
        this.labels = labels;
        this.N = labels.length;
        this.d = d;
        this.C = C;
        counts = new int[C];
        for (int y : labels) counts[y]++;
    }

    /** counts[y] examples of class y, interleaved in a seeded random order. */
    static Data clusters(Random rand, int d, int[] counts, double offset, double spread) {
        int C = counts.length, N = 0;
        for (int c : counts) N += c;
        double[][] mean = new double[C][d];
        double[] scale = new double[d];
        for (int i = 0; i < d; i++) scale[i] = 0.3 + rand.nextDouble();
        for (int y = 0; y < C; y++) for (int i = 0; i < d; i++) mean[y][i] = offset + spread * rand.nextGaussian();
        int[] labels = new int[N];
        int k = 0;
        for (int y = 0; y < C; y++) for (int j = 0; j < counts[y]; j++) labels[k++] = y;
        for (int i = N - 1; i > 0; i--) {
            int j = rand.nextInt(i + 1);
            int t = labels[i]; labels[i] = labels[j]; labels[j] = t;
        }
        float[] x = new float[N * d];
        for (int n = 0; n < N; n++) {
            for (int i = 0; i < d; i++) x[n * d + i] = (float) (mean[labels[n]][i] + scale[i] * rand.nextGaussian());
        }
        return new Data(x, labels, d, C);
    }

    /** Feeds rows [from, to) to every layer of acc in batches of at most B; layer l gets x transformed by layerScale^l. */
    void feed(VariabilityAccumulator acc, int from, int to, int B) {
        for (int s = from; s < to; s += B) {
            int b = Math.min(B, to - s);
            float[] chunk = new float[b * d];
            System.arraycopy(x, s * d, chunk, 0, b * d);
            int[] lab = new int[b];
            System.arraycopy(labels, s, lab, 0, b);
            float[][] perLayer = new float[acc.layers()][];
            for (int l = 0; l < acc.layers(); l++) perLayer[l] = layer(chunk, l);
            acc.addAll(perLayer, lab, b);
        }
    }

    /** The synthetic "layer l" version of rows: x for l = 0, otherwise x with coordinate i scaled by (1 + l·i/d). */
    float[] layer(float[] rows, int l) {
        if (l == 0) return rows.clone();
        float[] out = new float[rows.length];
        for (int k = 0; k < rows.length; k++) out[k] = (float) (rows[k] * (1 + l * (double) (k % d) / d));
        return out;
    }

    float[] layerAll(int l) { return layer(x, l); }
}

package org.varitune.metrics;

/**
 * The reservoir sample of one layer: pooled vectors per class, ordered by global example index.
 *
 * @param layer   hidden_states index
 * @param dim     d
 * @param vectors (C) arrays of (n_y', d)
 * @param index   (C) arrays of (n_y') global example indices
 */
public record LayerSamples(int layer, int dim, float[][] vectors, long[][] index) {
    public int numClasses() { return vectors.length; }

    /** Examples of class y in the sample. */
    public int count(int y) { return vectors[y].length / dim; }
}

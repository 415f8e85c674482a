package org.varitune.training.trainer;

import org.varitune.transformer.tokenize.Batch;
import org.varitune.transformer.tokenize.Encoding;

import java.util.List;

/**
 * A tokenized split, ready for training or evaluation: one unpadded {@link Row} per example and its target (a class
 * label, or a score for regression). Built by the caller (the experiments module converts its datasets).
 *
 * @param name       split name for reports and errors, e.g. {@code "dev_matched"}
 * @param rows       the examples (immutable)
 * @param labels     (N) class labels in [0, numLabels) for classification; null for regression
 * @param scores     (N) regression targets; null for classification
 * @param numLabels  head outputs: classes, or 1 for regression
 * @param padTokenId id written into padded positions
 */
public record TokenizedDataset(String name, List<Row> rows, int[] labels, float[] scores, int numLabels,
                               int padTokenId) {

    /**
     * One example's tokens, unpadded, with special tokens.
     *
     * @param ids               (T_i) token ids
     * @param typeIds           (T_i) token type ids
     * @param specialTokensMask (T_i) 1 on special tokens
     */
    public record Row(int[] ids, int[] typeIds, int[] specialTokensMask) {
        public Row {
            if (ids.length == 0) throw new IllegalArgumentException("empty token sequence");
            if (typeIds.length != ids.length || specialTokensMask.length != ids.length) {
                throw new IllegalArgumentException("row arrays differ in length: ids " + ids.length + ", typeIds "
                        + typeIds.length + ", specialTokensMask " + specialTokensMask.length);
            }
        }

        public static Row of(Encoding e) { return new Row(e.ids(), e.typeIds(), e.specialTokensMask()); }

        public int length() { return ids.length; }
    }

    public TokenizedDataset {
        rows = List.copyOf(rows);
        if (rows.isEmpty()) throw new IllegalArgumentException(name + ": no examples");
        if ((labels == null) == (scores == null)) {
            throw new IllegalArgumentException(name + ": give exactly one of labels (classification) and scores (regression)");
        }
        int n = labels != null ? labels.length : scores.length;
        if (n != rows.size()) throw new IllegalArgumentException(name + ": " + rows.size() + " rows but " + n + " targets");
        if (scores != null && numLabels != 1) throw new IllegalArgumentException(name + ": regression needs numLabels 1, got " + numLabels);
        if (labels != null) {
            if (numLabels < 2) throw new IllegalArgumentException(name + ": classification needs numLabels >= 2, got " + numLabels);
            for (int i = 0; i < n; i++) {
                if (labels[i] < 0 || labels[i] >= numLabels) {
                    throw new IllegalArgumentException(name + ": example " + i + " has label " + labels[i] + " outside [0, " + numLabels + ")");
                }
            }
        }
        if (scores != null) {
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(scores[i])) throw new IllegalArgumentException(name + ": example " + i + " has score " + scores[i]);
            }
        }
    }

    public static TokenizedDataset classification(String name, List<Row> rows, int[] labels, int numLabels, int padTokenId) {
        return new TokenizedDataset(name, rows, labels, null, numLabels, padTokenId);
    }

    public static TokenizedDataset regression(String name, List<Row> rows, float[] scores, int padTokenId) {
        return new TokenizedDataset(name, rows, null, scores, 1, padTokenId);
    }

    public int size() { return rows.size(); }

    public boolean regression() { return scores != null; }

    /** (N) token counts. */
    public int[] lengths() {
        int[] l = new int[rows.size()];
        for (int i = 0; i < l.length; i++) l[i] = rows.get(i).length();
        return l;
    }

    /** The longest row. */
    public int maxLength() {
        int m = 0;
        for (Row r : rows) m = Math.max(m, r.length());
        return m;
    }

    /**
     * Rows {@code idx} right-padded to their longest: ids = padTokenId, types 0, attention 0 and special 1 on padding
     * (as {@link Batch#pad}). Returns a new batch of B = idx.length rows.
     */
    public Batch batch(int[] idx) {
        int B = idx.length, T = 0;
        for (int i : idx) T = Math.max(T, rows.get(i).length());
        int[] ids = new int[B * T], types = new int[B * T], att = new int[B * T], special = new int[B * T]; // (B, T)
        for (int b = 0; b < B; b++) {
            Row r = rows.get(idx[b]);
            int n = r.length(), off = b * T;
            System.arraycopy(r.ids(), 0, ids, off, n);
            System.arraycopy(r.typeIds(), 0, types, off, n);
            System.arraycopy(r.specialTokensMask(), 0, special, off, n);
            for (int t = 0; t < T; t++) {
                att[off + t] = t < n ? 1 : 0;
                if (t >= n) { ids[off + t] = padTokenId; special[off + t] = 1; }
            }
        }
        return new Batch(ids, types, att, special, B, T);
    }

    /** (B) labels of rows idx (classification). */
    public int[] labelsOf(int[] idx) {
        int[] y = new int[idx.length];
        for (int b = 0; b < idx.length; b++) y[b] = labels[idx[b]];
        return y;
    }

    /** (B) scores of rows idx (regression). */
    public float[] scoresOf(int[] idx) {
        float[] y = new float[idx.length];
        for (int b = 0; b < idx.length; b++) y[b] = scores[idx[b]];
        return y;
    }
}

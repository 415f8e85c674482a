package org.varitune.transformer.tokenize;

import java.util.List;

/**
 * A right-padded batch of encodings. Every array is (B, T) row-major: element (b, t) is at {@code b * T + t}.
 *
 * @param inputIds          (B, T) token ids, padId past each row's length
 * @param tokenTypeIds      (B, T) type ids, 0 on padding
 * @param attentionMask     (B, T) 1 on tokens, 0 on padding
 * @param specialTokensMask (B, T) 1 on special tokens and on padding (HF marks padding as special)
 * @param B                 number of rows
 * @param T                 padded length
 */
public record Batch(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int[] specialTokensMask, int B, int T) {

    /**
     * Right-pads encodings to a common length T = the longest length rounded up to a multiple of
     * {@code padToMultipleOf}: ids = padId, types = 0, attention = 0, special mask = 1 on the padded slots.
     *
     * @param encs            encodings, not modified
     * @param padId           id written into padded slots
     * @param padToMultipleOf 1 = pad to the longest; must be &gt;= 1
     * @return a new batch
     */
    public static Batch pad(List<Encoding> encs, int padId, int padToMultipleOf) {
        if (padToMultipleOf < 1) throw new IllegalArgumentException("padToMultipleOf must be >= 1, got " + padToMultipleOf);
        int b = encs.size();
        int longest = 0;
        for (Encoding e : encs) longest = Math.max(longest, e.length());
        int t = (longest + padToMultipleOf - 1) / padToMultipleOf * padToMultipleOf;
        int[] ids = new int[b * t];         // (B, T)
        int[] types = new int[b * t];       // (B, T)
        int[] att = new int[b * t];         // (B, T)
        int[] special = new int[b * t];     // (B, T)
        for (int r = 0; r < b; r++) {
            Encoding e = encs.get(r);
            int n = e.length();
            int off = r * t;
            System.arraycopy(e.ids(), 0, ids, off, n);
            System.arraycopy(e.typeIds(), 0, types, off, n);
            System.arraycopy(e.attentionMask(), 0, att, off, n);
            System.arraycopy(e.specialTokensMask(), 0, special, off, n);
            for (int c = n; c < t; c++) {
                ids[off + c] = padId;
                special[off + c] = 1;
            }
        }
        return new Batch(ids, types, att, special, b, t);
    }
}

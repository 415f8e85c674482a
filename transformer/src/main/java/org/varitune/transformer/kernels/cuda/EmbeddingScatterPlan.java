package org.varitune.transformer.kernels.cuda;

import java.util.Arrays;

/**
 * The token-to-row grouping behind the deterministic embedding backward (CSR): for each distinct table row used by the
 * n tokens, in ascending row order, the tokens that used it, in ascending token order. The GPU kernel gives one block
 * to each row and adds the tokens' gradient rows in this order, the order of the CPU's loop in
 * {@code Embeddings.backward}, so no two threads write the same row (no atomics) and the sums are bit-identical.
 *
 * @param rows    (numRows) the distinct rows, ascending
 * @param offsets (numRows + 1) tokens of rows[u] are members[offsets[u] .. offsets[u+1])
 * @param members the token indices, grouped by row, ascending within a group
 */
public record EmbeddingScatterPlan(int[] rows, int[] offsets, int[] members) {

    public int numRows() { return rows.length; }

    /**
     * Groups tokens {@code 0..n-1} by {@code rowOfToken[i]}; tokens whose row equals {@code skipRow} are left out
     * (HF's {@code padding_idx} row gets no gradient; pass −1 to keep all).
     *
     * @param rowOfToken (n) the table row each token read, not modified
     * @param tableRows  the table's row count; a row outside [0, tableRows) is an error naming the token
     * @param what       names the table in errors, e.g. {@code "embeddings.word_embeddings.weight"}
     */
    public static EmbeddingScatterPlan build(int[] rowOfToken, int n, int tableRows, int skipRow, String what) {
        if (n < 0 || n > rowOfToken.length) throw new IllegalArgumentException(what + ": n = " + n + " but " + rowOfToken.length + " row ids");
        int[] count = new int[tableRows + 1];
        for (int i = 0; i < n; i++) {
            int r = rowOfToken[i];
            if (r < 0 || r >= tableRows) {
                throw new IllegalArgumentException(what + ": token " + i + " reads row " + r + ", outside [0, " + tableRows + ")");
            }
            if (r != skipRow) count[r + 1]++;
        }
        int distinct = 0;
        for (int r = 0; r < tableRows; r++) if (count[r + 1] > 0) distinct++;
        for (int r = 0; r < tableRows; r++) count[r + 1] += count[r];      // count[r] = first slot of row r
        int[] members = new int[count[tableRows]];
        int[] next = Arrays.copyOf(count, tableRows);
        for (int i = 0; i < n; i++) {
            int r = rowOfToken[i];
            if (r != skipRow) members[next[r]++] = i;
        }
        int[] rows = new int[distinct], offsets = new int[distinct + 1];
        int u = 0;
        for (int r = 0; r < tableRows; r++) {
            if (count[r + 1] > count[r]) {
                rows[u] = r;
                offsets[u] = count[r];
                u++;
            }
        }
        offsets[distinct] = members.length;
        return new EmbeddingScatterPlan(rows, offsets, members);
    }
}

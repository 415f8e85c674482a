package org.varitune.transformer.tokenize;

/**
 * HF's {@code longest_first} truncation (direction right, stride 0), applied to the sequences before the special
 * tokens are added, with the budget {@code maxLength - addedTokens}.
 */
final class Truncation {
    private Truncation() {}

    /**
     * Kept lengths of A and B, as HF's {@code truncate_encodings}: if |A| + |B| &lt;= budget nothing is cut; a
     * single sequence keeps {@code budget}; for a pair with n1 &lt;= n2 the shorter and longer lengths, the longer
     * keeps {@code max(n1, budget - n1)} (or n1 when n1 &gt; budget) and, if the sum still exceeds the budget, the
     * shorter keeps {@code budget / 2} and the longer {@code budget / 2 + budget % 2}.
     *
     * @param lenA   length of sequence A
     * @param lenB   length of sequence B, or -1 for a single sequence
     * @param budget the number of sequence tokens allowed (max_length minus the special tokens), &gt;= 0
     * @return {kept A, kept B} (kept B = -1 for a single sequence); nothing is modified
     */
    static int[] longestFirst(int lenA, int lenB, int budget) {
        int total = lenA + Math.max(lenB, 0);
        if (total <= budget) return new int[] {lenA, lenB};
        if (lenB < 0) return new int[] {budget, -1};
        int n1 = lenA;
        int n2 = lenB;
        boolean swap = n1 > n2;
        if (swap) { int t = n1; n1 = n2; n2 = t; }
        n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
        if (n1 + n2 > budget) {
            n1 = budget / 2;
            n2 = n1 + budget % 2;
        }
        if (swap) { int t = n1; n1 = n2; n2 = t; }
        return new int[] {Math.min(n1, lenA), Math.min(n2, lenB)};
    }
}

package org.varitune.transformer.tokenize;

/**
 * The unpadded result of tokenizing one sentence or pair, as HF's {@code Encoding}. All arrays have length T.
 *
 * @param ids               token ids, (T)
 * @param typeIds           token type (segment) ids, (T)
 * @param attentionMask     1 for every token (an unpadded encoding has no padding), (T)
 * @param specialTokensMask 1 for tokens added by the post-processor ([CLS], [SEP], &lt;s&gt;, &lt;/s&gt;), else 0, (T)
 * @param tokens            token strings, (T)
 */
public record Encoding(int[] ids, int[] typeIds, int[] attentionMask, int[] specialTokensMask, String[] tokens) {

    public Encoding {
        int t = ids.length;
        if (typeIds.length != t || attentionMask.length != t || specialTokensMask.length != t || tokens.length != t) {
            throw new IllegalArgumentException("Encoding arrays differ in length: ids " + t + ", typeIds " + typeIds.length
                    + ", attentionMask " + attentionMask.length + ", specialTokensMask " + specialTokensMask.length
                    + ", tokens " + tokens.length);
        }
    }

    /** Number of tokens T. */
    public int length() { return ids.length; }
}

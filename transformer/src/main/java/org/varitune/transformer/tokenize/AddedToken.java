package org.varitune.transformer.tokenize;

/**
 * An entry of tokenizer.json's {@code added_tokens}: a string matched whole in the input before the model runs.
 *
 * @param id         token id
 * @param content    HF {@code content}
 * @param special    HF {@code special}
 * @param lstrip     HF {@code lstrip}: the match also swallows the White_Space on its left
 * @param rstrip     HF {@code rstrip}: the match also swallows the White_Space on its right
 * @param normalized HF {@code normalized}: matched in normalized text (with the normalized content), not raw text
 */
public record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip, boolean normalized) {

    public AddedToken {
        if (content == null || content.isEmpty()) throw new IllegalArgumentException("added token " + id + " has empty content");
    }

    /** A special token as BERT and RoBERTa define them: matched in raw text, no stripping. */
    public static AddedToken special(int id, String content) {
        return new AddedToken(id, content, true, false, false, false);
    }
}

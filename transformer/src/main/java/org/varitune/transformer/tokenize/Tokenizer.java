package org.varitune.transformer.tokenize;

import java.util.List;

/**
 * A text-to-ids tokenizer that reproduces Hugging Face {@code tokenizers} exactly for the pipelines it supports
 * (BERT WordPiece and RoBERTa byte-level BPE). Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /** One sentence with the post-processor's special tokens (e.g. {@code [CLS] A [SEP]}), no truncation. */
    Encoding encode(String text);

    /** A sentence pair with special tokens (e.g. {@code [CLS] A [SEP] B [SEP]}), no truncation. */
    Encoding encodePair(String a, String b);

    /**
     * One sentence or a pair with special tokens, truncated with HF's {@code longest_first} strategy so that the
     * result, special tokens included, has at most {@code maxLength} tokens.
     *
     * @param text       first sequence (A); not null
     * @param pairOrNull second sequence (B), or null for a single sentence
     * @param maxLength  0 = no truncation; otherwise at least the number of special tokens the template adds
     * @return an unpadded encoding; nothing is modified
     */
    Encoding encode(String text, String pairOrNull, int maxLength);

    /** Id used for padding ({@code padding.pad_id} of tokenizer.json, else the id of [PAD] / &lt;pad&gt;). */
    int padTokenId();

    /** Number of ids: 1 + the largest id of the model vocabulary and the added tokens. */
    int vocabSize();

    /** Token string of an id; throws IndexOutOfBoundsException naming the id when it is outside the vocabulary. */
    String idToToken(int id);

    /** Id of a token string (model vocabulary or added token), or -1 if absent. */
    int tokenToId(String tok);

    /** Contents of the special added tokens, in id order. */
    List<String> specialTokens();
}

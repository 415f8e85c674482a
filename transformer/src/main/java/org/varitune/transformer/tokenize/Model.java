package org.varitune.transformer.tokenize;

import java.util.Map;

/** Turns one pre-tokenized word into token ids (HF model: WordPiece or BPE). */
interface Model {

    /** Appends the ids of {@code word} (non-empty) to {@code out} (modified). */
    void tokenize(String word, IntList out);

    /** The model vocabulary: token → id. */
    Map<String, Integer> vocab();
}

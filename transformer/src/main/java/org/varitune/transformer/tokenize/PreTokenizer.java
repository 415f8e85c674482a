package org.varitune.transformer.tokenize;

import java.util.List;

/** Splits normalized text into words, each of which the model tokenizes independently (HF pre_tokenizer). */
public interface PreTokenizer {

    /** Appends the words of {@code text} to {@code out} (modified); empty words are never produced. */
    void split(String text, List<String> out);
}

package org.varitune.transformer.models;

import org.varitune.transformer.reference.WordPieceLite;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** The padded test batch of real sentences and pairs (B = 4, mixed lengths, token types 1 on second segments). */
final class RealSentences {
    private RealSentences() {}

    static final String[] FIRST = {
            "The quick brown fox jumps over the lazy dog.",
            "A man is playing a guitar on the street.",
            "Hidden states guide computation reduction.",
            "How old are you?",
    };
    static final String[] SECOND = {
            null,
            "Someone is playing an instrument outdoors.",
            null,
            "What is your age, if you don't mind me asking?",
    };

    /** The batch tokenized with the model directory's tokenizer.json. */
    static WordPieceLite.Encoded batch(Path modelDir) throws IOException {
        try (InputStream in = Files.newInputStream(modelDir.resolve("tokenizer.json"))) {
            return new WordPieceLite(in).encode(FIRST, SECOND);
        }
    }
}

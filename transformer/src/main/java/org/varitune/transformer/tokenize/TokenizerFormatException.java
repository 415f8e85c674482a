package org.varitune.transformer.tokenize;

import java.io.IOException;

/**
 * A tokenizer file ({@code tokenizer.json}, {@code vocab.txt}, {@code vocab.json}, {@code merges.txt},
 * {@code tokenizer_config.json}) that is malformed or that this project does not support. The message names the file
 * and, for JSON, the path of the offending value (e.g. {@code model.vocab['[PAD]']}, {@code added_tokens[3].id}).
 */
public final class TokenizerFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message names the file and the key at fault */
    public TokenizerFormatException(String message) {
        super(message);
    }

    /**
     * @param message names the file and the key at fault
     * @param cause   the underlying parse error
     */
    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

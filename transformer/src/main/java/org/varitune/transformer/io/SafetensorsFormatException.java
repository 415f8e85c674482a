package org.varitune.transformer.io;

import java.io.IOException;

/**
 * A safetensors file, or a sharded checkpoint's index, that breaks the format: a bad header, inconsistent offsets, a
 * tensor missing from its shard, or a dtype that cannot be read the way it was asked for. The message names the file
 * and, where there is one, the tensor or key.
 */
public class SafetensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message names the file and the tensor or key at fault */
    public SafetensorsFormatException(String message) {
        super(message);
    }

    /**
     * @param message names the file and the tensor or key at fault
     * @param cause   the underlying parse error
     */
    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}

package org.varitune.experiments.data;

import java.io.IOException;
import java.nio.file.Path;

/** A data file that does not have the expected format. The message names the file and the 1-based line. */
public final class MalformedDataException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final int line;

    /** @param line 1-based line number, or 0 when the problem concerns the whole file */
    public MalformedDataException(Path file, int line, String problem) {
        super(file + (line > 0 ? " line " + line : "") + ": " + problem);
        this.file = file;
        this.line = line;
    }

    /** The offending file. */
    public Path file() { return file; }

    /** 1-based line number, or 0 for a whole-file problem (e.g. an empty file). */
    public int line() { return line; }
}

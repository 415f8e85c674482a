package org.varitune.transformer.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Files written atomically: the content goes to a temporary file in the target's directory, which is then renamed
 * over the target ({@link StandardCopyOption#ATOMIC_MOVE}), so a reader or a killed process sees the old file or the
 * new one, never a partial one. The temporary file is removed on failure. (Large binary writers that also fsync,
 * {@link SafetensorsWriter} and the metric statistics files, do the same with their own streams.)
 */
public final class AtomicWrite {
    private AtomicWrite() {}

    /** Writes the content of a file given its temporary path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    /** Creates {@code file}'s directory if needed, lets {@code content} write a temporary file, renames it to file. */
    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            content.writeTo(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** {@link #write} of a UTF-8 text. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }
}

package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicWriteTest {
    @TempDir Path dir;

    private long files() throws IOException {
        try (Stream<Path> s = Files.list(dir.resolve("sub"))) { return s.count(); }
    }

    @Test
    void replacesTheFileAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("sub/a.txt");
        AtomicWrite.writeString(f, "one");
        AtomicWrite.writeString(f, "two");
        assertEquals("two", Files.readString(f));
        assertEquals(1, files());
    }

    @Test
    void aFailedWriteKeepsTheOldContentAndRemovesItsTemporaryFile() throws IOException {
        Path f = dir.resolve("sub/a.txt");
        AtomicWrite.writeString(f, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicWrite.write(f, tmp -> {
            Files.writeString(tmp, "partial");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(1, files());
    }
}

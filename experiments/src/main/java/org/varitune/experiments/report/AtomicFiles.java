package org.varitune.experiments.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;

/** Text and JSON files written atomically ({@link org.varitune.transformer.io.AtomicWrite}). */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void writeString(Path file, String text) throws IOException {
        org.varitune.transformer.io.AtomicWrite.writeString(file, text);
    }

    public static void writeJson(Path file, JsonNode node) throws IOException {
        writeString(file, JSON.writeValueAsString(node) + "\n");
    }

    /**
     * Every regular file named {@code name} below {@code root}, sorted. Safe while other processes (sweep shards) write
     * into the tree: an entry that vanishes between the listing and its inspection (a temporary file renamed into
     * place) is skipped, where {@code Files.walk} would throw {@code NoSuchFileException}.
     */
    public static java.util.List<java.nio.file.Path> find(java.nio.file.Path root, String name) throws java.io.IOException {
        java.util.List<java.nio.file.Path> found = new java.util.ArrayList<>();
        java.nio.file.Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(java.nio.file.Path f, java.nio.file.attribute.BasicFileAttributes a) {
                if (a.isRegularFile() && f.getFileName().toString().equals(name)) found.add(f);
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(java.nio.file.Path f, java.io.IOException e) throws java.io.IOException {
                if (e instanceof java.nio.file.NoSuchFileException) return java.nio.file.FileVisitResult.CONTINUE;
                throw e;
            }
        });
        java.util.Collections.sort(found);
        return found;
    }
}

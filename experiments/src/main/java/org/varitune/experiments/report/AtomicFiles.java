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
}

package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each malformed header is rejected with a message that names the file and, where there is one, the tensor. */
class SafetensorsFormatTest {
    @TempDir
    Path dir;

    private Path file(String header, int dataBytes) throws IOException {
        return RawSafetensors.write(dir.resolve("bad.safetensors"), header, new byte[dataBytes]);
    }

    /** Opens {@code file}, expects a format error, and checks that the message contains the file and each word. */
    private static SafetensorsFormatException assertRejected(Path file, String... words) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                f.names();
            }
        });
        String msg = e.getMessage();
        assertTrue(msg.contains(file.toString()), "message does not name the file: " + msg);
        for (String w : words) assertTrue(msg.contains(w), "message does not contain '" + w + "': " + msg);
        return e;
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void acceptsAWellFormedHandBuiltFile() throws IOException {
        Path f = file("{" + entry("a.weight", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[0]", "[8,8]") + "}", 8);
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertTrue(sf.names().contains("a.weight") && sf.names().contains("b"));
        }
    }

    @Test
    void rejectsFileShorterThan8Bytes() throws IOException {
        Path f = dir.resolve("tiny.safetensors");
        Files.write(f, new byte[] {1, 0, 0, 0, 0});
        assertRejected(f, "5 bytes", "shorter than");
    }

    @Test
    void rejectsHeaderLengthOver100MB() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("huge.safetensors"), 100_000_001L, "{}".getBytes(), new byte[0]);
        assertRejected(f, "100000001", "limit");
        Path g = RawSafetensors.write(dir.resolve("negative.safetensors"), -2L, "{}".getBytes(), new byte[0]);
        assertRejected(g, "18446744073709551614");
    }

    @Test
    void rejectsHeaderLengthBeyondFileEnd() throws IOException {
        Path f = RawSafetensors.write(dir.resolve("short.safetensors"), 64, "{}".getBytes(), new byte[4]);
        assertRejected(f, "header length 64", "past the end");
    }

    @Test
    void rejectsHeaderThatIsNotJson() throws IOException {
        assertRejected(file("{\"a\":{\"dtype\":\"F32\",", 0), "not valid JSON");
        assertRejected(file("{\"a\":1} trailing", 0), "not valid JSON");
        Path badUtf8 = RawSafetensors.write(dir.resolve("utf8.safetensors"), -1,
                new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}, new byte[0]);
        assertRejected(badUtf8);
    }

    @Test
    void rejectsHeaderThatIsNotAJsonObject() throws IOException {
        assertRejected(file("[1,2]", 0), "not a JSON object", "array");
        assertRejected(file("", 0), "not a JSON object");
    }

    @Test
    void rejectsEntryWithoutDtype() throws IOException {
        assertRejected(file("{\"x.w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "'x.w'", "dtype");
    }

    @Test
    void rejectsEntryWithoutShape() throws IOException {
        assertRejected(file("{\"x.w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4), "'x.w'", "shape");
    }

    @Test
    void rejectsEntryWithoutDataOffsets() throws IOException {
        assertRejected(file("{\"x.w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "'x.w'", "data_offsets");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "entry not an object    | {\"x.w\":[1,2]}                                                    | entry",
            "dtype not a string     | {\"x.w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}       | dtype",
            "shape not an array     | {\"x.w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}} | shape",
            "fractional dimension   | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}} | shape",
            "negative dimension     | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}  | shape",
            "dimension over 2^31    | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[4294967296],\"data_offsets\":[0,4]}} | shape",
            "offsets not an array   | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4}}       | data_offsets",
            "three offsets          | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}} | data_offsets",
            "string offset          | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}} | data_offsets",
            "negative offset        | {\"x.w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}  | data_offsets",
    })
    void rejectsEntryWithWrongTypes(String what, String header, String key) throws IOException {
        assertRejected(file(header.strip(), 8), "'x.w'", key.strip());
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        assertRejected(file("{" + entry("x.w", "F128", "[1]", "[0,16]") + "}", 16), "'x.w'", "unknown dtype 'F128'");
        assertRejected(file("{" + entry("x.w", "f32", "[1]", "[0,4]") + "}", 4), "'x.w'", "'f32'");
    }

    @Test
    void rejectsDataOffsetsOutsideTheDataBuffer() throws IOException {
        assertRejected(file("{" + entry("x.w", "F32", "[2]", "[4,12]") + "}", 8), "'x.w'", "[4, 12]", "outside",
                "8 bytes");
    }

    @Test
    void rejectsDataOffsetsWithBeginAfterEnd() throws IOException {
        assertRejected(file("{" + entry("x.w", "F32", "[1]", "[8,4]") + "}", 8), "'x.w'", "begin 8 > end 4");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        String h = "{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b.bias", "F32", "[2]", "[4,12]") + "}";
        assertRejected(file(h, 12), "'a'", "'b.bias'", "overlap");
    }

    @Test
    void rejectsMisSizedTensor() throws IOException {
        assertRejected(file("{" + entry("x.w", "BF16", "[3,2]", "[0,8]") + "}", 8), "'x.w'", "[3, 2]", "12 bytes",
                "8 bytes");
    }

    @Test
    void rejectsDuplicateTensorNames() throws IOException {
        String h = "{" + entry("x.w", "F32", "[1]", "[0,4]") + "," + entry("x.w", "F32", "[1]", "[4,8]") + "}";
        assertRejected(file(h, 8), "x.w", "duplicate");
    }

    @Test
    void rejectsMetadataThatIsNotAnObject() throws IOException {
        assertRejected(file("{\"__metadata__\":[\"pt\"]," + entry("a", "F32", "[1]", "[0,4]") + "}", 4),
                "__metadata__", "object");
    }

    @Test
    void rejectsMetadataWithNonStringValue() throws IOException {
        assertRejected(file("{\"__metadata__\":{\"format\":\"pt\",\"step\":3}}", 0), "__metadata__", "'step'");
    }

    @Test
    void reportsTheFileWhenOpenedThroughSafetensorsOpen() throws IOException {
        Path f = file("{" + entry("x.w", "F32", "[1]", "[0,8]") + "}", 8);
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> Safetensors.open(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("'x.w'"), e.getMessage());
    }
}

package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
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

    // ---- issue 14: validation as the reference implementation does it -------------------------------------------

    /**
     * A valid file whose header ends in two padding spaces, as writers pad to 8 bytes, with its header-length prefix
     * lowered by {@code shortBy}: the shortened header still parses.
     */
    private Path withHeaderLengthShortBy(int shortBy) throws IOException {
        byte[] header = ("{" + entry("w", "F32", "[3]", "[0,12]") + "}  ").getBytes(StandardCharsets.UTF_8);
        return RawSafetensors.write(dir.resolve("short" + shortBy + ".safetensors"), header.length - shortBy, header,
                RawSafetensors.floats(1, 2, 3));
    }

    @Test
    void rejectsAHeaderLengthOneOrTwoBytesShortInsteadOfReadingEveryTensorShifted() throws IOException {
        assertRejected(withHeaderLengthShortBy(1), "1 bytes left over", "header length");
        assertRejected(withHeaderLengthShortBy(2), "2 bytes left over");
    }

    @Test
    void rejectsAUtf8ByteOrderMark() throws IOException {
        byte[] json = ("{" + entry("a", "F32", "[1]", "[0,4]") + "}").getBytes(StandardCharsets.UTF_8);
        Path f = RawSafetensors.write(dir.resolve("bom.safetensors"), -1,
                RawSafetensors.concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, json), new byte[4]);
        assertRejected(f, "byte-order mark");
    }

    @Test
    void rejectsUtf16Headers() throws IOException {
        String h = "{" + entry("a", "F32", "[1]", "[0,4]") + "}";
        for (String cs : new String[] {"UTF-16", "UTF-16LE", "UTF-16BE"}) {
            Path f = RawSafetensors.write(dir.resolve(cs + ".safetensors"), -1, h.getBytes(Charset.forName(cs)),
                    new byte[4]);
            assertRejected(f);
        }
    }

    @Test
    void rejectsAHoleBetweenTensors() throws IOException {
        String h = "{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}";
        assertRejected(file(h, 12), "'b'", "begins at data offset 8", "'a' ends at 4", "hole of 4 bytes");
    }

    @Test
    void rejectsAFirstTensorThatDoesNotBeginAtZero() throws IOException {
        assertRejected(file("{" + entry("a", "F32", "[1]", "[4,8]") + "}", 8), "'a'", "begins at 0");
    }

    @Test
    void rejectsTrailingBytesAfterTheLastTensor() throws IOException {
        assertRejected(file("{" + entry("a", "F32", "[1]", "[0,4]") + "}", 5), "cover 4 data bytes", "holds 5",
                "1 bytes left over");
        assertRejected(file("{}", 3), "cover 0 data bytes", "3 bytes left over");
    }

    @Test
    void acceptsEmptyTensorsAtTheBoundariesOfOthers() throws IOException {
        String h = "{" + entry("e0", "F32", "[0]", "[0,0]") + "," + entry("a", "F32", "[1]", "[0,4]") + ","
                + entry("e1", "I64", "[2,0]", "[4,4]") + "," + entry("b", "U8", "[2]", "[4,6]") + ","
                + entry("e2", "BF16", "[0]", "[6,6]") + "}";
        try (SafetensorsFile f = SafetensorsFile.open(file(h, 6))) {
            assertTrue(f.names().size() == 5 && f.readLong("e1").length == 0);
        }
    }
}

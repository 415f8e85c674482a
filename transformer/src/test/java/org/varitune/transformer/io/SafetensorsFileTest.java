package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.varitune.transformer.io.RawSafetensors.concat;
import static org.varitune.transformer.io.RawSafetensors.floats;
import static org.varitune.transformer.io.RawSafetensors.shorts;

/** Round trips through {@link SafetensorsWriter} and {@link SafetensorsFile}, and hand-built F16 bytes. */
class SafetensorsFileTest extends TestBase {
    /**
     * bf16 keeps 8 significant bits, so for normal x in [2^e, 2^(e+1)) round-to-nearest is within half an ulp,
     * 2^(e-8), hence |bf16(x) − x| ≤ 2^-8·|x|. An exact bound of the format, not an observed error.
     */
    private static final double BF16_HALF_ULP_RELATIVE = 0x1p-8;

    @TempDir
    Path dir;

    @Test
    void roundTripsF32Exactly() throws IOException {
        float[] w = randn(3 * 5);
        float[] special = {Float.MIN_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NaN, -0.0f};
        Path file = dir.resolve("f32.safetensors");
        new SafetensorsWriter().addF32("dense.weight", w, 3, 5).addF32("special", special, 5)
                .addF32("scalar", new float[] {7.25f}).addF32("empty", new float[0], 0, 4).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(w, f.readFloat("dense.weight"));
            assertArrayEquals(special, f.readFloat("special"));
            assertArrayEquals(new float[] {7.25f}, f.readFloat("scalar"));
            assertArrayEquals(new float[0], f.readFloat("empty"));
            assertEquals(List.of("dense.weight", "empty", "scalar", "special"), List.copyOf(f.names()));
            TensorInfo info = f.info("dense.weight");
            assertEquals(DType.F32, info.dtype());
            assertArrayEquals(new int[] {3, 5}, info.shape());
            assertEquals(0, info.byteOffset());
            assertEquals(60, info.byteLength());
            assertArrayEquals(new int[0], f.info("scalar").shape());
        }
    }

    @Test
    void roundTripsTensorsLargerThanTheWriteBuffer() throws IOException {
        // The writer streams through a 1 MiB buffer; an odd-length BF16 tensor first puts the F32 data off-alignment.
        float[] odd = randn(3);
        float[] big = randn(300_001); // 1.2 MB of F32
        long[] ids = new long[150_001];
        for (int i = 0; i < ids.length; i++) ids[i] = rand.nextLong();
        Path file = dir.resolve("big.safetensors");
        new SafetensorsWriter().addBf16("a", odd, 3).addF32("b", big, 300_001).addI64("c", ids, 150_001).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(big, f.readFloat("b"));
            assertArrayEquals(ids, f.readLong("c"));
        }
    }

    @Test
    void roundTripsBf16WithinHalfAnUlp() throws IOException {
        float[] w = randn(64);
        Path file = dir.resolve("bf16.safetensors");
        new SafetensorsWriter().addBf16("w", w, 8, 8).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(DType.BF16, f.info("w").dtype());
            assertEquals(128, f.info("w").byteLength());
            float[] got = f.readFloat("w");
            for (int i = 0; i < w.length; i++) {
                double rel = Math.abs(got[i] - w[i]) / Math.abs(w[i]);
                assertTrue(rel <= BF16_HALF_ULP_RELATIVE, "w[" + i + "] = " + w[i] + " read back as " + got[i]);
                assertEquals(FloatFormats.roundToBf16(w[i]), got[i], "w[" + i + "]");
            }
        }
    }

    @Test
    void roundTripsBf16RepresentableValuesExactly() throws IOException {
        float[] exact = {0f, -0.0f, 1f, -1.5f, 0.375f, 3.0e38f, 0x1p-133f, 0x1.fep127f, Float.NEGATIVE_INFINITY,
                Float.NaN, Float.intBitsToFloat(0x7F800001), 123f * 64};
        Path file = dir.resolve("exact.safetensors");
        new SafetensorsWriter().addBf16("x", exact, exact.length).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            float[] got = f.readFloat("x");
            for (int i = 0; i < exact.length; i++) {
                if (Float.isNaN(exact[i])) {
                    assertTrue(Float.isNaN(got[i]), "NaN at " + i + " read back as " + got[i]);
                } else {
                    // 3.0e38 is not representable; check it separately below.
                    if (i != 5) assertEquals(exact[i], got[i], "x[" + i + "]");
                }
            }
            assertEquals(FloatFormats.roundToBf16(3.0e38f), got[5]);
        }
    }

    @Test
    void bf16RoundsToNearestEvenAndOverflowsToInfinity() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa, 1.
        assertEquals(1f, FloatFormats.roundToBf16(1f + 0x1p-8f));
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
        assertEquals(1f + 0x1p-6f, FloatFormats.roundToBf16(1f + 3 * 0x1p-8f));
        // Just above the tie rounds up.
        assertEquals(1f + 0x1p-7f, FloatFormats.roundToBf16(1f + 0x1p-8f + 0x1p-20f));
        assertEquals(-1f - 0x1p-6f, FloatFormats.roundToBf16(-1f - 3 * 0x1p-8f));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.roundToBf16(Float.MAX_VALUE));
        // A NaN whose payload sits only in the dropped low bits must not become infinity.
        assertTrue(Float.isNaN(FloatFormats.roundToBf16(Float.intBitsToFloat(0x7F800001))));
        assertTrue(Float.isNaN(FloatFormats.roundToBf16(Float.intBitsToFloat(0xFF800001))));
        assertEquals((short) 0xFFC0, FloatFormats.floatToBf16(Float.intBitsToFloat(0xFF800001)));
    }

    @Test
    void readsHandBuiltF16IncludingSubnormalsAndInfinities() throws IOException {
        int[] bits = {0x3C00, 0xC000, 0x3555, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x8001, 0x0000};
        float[] expected = {1f, -2f, 0.333251953125f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, -0x1p-24f, 0f};
        Path file = RawSafetensors.write(dir.resolve("f16.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]}}", shorts(bits));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(expected, f.readFloat("h"));
        }
    }

    @Test
    void readsF16NanWithPayload() {
        float quiet = FloatFormats.f16ToFloat((short) 0x7E00);
        float payload = FloatFormats.f16ToFloat((short) 0xFC01);
        assertTrue(Float.isNaN(quiet));
        assertTrue(Float.isNaN(payload));
        assertEquals(0xFF802000, Float.floatToRawIntBits(payload));
    }

    @Test
    void roundTripsI64AndI32() throws IOException {
        long[] ids = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 101, 2054};
        int[] small = {Integer.MIN_VALUE, -7, 0, 42, Integer.MAX_VALUE, 3};
        Path file = dir.resolve("ints.safetensors");
        new SafetensorsWriter().addI64("input_ids", ids, 1, 7).addI32("token_type_ids", small, 2, 3).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(ids, f.readLong("input_ids"));
            assertEquals(DType.I64, f.info("input_ids").dtype());
            long[] widened = f.readLong("token_type_ids");
            for (int i = 0; i < small.length; i++) assertEquals(small[i], widened[i], "token_type_ids[" + i + "]");
            assertEquals(DType.I32, f.info("token_type_ids").dtype());
        }
    }

    @Test
    void readsF64NarrowedToNearestFloat() throws IOException {
        double[] d = {0.1, -1e-300, 1e300, Math.PI, 2.5};
        Path file = dir.resolve("f64.safetensors");
        new SafetensorsWriter().addF64("d", d, 5).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            float[] got = f.readFloat("d");
            for (int i = 0; i < d.length; i++) assertEquals((float) d[i], got[i], "d[" + i + "]");
        }
    }

    @Test
    void roundTripsMetadata() throws IOException {
        Path file = dir.resolve("meta.safetensors");
        new SafetensorsWriter().metadata("format", "pt").metadata("step", "12").metadata("note", "ünïcode \"q\"")
                .addF32("a", new float[] {1f}, 1).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "step", "12", "note", "ünïcode \"q\""), f.metadata());
            assertEquals(List.of("a"), List.copyOf(f.names()));
        }
    }

    @Test
    void writesHeaderPaddedToMultipleOf8WithTensorsInNameOrder() throws IOException {
        Path file = dir.resolve("layout.safetensors");
        new SafetensorsWriter().addF32("z", new float[] {1, 2}, 2).addBf16("a", new float[] {1, 2, 3}, 3)
                .addI64("m", new long[] {5}, 1).metadata("format", "pt").write(file);
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8, "header length " + n);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
        String padding = header.substring(header.stripTrailing().length());
        assertTrue(padding.chars().allMatch(c -> c == ' ') && padding.length() < 8, "padding '" + padding + "'");
        assertTrue(header.stripTrailing().endsWith("}"), header);
        assertEquals(8 + n + 6 + 8 + 8, bytes.length);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(0, f.info("a").byteOffset());
            assertEquals(6, f.info("m").byteOffset());
            assertEquals(14, f.info("z").byteOffset());
            assertEquals(8 + n, f.dataStart());
            assertArrayEquals(new float[] {1, 2}, f.readFloat("z"));
        }
    }

    @ParameterizedTest(name = "window of {0} bytes")
    @ValueSource(longs = {64, 7, 3, 1})
    void readsTensorsStraddlingWindowBoundaries(long window) throws IOException {
        // A 3-element BF16 tensor first makes every later tensor start at an odd offset, so elements are cut by the
        // window boundaries whatever the window size.
        float[] a = {1.5f, -2f, 0.25f};
        float[] big = randn(50);
        long[] ids = {Long.MIN_VALUE, 3, -4, Long.MAX_VALUE, 77, 0, 9, -1, 12345678901L};
        float[] bf = randn(21);
        Path file = dir.resolve("windows.safetensors");
        new SafetensorsWriter().addBf16("a", a, 3).addF32("b.weight", big, 5, 10).addI64("c.ids", ids, 9)
                .addBf16("d.bf16", bf, 3, 7).write(file);
        try (SafetensorsFile f = new SafetensorsFile(file, window);
             SafetensorsFile whole = SafetensorsFile.open(file)) {
            assertEquals(6, f.info("b.weight").byteOffset());
            assertArrayEquals(a, f.readFloat("a"));
            assertArrayEquals(big, f.readFloat("b.weight"));
            assertArrayEquals(ids, f.readLong("c.ids"));
            assertArrayEquals(whole.readFloat("d.bf16"), f.readFloat("d.bf16"));
        }
    }

    @ParameterizedTest(name = "window of {0} bytes")
    @ValueSource(longs = {64, 5, 1})
    void readsHandBuiltF16AcrossWindowBoundaries(long window) throws IOException {
        // One pad byte (a U8 tensor) puts the F16 data at odd offsets.
        int[] bits = new int[40];
        float[] expected = new float[40];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = 0x3C00 + 25 * i;  // 1.0 upwards in steps of 25 ulps, staying below 2.0
            expected[i] = 1f + 25 * i * 0x1p-10f;
        }
        bits[39] = 0x0003;
        expected[39] = 3 * 0x1p-24f;
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[40],\"data_offsets\":[1,81]}}";
        Path file = RawSafetensors.write(dir.resolve("f16w.safetensors"), header,
                concat(new byte[] {(byte) 200}, shorts(bits)));
        try (SafetensorsFile f = new SafetensorsFile(file, window)) {
            assertArrayEquals(expected, f.readFloat("h"));
            assertArrayEquals(new long[] {200}, f.readLong("pad"));
        }
    }

    @Test
    void missingTensorNameNamesTensorAndFile() throws IOException {
        Path file = dir.resolve("one.safetensors");
        new SafetensorsWriter().addF32("a", new float[] {1}, 1).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.readFloat("nope.weight"));
            assertTrue(e.getMessage().contains("nope.weight") && e.getMessage().contains(file.toString()), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.info("__metadata__"));
        }
    }

    @Test
    void rejectsReadingWithTheWrongKindOfDtype() throws IOException {
        Path file = dir.resolve("kinds.safetensors");
        new SafetensorsWriter().addI64("ids", new long[] {1}, 1).addF32("w", new float[] {1}, 1).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> f.readFloat("ids"));
            assertTrue(e.getMessage().contains("'ids'") && e.getMessage().contains("I64")
                    && e.getMessage().contains(file.toString()), e.getMessage());
            e = assertThrows(SafetensorsFormatException.class, () -> f.readLong("w"));
            assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("F32"), e.getMessage());
        }
    }

    @Test
    void rejectsReadsAfterClose() throws IOException {
        Path file = dir.resolve("closed.safetensors");
        new SafetensorsWriter().addF32("a", new float[] {1}, 1).write(file);
        SafetensorsFile f = SafetensorsFile.open(file);
        f.close();
        f.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.readFloat("a"));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void writerRejectsDuplicateNamesAndShapeMismatches() {
        SafetensorsWriter w = new SafetensorsWriter().addF32("a", new float[] {1, 2}, 2);
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> w.addI64("a", new long[] {1}, 1));
        assertTrue(dup.getMessage().contains("'a'"), dup.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> w.addF32("b", new float[5], 2, 3));
        assertTrue(shape.getMessage().contains("'b'") && shape.getMessage().contains("[2, 3]")
                && shape.getMessage().contains("5"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.addF32("c", new float[0], -1, 0));
        assertThrows(IllegalArgumentException.class, () -> w.addF32("__metadata__", new float[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> w.metadata("k", "v").metadata("k", "w"));
        assertEquals(List.of("a"), List.copyOf(w.names()));
    }

    @Test
    void writeReplacesTheTargetAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        new SafetensorsWriter().addF32("old", new float[] {1}, 1).write(file);
        float[] data = {4, 5, 6};
        SafetensorsWriter w = new SafetensorsWriter().addF32("new", data, 3);
        data[0] = -100; // the writer copied the data when it was added
        w.write(file);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("new"), List.copyOf(f.names()));
            assertArrayEquals(new float[] {4, 5, 6}, f.readFloat("new"));
        }
    }

    @Test
    void failedWriteLeavesTargetUntouchedAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("taken");
        Files.createDirectory(target);
        Files.writeString(target.resolve("child"), "x"); // a non-empty directory cannot be replaced
        SafetensorsWriter w = new SafetensorsWriter().addF32("a", new float[] {1}, 1);
        assertThrows(IOException.class, () -> w.write(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
        assertTrue(Files.isRegularFile(target.resolve("child")));
    }
}

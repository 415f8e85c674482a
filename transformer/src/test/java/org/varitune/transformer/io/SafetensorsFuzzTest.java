package org.varitune.transformer.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.FuzzCampaign;
import org.varitune.transformer.testing.TestBase;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link SafetensorsFile} and {@link ShardedSafetensors} with valid files under bit flips, truncation,
 * appended bytes, header-length edits, re-encodings and header text edits. An accepted file must read consistently:
 * its tensors, sorted by offset and re-encoded from the values the reader returns, give back the file's data bytes
 * exactly (so nothing is shifted, missing or left over), and each equals an independent decode of its bytes by this
 * test. A rejected file must raise {@link SafetensorsFormatException} naming the file.
 */
@Tag("fuzz")
class SafetensorsFuzzTest extends TestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I64", "I32", "U32", "I16", "U16", "I8", "U8",
            "BOOL"};
    private static final String[] NAMES = {"a", "b.weight", "encoder.layer.0.attention.self.query.bias", "x", "é名",
            "__meta", "t 1", "z"};

    @TempDir
    Path dir;

    @Test
    void everySingleFileIsReadConsistentlyOrRejectedWithATypedErrorNamingTheFile() {
        FuzzCampaign c = new FuzzCampaign("safetensors-single", SafetensorsFormatException.class)
                .run(FuzzCampaign.cases(3000), k -> {
                    Path f = k.file(dir.resolve("case" + k.index() % 8 + ".safetensors"));
                    byte[] bytes = mutate(k, validFile(k.random()));
                    Files.write(f, bytes);
                    try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                        checkConsistent(sf, bytes);
                    }
                });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    @Test
    void everyShardedCheckpointIsReadConsistentlyOrRejectedWithATypedErrorNamingTheFile() {
        FuzzCampaign c = new FuzzCampaign("safetensors-sharded", SafetensorsFormatException.class)
                .run(FuzzCampaign.cases(1500), k -> {
                    Path d = Files.createDirectories(dir.resolve("ckpt" + k.index() % 8));
                    try (var s = Files.list(d)) { for (Path p : s.toList()) Files.delete(p); }
                    Path index = k.file(d.resolve(Safetensors.INDEX_FILE));
                    Random r = k.random();
                    int shards = 1 + r.nextInt(3);
                    Map<String, String> weightMap = new TreeMap<>();
                    Map<String, byte[]> files = new TreeMap<>();
                    for (int s = 0; s < shards; s++) {
                        String name = "model-0000" + (s + 1) + "-of-0000" + shards + ".safetensors";
                        byte[] b = validFile(r, "s" + s + ".");
                        for (String t : tensorNames(b)) weightMap.put(t, name);
                        files.put(name, b);
                    }
                    String idx = indexJson(r, weightMap);
                    int what = r.nextInt(4);
                    if (what == 0) {
                        idx = FuzzCampaign.mutateText(k, idx);
                    } else if (what == 1 && !files.isEmpty()) {
                        String victim = new ArrayList<>(files.keySet()).get(r.nextInt(files.size()));
                        files.put(victim, mutate(k, files.get(victim)));
                    } else if (what == 2) {
                        k.note("shard name");
                        idx = badShardName(r, idx, weightMap);
                    } else {
                        k.note("valid");
                    }
                    for (var e : files.entrySet()) Files.write(k.file(d.resolve(e.getKey())), e.getValue());
                    Files.write(index, idx.getBytes(StandardCharsets.UTF_8)); // a lone surrogate becomes ?
                    try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
                        s.verify();
                        for (String shard : s.shards()) {
                            byte[] b = Files.readAllBytes(d.resolve(shard));
                            try (SafetensorsFile sf = SafetensorsFile.open(d.resolve(shard))) {
                                checkConsistent(sf, b);
                                for (String t : sf.names()) {
                                    assertEquals(shard, s.shardFor(t), t);
                                    if (sf.info(t).dtype().isReadableAsFloat()) {
                                        assertArrayEquals(sf.readFloat(t), s.readFloat(t), t);
                                    } else if (sf.info(t).dtype().isReadableAsLong()) {
                                        assertArrayEquals(sf.readLong(t), s.readLong(t), t);
                                    }
                                }
                            }
                        }
                    }
                });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    // ---- generation -------------------------------------------------------------------------------------------

    static byte[] validFile(Random r) { return validFile(r, ""); }

    /** A valid file: 0-4 tensors of random dtypes and shapes in a random header order, random bytes as data. */
    static byte[] validFile(Random r, String prefix) {
        int n = r.nextInt(5);
        List<String> names = new ArrayList<>();
        while (names.size() < n) {
            String name = prefix + NAMES[r.nextInt(NAMES.length)];
            if (!names.contains(name)) names.add(name);
        }
        StringBuilder h = new StringBuilder("{");
        if (r.nextInt(3) == 0) h.append("\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        List<String> entries = new ArrayList<>();
        long off = 0;
        for (String name : names) {
            String dtype = DTYPES[r.nextInt(DTYPES.length)];
            int rank = r.nextInt(4);
            int[] shape = new int[rank];
            long numel = 1;
            for (int i = 0; i < rank; i++) { shape[i] = r.nextInt(rank == 1 ? 6 : 4); numel *= shape[i]; }
            int bytes = (int) numel * size(dtype);
            byte[] d = new byte[bytes];
            r.nextBytes(d);
            if (dtype.equals("BOOL")) for (int i = 0; i < d.length; i++) d[i] &= 1;
            data.writeBytes(d);
            entries.add("\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + Arrays.toString(shape)
                    + ",\"data_offsets\":[" + off + "," + (off + bytes) + "]}");
            off += bytes;
        }
        java.util.Collections.shuffle(entries, r);
        for (String e : entries) h.append(h.length() > 1 ? "," : "").append(e);
        h.append("}");
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8 + 8 * r.nextInt(2);
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return RawSafetensors.concat(le64(header.length), header, data.toByteArray());
    }

    /** Applies one random mutation (or none) and notes which. */
    static byte[] mutate(FuzzCampaign.Case k, byte[] b) {
        Random r = k.random();
        int n = (int) ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        byte[] header = Arrays.copyOfRange(b, 8, 8 + n);
        byte[] data = Arrays.copyOfRange(b, 8 + n, b.length);
        switch (r.nextInt(11)) {
            case 0 -> { k.note("valid"); return b; }
            case 1 -> {
                k.note("bit flips anywhere");
                byte[] m = b.clone();
                for (int i = 1 + r.nextInt(3); i > 0; i--) { int p = r.nextInt(m.length); m[p] ^= (byte) (1 << r.nextInt(8)); }
                return m;
            }
            case 2 -> {
                k.note("bit flip in the prefix or header");
                byte[] m = b.clone();
                int p = r.nextInt(8 + n);
                m[p] ^= (byte) (1 << r.nextInt(8));
                return m;
            }
            case 3 -> { k.note("truncated"); return Arrays.copyOf(b, r.nextInt(b.length + 1)); }
            case 4 -> {
                k.note("bytes appended");
                byte[] extra = new byte[1 + r.nextInt(8)];
                r.nextBytes(extra);
                return RawSafetensors.concat(b, extra);
            }
            case 5 -> {
                int d = r.nextInt(7) - 3;
                k.note("header length " + (d >= 0 ? "+" : "") + d);
                return RawSafetensors.concat(le64(n + d), header, data);
            }
            case 6 -> {
                k.note("UTF-8 byte-order mark");
                return RawSafetensors.concat(le64(n + 3), new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, header, data);
            }
            case 7 -> {
                String cs = r.nextBoolean() ? "UTF-16LE" : r.nextBoolean() ? "UTF-16BE" : "UTF-16";
                k.note("header in " + cs);
                byte[] h16 = new String(header, StandardCharsets.UTF_8).getBytes(java.nio.charset.Charset.forName(cs));
                return RawSafetensors.concat(le64(h16.length), h16, data);
            }
            case 8 -> {
                k.note("a hole: data shifted by inserted bytes");
                int at = data.length == 0 ? 0 : r.nextInt(data.length + 1);
                byte[] ins = new byte[1 + r.nextInt(4)];
                return RawSafetensors.concat(le64(n), header, Arrays.copyOf(data, at), ins,
                        Arrays.copyOfRange(data, at, data.length));
            }
            case 9 -> {
                k.note("a byte removed");
                if (b.length == 0) return b;
                int p = r.nextInt(b.length);
                return RawSafetensors.concat(Arrays.copyOf(b, p), Arrays.copyOfRange(b, p + 1, b.length));
            }
            default -> {
                byte[] h = FuzzCampaign.mutateText(k, new String(header, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
                return RawSafetensors.concat(le64(h.length), h, data);
            }
        }
    }

    /** The index with one tensor mapped to a shard name that is not a plain file name, or a shuffled map. */
    private static String badShardName(Random r, String idx, Map<String, String> weightMap) {
        String[] bad = {"a\u0000b.safetensors", "../model.safetensors", "sub/model.safetensors", "..", ".", "",
                "C:model.safetensors", "model\\x.safetensors", "\u0001", "/etc/passwd", "missing.safetensors"};
        if (weightMap.isEmpty()) return idx;
        String t = new ArrayList<>(weightMap.keySet()).get(r.nextInt(weightMap.size()));
        Map<String, String> m = new TreeMap<>(weightMap);
        m.put(t, bad[r.nextInt(bad.length)]);
        return indexJson(r, m);
    }

    private static String indexJson(Random r, Map<String, String> weightMap) {
        var root = JSON.createObjectNode();
        root.putObject("metadata").put("total_size", r.nextInt(1000));
        var wm = root.putObject("weight_map");
        weightMap.forEach(wm::put);
        return root.toString();
    }

    private static List<String> tensorNames(byte[] file) {
        List<String> out = new ArrayList<>();
        independentHeader(file).fieldNames().forEachRemaining(n -> { if (!n.equals("__metadata__")) out.add(n); });
        return out;
    }

    // ---- the independent check --------------------------------------------------------------------------------

    /** The header as this test reads it: u64 length, then that many bytes of JSON. */
    private static JsonNode independentHeader(byte[] file) {
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        try {
            return JSON.readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new AssertionError("the reader accepted a header this test cannot parse: " + e);
        }
    }

    /**
     * The accepted file, tensor by tensor in offset order: the reader's values re-encoded give back the data bytes
     * (F64, read narrowed to float, and NaNs compare with the independent decode instead), and the reader's values
     * equal this test's decode of the bytes at 8 + N + begin.
     */
    private static void checkConsistent(SafetensorsFile sf, byte[] file) throws Exception {
        JsonNode h = independentHeader(file);
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int dataStart = (int) (8 + n);
        assertEquals(dataStart, sf.dataStart(), "data start");
        List<String> names = new ArrayList<>(sf.names());
        List<String> expectedNames = new ArrayList<>();
        h.fieldNames().forEachRemaining(x -> { if (!x.equals("__metadata__")) expectedNames.add(x); });
        assertEquals(new java.util.TreeSet<>(expectedNames), new java.util.TreeSet<>(names), "tensor names");
        names.sort(Comparator.comparingLong((String x) -> h.get(x).get("data_offsets").get(0).asLong())
                .thenComparingLong(x -> h.get(x).get("data_offsets").get(1).asLong()));
        ByteArrayOutputStream reencoded = new ByteArrayOutputStream();
        for (String name : names) {
            JsonNode e = h.get(name);
            String dtype = e.get("dtype").asText();
            int begin = dataStart + (int) e.get("data_offsets").get(0).asLong();
            int end = dataStart + (int) e.get("data_offsets").get(1).asLong();
            TensorInfo info = sf.info(name);
            assertEquals(dtype, info.dtype().name(), name);
            assertEquals(end - begin, info.byteLength(), name);
            ByteBuffer raw = ByteBuffer.wrap(file, begin, end - begin).slice().order(ByteOrder.LITTLE_ENDIAN);
            int count = (end - begin) / size(dtype);
            ByteBuffer out = ByteBuffer.allocate(end - begin).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case "F32", "F16", "BF16", "F64" -> {
                    float[] v = sf.readFloat(name);
                    assertEquals(count, v.length, name);
                    for (int i = 0; i < count; i++) {
                        float ind = switch (dtype) {
                            case "F32" -> raw.getFloat(4 * i);
                            case "F16" -> halfToFloat(raw.getShort(2 * i));
                            case "BF16" -> Float.intBitsToFloat(raw.getShort(2 * i) << 16);
                            default -> (float) raw.getDouble(8 * i);
                        };
                        assertTrue(Float.compare(ind, v[i]) == 0 || Float.isNaN(ind) && Float.isNaN(v[i]),
                                name + "[" + i + "]: read " + v[i] + ", bytes say " + ind);
                        if (Float.isNaN(v[i]) || dtype.equals("F64")) {
                            out.put(raw.duplicate().position(i * size(dtype)).limit((i + 1) * size(dtype)));
                        } else switch (dtype) {
                            case "F32" -> out.putFloat(v[i]);
                            case "F16" -> out.putShort(floatToHalf(v[i]));
                            default -> out.putShort((short) (Float.floatToRawIntBits(v[i]) >>> 16));
                        }
                    }
                }
                case "U64", "F8_E5M2", "F8_E4M3" -> {     // reachable only by mutation: not readable, documented
                    assertThrows(SafetensorsFormatException.class, () -> sf.readFloat(name));
                    assertThrows(SafetensorsFormatException.class, () -> sf.readLong(name));
                    out.put(raw.duplicate());
                }
                default -> {
                    long[] v = sf.readLong(name);
                    assertEquals(count, v.length, name);
                    int sz = size(dtype);
                    for (int i = 0; i < count; i++) {
                        long ind = switch (dtype) {
                            case "I64" -> raw.getLong(8 * i);
                            case "I32" -> raw.getInt(4 * i);
                            case "U32" -> raw.getInt(4 * i) & 0xFFFFFFFFL;
                            case "I16" -> raw.getShort(2 * i);
                            case "U16" -> raw.getShort(2 * i) & 0xFFFF;
                            case "I8" -> raw.get(i);
                            default -> raw.get(i) & 0xFF;
                        };
                        assertEquals(ind, v[i], name + "[" + i + "]");
                        for (int b = 0; b < sz; b++) out.put((byte) (v[i] >>> (8 * b)));
                    }
                }
            }
            reencoded.writeBytes(out.array());
        }
        assertArrayEquals(Arrays.copyOfRange(file, dataStart, file.length), reencoded.toByteArray(),
                "the tensors, re-encoded in offset order, differ from the file's data bytes");
    }

    static int size(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            default -> 1;
        };
    }

    private static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    /** IEEE half to float by the definition: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024. */
    private static float halfToFloat(short h) {
        int s = (h >>> 15) & 1, e = (h >>> 10) & 0x1F, m = h & 0x3FF;
        double v = e == 0 ? Math.scalb(m / 1024.0, -14) : e == 31 ? (m == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                : Math.scalb(1 + m / 1024.0, e - 15);
        return (float) (s == 1 ? -v : v);
    }

    /** Float to half for values a half represents exactly (what {@link #halfToFloat} produced). */
    private static short floatToHalf(float f) {
        int sign = (Float.floatToRawIntBits(f) >>> 16) & 0x8000;
        float a = Math.abs(f);
        if (Float.isInfinite(a)) return (short) (sign | 0x7C00);
        if (a == 0) return (short) sign;
        int exp = Math.getExponent(a);
        if (exp >= -14) return (short) (sign | (exp + 15) << 10 | (int) (Math.scalb(a, -exp) * 1024 - 1024));
        return (short) (sign | (int) Math.scalb(a, 24));
    }
}

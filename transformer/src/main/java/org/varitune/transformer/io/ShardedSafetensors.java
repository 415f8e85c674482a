package org.varitune.transformer.io;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A checkpoint split over several safetensors files, described by {@code model.safetensors.index.json}:
 * <pre>{@code {"metadata": {"total_size": 437951328}, "weight_map": {"bert.pooler.dense.bias": "model-00002-of-00002.safetensors", ...}}}</pre>
 * Shards live in the index's directory and are opened on first use. When a shard opens it is checked against the
 * index: every tensor the index maps to it must be in it, and it must hold no tensor that the index maps elsewhere
 * (a tensor in two shards) or does not list at all. {@link #verify()} opens and checks every shard up front.
 * Thread-safe.
 */
public final class ShardedSafetensors implements WeightSource {
    private final Path index;
    private final Path dir;
    private final Map<String, String> weightMap;          // tensor name -> shard file name, sorted by tensor
    private final Map<String, List<String>> shardTensors; // shard file name -> tensors the index maps to it
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsFile> open = new HashMap<>();
    private boolean closed;

    private ShardedSafetensors(Path index, Map<String, String> weightMap, Map<String, String> metadata) {
        this.index = index;
        this.dir = index.toAbsolutePath().getParent();
        this.weightMap = Collections.unmodifiableMap(weightMap);
        this.metadata = Collections.unmodifiableMap(metadata);
        Map<String, List<String>> byShard = new TreeMap<>();
        weightMap.forEach((t, s) -> byShard.computeIfAbsent(s, k -> new ArrayList<>()).add(t));
        this.shardTensors = byShard;
    }

    /**
     * Reads an index json; opens no shard yet.
     *
     * @param index the {@code model.safetensors.index.json} file
     * @return the checkpoint with no shard opened; the caller closes it
     * @throws SafetensorsFormatException when the index is not valid JSON, has no {@code weight_map} object, maps a
     *                                    tensor twice or to a non-string, or names a shard outside its directory
     */
    public static ShardedSafetensors open(Path index) throws IOException {
        if (!Files.isRegularFile(index)) throw new NoSuchFileException(index.toString(), null, "no index file");
        JsonNode root = HeaderParser.parseStrict(index, HeaderParser.utf8(index, Files.readAllBytes(index), "index"),
                "index");
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(index + ": index is not a JSON object");
        }
        JsonNode wm = root.get("weight_map");
        if (wm == null || !wm.isObject()) {
            throw new SafetensorsFormatException(index + ": index has no 'weight_map' object (tensor name -> shard "
                    + "file), got " + wm);
        }
        Map<String, String> weightMap = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : wm.properties()) {
            String tensor = e.getKey();
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(index + ": weight_map entry for tensor '" + tensor
                        + "' must be a shard file name, got " + e.getValue());
            }
            String shard = e.getValue().textValue();
            String bad = badShardName(shard);
            if (bad != null) {
                throw new SafetensorsFormatException(index + ": weight_map maps tensor '" + tensor + "' to shard '"
                        + printable(shard) + "', which is not a plain file name in the index's directory: " + bad);
            }
            weightMap.put(tensor, shard);
        }
        Map<String, String> metadata = new TreeMap<>();
        JsonNode md = root.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) {
                throw new SafetensorsFormatException(index + ": index 'metadata' must be an object, got " + md);
            }
            for (Map.Entry<String, JsonNode> e : md.properties()) {
                JsonNode v = e.getValue();
                metadata.put(e.getKey(), v.isValueNode() ? v.asText() : v.toString());
            }
        }
        return new ShardedSafetensors(index, weightMap, metadata);
    }

    /**
     * Why {@code shard} is not a plain relative file name, or null when it is one: empty, {@code .} or {@code ..}, a
     * path separator ({@code /}, {@code \\}), a drive colon, or a control character such as NUL (which makes
     * {@link Path#resolve} throw an untyped {@code InvalidPathException}).
     */
    static String badShardName(String shard) {
        if (shard.isEmpty()) return "it is empty";
        if (shard.equals(".") || shard.equals("..")) return "it names a directory";
        for (int i = 0; i < shard.length(); i++) {
            char c = shard.charAt(i);
            if (c == '/' || c == '\\') return "it holds a path separator";
            if (c == ':') return "it holds a colon";
            if (c < 0x20 || c == 0x7F) return "it holds the control character U+" + String.format("%04X", (int) c);
        }
        return null;
    }

    /** {@code s} with control characters written as {@code \\uXXXX}, for messages. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7F) b.append(String.format("\\u%04X", (int) c)); else b.append(c);
        }
        return b.toString();
    }

    @Override
    public Set<String> names() {
        return weightMap.keySet();
    }

    @Override
    public TensorInfo info(String name) throws IOException {
        return shardOf(name).info(name);
    }

    @Override
    public float[] readFloat(String name) throws IOException {
        return shardOf(name).readFloat(name);
    }

    @Override
    public long[] readLong(String name) throws IOException {
        return shardOf(name).readLong(name);
    }

    /**
     * The index's {@code metadata}, values as text (HF writes {@code total_size} as a number: it becomes its decimal
     * string; a nested value becomes its JSON). The shards' own {@code __metadata__} is not merged in.
     */
    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Path source() {
        return index;
    }

    /**
     * @param name exact tensor name
     * @return the shard file name that the index maps {@code name} to
     * @throws IllegalArgumentException when the index does not list the name
     */
    public String shardFor(String name) {
        String shard = weightMap.get(name);
        if (shard == null) {
            throw new IllegalArgumentException("tensor '" + name + "' not found in " + index + " (" + weightMap.size()
                    + " tensors in " + shardTensors.size() + " shards)");
        }
        return shard;
    }

    /** @return the shard file names, sorted; unmodifiable */
    public Set<String> shards() {
        return Collections.unmodifiableSet(shardTensors.keySet());
    }

    /**
     * Opens every shard and checks it against the index, so a bad checkpoint fails here rather than on first read.
     *
     * @throws SafetensorsFormatException naming the first inconsistent shard and tensor
     */
    public void verify() throws IOException {
        for (String shard : shardTensors.keySet()) shard(shard);
    }

    /** Closes every opened shard. Idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        closed = true;
        IOException first = null;
        for (SafetensorsFile f : open.values()) {
            try {
                f.close();
            } catch (IOException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        open.clear();
        if (first != null) throw first;
    }

    private SafetensorsFile shardOf(String name) throws IOException {
        return shard(shardFor(name));
    }

    private synchronized SafetensorsFile shard(String shard) throws IOException {
        if (closed) throw new IllegalStateException(index + " is closed");
        SafetensorsFile f = open.get(shard);
        if (f != null) return f;
        Path file;
        try {
            file = dir.resolve(shard);
        } catch (InvalidPathException e) { // e.g. a name this platform's file-name encoding cannot represent
            throw new SafetensorsFormatException(index + ": shard '" + printable(shard) + "' is not a valid file name "
                    + "here: " + e.getReason(), e);
        }
        List<String> expected = shardTensors.get(shard);
        if (!Files.isRegularFile(file)) {
            throw new SafetensorsFormatException(index + ": shard " + file + " (holding tensor '" + expected.get(0)
                    + "' and " + (expected.size() - 1) + " more) does not exist");
        }
        f = SafetensorsFile.open(file);
        try {
            for (String t : expected) {
                if (!f.names().contains(t)) {
                    throw new SafetensorsFormatException(index + ": tensor '" + t + "' is mapped to shard " + file
                            + ", which does not contain it");
                }
            }
            for (String t : f.names()) {
                String mapped = weightMap.get(t);
                if (mapped == null) {
                    throw new SafetensorsFormatException(index + ": shard " + file + " holds tensor '" + t
                            + "', which the index does not list");
                }
                if (!mapped.equals(shard)) {
                    throw new SafetensorsFormatException(index + ": tensor '" + t + "' appears in two shards: " + file
                            + " and " + dir.resolve(mapped) + " (the index maps it to " + mapped + ")");
                }
            }
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
        open.put(shard, f);
        return f;
    }

    @Override
    public String toString() {
        return "ShardedSafetensors[" + index + ", " + weightMap.size() + " tensors in " + shardTensors.size()
                + " shards]";
    }
}

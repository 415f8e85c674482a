package org.varitune.transformer.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.transformer.tensor.Shapes;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Builds a safetensors file in memory and writes it atomically.
 *
 * <pre>{@code
 * SafetensorsWriter w = new SafetensorsWriter();
 * w.addF32("classifier.weight", weight, 2, 768);   // weight: (2, 768)
 * w.addI64("labels", labels, 8);
 * w.metadata("format", "pt");
 * w.write(dir.resolve("model.safetensors"));
 * }</pre>
 *
 * The file has the {@code __metadata__} entry first (when there is metadata), then the tensors sorted by name, in the
 * header and in the data buffer alike; the header JSON is padded with spaces to a multiple of 8 bytes, as the HF
 * writer does. Tensors are laid out back to back, so a tensor after an odd-length 2-byte tensor is not aligned to its
 * element size (the format allows this and {@link SafetensorsFile} reads it). The {@code add*} methods copy
 * {@code data}; a writer may be written any number of times.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_BYTES = 1 << 20;

    private record Entry(DType dtype, int[] shape, Object data, int length) {}

    private final Map<String, Entry> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    /**
     * Adds an F32 tensor, stored exactly.
     *
     * @param name  tensor name, unique in this writer (an HF key, verbatim)
     * @param data  values, (shape) row-major; not modified (copied)
     * @param shape dimensions; their product must equal {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException when the name was already added or is {@code __metadata__}, or the shape does
     *                                  not match the data length
     */
    public SafetensorsWriter addF32(String name, float[] data, int... shape) {
        return add(name, DType.F32, data.clone(), data.length, shape);
    }

    /**
     * Adds a BF16 tensor: each value rounded to the nearest bfloat16, ties to even (NaN kept, overflow to infinity;
     * see {@link FloatFormats#floatToBf16}).
     *
     * @param name  tensor name, unique in this writer (an HF key, verbatim)
     * @param data  values, (shape) row-major; not modified (copied)
     * @param shape dimensions; their product must equal {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException when the name was already added or is {@code __metadata__}, or the shape does
     *                                  not match the data length
     */
    public SafetensorsWriter addBf16(String name, float[] data, int... shape) {
        return add(name, DType.BF16, data.clone(), data.length, shape);
    }

    /**
     * Adds an F64 tensor, stored exactly.
     *
     * @param name  tensor name, unique in this writer (an HF key, verbatim)
     * @param data  values, (shape) row-major; not modified (copied)
     * @param shape dimensions; their product must equal {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException when the name was already added or is {@code __metadata__}, or the shape does
     *                                  not match the data length
     */
    public SafetensorsWriter addF64(String name, double[] data, int... shape) {
        return add(name, DType.F64, data.clone(), data.length, shape);
    }

    /**
     * Adds an I64 tensor (token ids, labels).
     *
     * @param name  tensor name, unique in this writer (an HF key, verbatim)
     * @param data  values, (shape) row-major; not modified (copied)
     * @param shape dimensions; their product must equal {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException when the name was already added or is {@code __metadata__}, or the shape does
     *                                  not match the data length
     */
    public SafetensorsWriter addI64(String name, long[] data, int... shape) {
        return add(name, DType.I64, data.clone(), data.length, shape);
    }

    /**
     * Adds an I32 tensor.
     *
     * @param name  tensor name, unique in this writer (an HF key, verbatim)
     * @param data  values, (shape) row-major; not modified (copied)
     * @param shape dimensions; their product must equal {@code data.length}
     * @return this writer
     * @throws IllegalArgumentException when the name was already added or is {@code __metadata__}, or the shape does
     *                                  not match the data length
     */
    public SafetensorsWriter addI32(String name, int[] data, int... shape) {
        return add(name, DType.I32, data.clone(), data.length, shape);
    }

    /**
     * Sets a {@code __metadata__} entry.
     *
     * @param key   metadata key, e.g. {@code format}
     * @param value its value, e.g. {@code pt}
     * @return this writer
     * @throws IllegalArgumentException when the key was already set
     */
    public SafetensorsWriter metadata(String key, String value) {
        Objects.requireNonNull(key, "metadata key");
        Objects.requireNonNull(value, () -> "metadata value for key '" + key + "'");
        if (metadata.containsKey(key)) {
            throw new IllegalArgumentException("metadata key '" + key + "' already set to '" + metadata.get(key) + "'");
        }
        metadata.put(key, value);
        return this;
    }

    /** @return the names of the tensors added so far, sorted; unmodifiable */
    public java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(tensors.keySet());
    }

    private SafetensorsWriter add(String name, DType dtype, Object data, int length, int[] shape) {
        Objects.requireNonNull(name, "tensor name");
        if (name.isEmpty() || name.equals(HeaderParser.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name '" + name + "'");
        }
        if (tensors.containsKey(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' was already added");
        }
        long numel;
        try {
            numel = Shapes.numel(shape);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "': invalid shape " + Arrays.toString(shape), e);
        }
        if (numel != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + numel + " elements but data has " + length);
        }
        tensors.put(name, new Entry(dtype, shape.clone(), data, length));
        return this;
    }

    /**
     * Writes the file: to a temporary file in the target's directory, forced to disk, then moved over {@code path}
     * with {@link StandardCopyOption#ATOMIC_MOVE}, so readers see the old file or the complete new one. On failure the
     * temporary file is deleted and {@code path} is untouched.
     *
     * @param path the target; its parent directory must exist
     * @throws IOException when the temporary file cannot be written or moved over {@code path}
     */
    public void write(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        byte[] header = header();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                flush(ch, buf);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Entry e : tensors.values()) writeData(ch, buf, e);
                flush(ch, buf);
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** The header JSON, space-padded so that its length is a multiple of 8. */
    private byte[] header() throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode md = root.putObject(HeaderParser.METADATA_KEY);
            metadata.forEach(md::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> t : tensors.entrySet()) {
            Entry e = t.getValue();
            long bytes = (long) e.length() * e.dtype().byteSize();
            ObjectNode o = root.putObject(t.getKey());
            o.put("dtype", e.dtype().name());
            ArrayNode shape = o.putArray("shape");
            for (int d : e.shape()) shape.add(d);
            o.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Appends one tensor's little-endian bytes through {@code buf}, flushing it to {@code ch} when full. */
    private static void writeData(FileChannel ch, ByteBuffer buf, Entry e) throws IOException {
        if (e.dtype() == DType.F32) { // bulk path for the common case; same bytes as the loop below
            float[] data = (float[]) e.data();
            for (int i = 0; i < data.length; ) {
                if (buf.remaining() < 4) flush(ch, buf);
                int n = Math.min(buf.remaining() / 4, data.length - i);
                buf.asFloatBuffer().put(data, i, n);
                buf.position(buf.position() + 4 * n);
                i += n;
            }
            return;
        }
        int es = e.dtype().byteSize();
        for (int i = 0; i < e.length(); i++) {
            if (buf.remaining() < es) flush(ch, buf);
            switch (e.dtype()) {
                case BF16 -> buf.putShort(FloatFormats.floatToBf16(((float[]) e.data())[i]));
                case F64 -> buf.putDouble(((double[]) e.data())[i]);
                case I64 -> buf.putLong(((long[]) e.data())[i]);
                case I32 -> buf.putInt(((int[]) e.data())[i]);
                default -> throw new AssertionError(e.dtype());
            }
        }
    }

    private static void flush(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        writeFully(ch, buf);
        buf.clear();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}

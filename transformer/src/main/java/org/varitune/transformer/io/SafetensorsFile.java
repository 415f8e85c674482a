package org.varitune.transformer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * One safetensors file, memory-mapped read-only. The header is parsed and validated when the file is opened (see
 * {@link HeaderParser}); tensor bytes are mapped on first use, in windows of at most 1 GiB of the data buffer, so
 * files over 2 GiB work and a tensor may straddle windows. Reads are thread-safe.
 *
 * <p>Layout: 8 bytes little-endian header length N, N bytes of JSON, then the data buffer; each tensor's
 * {@code data_offsets} are relative to the start of the data buffer (byte 8 + N of the file).
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     float[] w = f.readFloat("embeddings.word_embeddings.weight"); // (vocab_size, hidden_size)
 * }
 * }</pre>
 */
public final class SafetensorsFile implements WeightSource, AutoCloseable {
    /** Default mapping window: 1 GiB of the data buffer per {@link MappedByteBuffer}. */
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final long dataLength;
    private final long windowBytes;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final MappedByteBuffer[] windows; // window w covers data bytes [w·windowBytes, (w+1)·windowBytes)
    private volatile boolean closed;

    /**
     * Opens and validates a safetensors file.
     *
     * @param path the {@code .safetensors} file
     * @return the open file; the caller closes it
     * @throws SafetensorsFormatException when the header is malformed (the message names the file and tensor)
     * @throws IOException                when the file cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        return new SafetensorsFile(path, DEFAULT_WINDOW_BYTES);
    }

    /**
     * Opens a file with a given mapping window; tests use tiny windows to exercise tensors straddling boundaries.
     *
     * @param windowBytes bytes of the data buffer per mapping, in [1, 2^31 - 1]
     */
    SafetensorsFile(Path path, long windowBytes) throws IOException {
        if (windowBytes < 1 || windowBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window of " + windowBytes + " bytes outside [1, 2^31 - 1]");
        }
        this.path = path;
        this.windowBytes = windowBytes;
        this.channel = FileChannel.open(path, StandardOpenOption.READ);
        try {
            HeaderParser.Header h = HeaderParser.read(path, channel, channel.size());
            this.dataStart = h.dataStart();
            this.dataLength = h.dataLength();
            this.tensors = h.tensors();
            this.metadata = h.metadata();
            long count = (dataLength + windowBytes - 1) / windowBytes;
            if (count > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(path + ": window of " + windowBytes + " bytes is too small for "
                        + dataLength + " data bytes");
            }
            this.windows = new MappedByteBuffer[(int) count];
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("tensor '" + name + "' not found in " + path + " (" + tensors.size()
                    + " tensors)");
        }
        return t;
    }

    @Override
    public float[] readFloat(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isReadableAsFloat()) {
            throw new SafetensorsFormatException(path + ": tensor '" + name + "' has dtype " + t.dtype()
                    + "; readFloat needs F32, F16, BF16 or F64");
        }
        float[] out = new float[arrayLength(t)]; // out: shape of t, row-major
        switch (t.dtype()) {
            case F32 -> decode(t, (buf, at, count) -> buf.asFloatBuffer().get(out, at, count));
            case F16 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = FloatFormats.f16ToFloat(buf.getShort(2 * i));
            });
            case BF16 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = FloatFormats.bf16ToFloat(buf.getShort(2 * i));
            });
            case F64 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = (float) buf.getDouble(8 * i);
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    @Override
    public long[] readLong(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isReadableAsLong()) {
            throw new SafetensorsFormatException(path + ": tensor '" + name + "' has dtype " + t.dtype()
                    + "; readLong needs I64, I32, U32, I16, U16, I8, U8 or BOOL");
        }
        long[] out = new long[arrayLength(t)]; // out: shape of t, row-major
        switch (t.dtype()) {
            case I64 -> decode(t, (buf, at, count) -> buf.asLongBuffer().get(out, at, count));
            case I32 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = buf.getInt(4 * i);
            });
            case U32 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = Integer.toUnsignedLong(buf.getInt(4 * i));
            });
            case I16 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = buf.getShort(2 * i);
            });
            case U16 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = Short.toUnsignedLong(buf.getShort(2 * i));
            });
            case I8 -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = buf.get(i);
            });
            case U8, BOOL -> decode(t, (buf, at, count) -> {
                for (int i = 0; i < count; i++) out[at + i] = Byte.toUnsignedLong(buf.get(i));
            });
            default -> throw new AssertionError(t.dtype());
        }
        return out;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public Path source() {
        return path;
    }

    /** @return the absolute file position of the data buffer: 8 + header length */
    public long dataStart() {
        return dataStart;
    }

    /** Closes the channel and drops the mappings (the JVM unmaps them when they are collected). Idempotent. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) return;
            closed = true;
            java.util.Arrays.fill(windows, null);
        }
        channel.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }

    private int arrayLength(TensorInfo t) throws SafetensorsFormatException {
        long n = t.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new SafetensorsFormatException(path + ": tensor '" + t.name() + "' has " + n
                    + " elements, too many for one Java array");
        }
        return (int) n;
    }

    /** Receives {@code count} whole elements starting at element {@code at}; {@code buf} is little-endian, at 0. */
    @FunctionalInterface
    private interface ChunkDecoder {
        void decode(ByteBuffer buf, int at, int count);
    }

    /**
     * Feeds the tensor's bytes to {@code dec} window by window. Whole elements inside a window go as one slice of the
     * mapping; an element cut by a window boundary is copied into a small buffer and goes alone.
     */
    private void decode(TensorInfo t, ChunkDecoder dec) throws IOException {
        int es = t.dtype().byteSize();
        long pos = t.byteOffset();
        long end = pos + t.byteLength();
        int elem = 0;
        while (pos < end) {
            int w = (int) (pos / windowBytes);
            ByteBuffer win = window(w);
            int inWin = (int) (pos - w * windowBytes);
            long avail = Math.min(win.limit() - inWin, end - pos);
            int whole = (int) (avail / es);
            if (whole > 0) {
                dec.decode(win.slice(inWin, whole * es).order(ByteOrder.LITTLE_ENDIAN), elem, whole);
                elem += whole;
                pos += (long) whole * es;
            } else {
                byte[] cut = new byte[es];
                for (int b = 0; b < es; b++) {
                    long p = pos + b;
                    int wb = (int) (p / windowBytes);
                    cut[b] = window(wb).get((int) (p - wb * windowBytes));
                }
                dec.decode(ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN), elem, 1);
                elem++;
                pos += es;
            }
        }
    }

    /** The mapping of window {@code w}, created on first use. */
    private synchronized MappedByteBuffer window(int w) throws IOException {
        if (closed) throw new IllegalStateException(path + " is closed");
        MappedByteBuffer m = windows[w];
        if (m == null) {
            long start = w * windowBytes;
            long size = Math.min(windowBytes, dataLength - start);
            m = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + start, size);
            windows[w] = m;
        }
        return m;
    }
}

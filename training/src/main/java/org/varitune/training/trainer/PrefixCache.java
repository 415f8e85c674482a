package org.varitune.training.trainer;

import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tokenize.Batch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The output of a frozen prefix (hidden state {@code layer}: embeddings and layers 1..layer, evaluation mode) for
 * every example of a dataset, computed once and gathered into padded batches afterwards. Example i is stored
 * unpadded, (T_i, C) floats. Held in memory when the total fits {@code memoryLimitBytes}, else written to a file and
 * memory-mapped read-only (in segments under 1 GiB, each holding whole examples).
 */
public final class PrefixCache implements AutoCloseable {
    private static final long SEGMENT_BYTES = 1L << 30;

    private final int layer, hidden;
    private final int[] lengths;            // (N)
    private final float[][] memory;         // (N)(T_i·C), or null when on disk
    private final Path file;                // or null when in memory
    private final FileChannel channel;
    private final List<FloatBuffer> segments = new ArrayList<>();
    private final List<Long> segmentStarts = new ArrayList<>();   // byte offset of each segment in the file
    private final int[] segmentOf;          // (N) segment index of example i
    private final int[] floatOffset;        // (N) offset of example i in its segment, in floats
    private final long bytes;

    private PrefixCache(int layer, int hidden, int[] lengths, boolean onDisk, Path file) throws IOException {
        this.layer = layer;
        this.hidden = hidden;
        this.lengths = lengths.clone();
        long total = 0;
        for (int l : lengths) total += (long) l * hidden * Float.BYTES;
        this.bytes = total;
        if (!onDisk) {
            this.memory = new float[lengths.length][];
            this.file = null;
            this.channel = null;
            this.segmentOf = null;
            this.floatOffset = null;
            return;
        }
        this.memory = null;
        this.file = file;
        Files.createDirectories(file.toAbsolutePath().getParent());
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        this.segmentOf = new int[lengths.length];
        this.floatOffset = new int[lengths.length];
    }

    /**
     * Runs the frozen prefix of {@code encoder} (evaluation mode, layers 1..layer) over every example of {@code ds}
     * in length-sorted batches of {@code batchSize} and stores hidden state {@code layer} of the real tokens.
     *
     * @param layer            1..L (the highest frozen layer)
     * @param memoryLimitBytes above this total, the cache goes to {@code spillFile} (created or replaced)
     * @param progress         receives the number of examples done so far (may be null)
     */
    public static PrefixCache build(Encoder encoder, TokenizedDataset ds, int layer, int batchSize,
                                    long memoryLimitBytes, Path spillFile, IntConsumer progress) throws IOException {
        if (layer < 1 || layer > encoder.numLayers()) {
            throw new IllegalArgumentException("prefix layer " + layer + " outside [1, " + encoder.numLayers() + "]");
        }
        int C = encoder.config().hiddenSize();
        int[] lengths = ds.lengths();
        long total = 0;
        for (int l : lengths) total += (long) l * C * Float.BYTES;
        boolean onDisk = total > memoryLimitBytes;
        if (onDisk && spillFile == null) {
            throw new IllegalArgumentException("prefix cache of " + ds.name() + " needs " + total + " bytes, above the "
                    + memoryLimitBytes + "-byte memory limit, and no spill file was given");
        }
        PrefixCache cache = new PrefixCache(layer, C, lengths, onDisk, spillFile);
        try {
            long[] byteOffset = onDisk ? cache.layout() : null;
            int done = 0;
            for (int[] idx : BatchPlan.sortedByLength(lengths, batchSize)) {
                Batch b = ds.batch(idx);
                float[] h = encoder.forward(b, layer).last();             // h: (B, T, C)
                for (int r = 0; r < idx.length; r++) {
                    int n = lengths[idx[r]];
                    if (!onDisk) {
                        float[] row = new float[n * C];                   // row: (T_i, C)
                        System.arraycopy(h, r * b.T() * C, row, 0, n * C);
                        cache.memory[idx[r]] = row;
                    } else {
                        ByteBuffer buf = ByteBuffer.allocate(n * C * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                        buf.asFloatBuffer().put(h, r * b.T() * C, n * C);
                        long pos = byteOffset[idx[r]];
                        while (buf.hasRemaining()) pos += cache.channel.write(buf, pos);
                    }
                }
                done += idx.length;
                if (progress != null) progress.accept(done);
            }
            if (onDisk) cache.map();
            return cache;
        } catch (IOException | RuntimeException e) {
            cache.close();
            throw e;
        }
    }

    /** Assigns segments and offsets; returns each example's byte offset in the file. */
    private long[] layout() {
        long[] off = new long[lengths.length];
        long pos = 0, segStart = 0;
        segmentStarts.add(0L);
        for (int i = 0; i < lengths.length; i++) {
            long size = (long) lengths[i] * hidden * Float.BYTES;
            if (pos - segStart + size > SEGMENT_BYTES && pos > segStart) { segStart = pos; segmentStarts.add(pos); }
            off[i] = pos;
            segmentOf[i] = segmentStarts.size() - 1;
            floatOffset[i] = (int) ((pos - segStart) / Float.BYTES);
            pos += size;
        }
        return off;
    }

    /** Maps each segment read-only, after every example was written. */
    private void map() throws IOException {
        for (int s = 0; s < segmentStarts.size(); s++) {
            long from = segmentStarts.get(s), to = s + 1 < segmentStarts.size() ? segmentStarts.get(s + 1) : bytes;
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, from, to - from);
            segments.add(m.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
        }
    }

    /** The prefix layer whose output this cache holds. */
    public int layer() { return layer; }

    /** Total size of the cached states in bytes. */
    public long bytes() { return bytes; }

    /** True when the states are memory-mapped from a file rather than held on the heap. */
    public boolean onDisk() { return memory == null; }

    /**
     * The cached states of examples {@code idx}, right-padded with zeros to length T (padded positions are
     * attention-masked, so their values are never read by a real token).
     *
     * @return (B, T, C), a new array
     */
    public float[] gather(int[] idx, int T) {
        int C = hidden;
        float[] out = new float[idx.length * T * C];                     // out: (B, T, C)
        for (int r = 0; r < idx.length; r++) {
            int i = idx[r], n = lengths[i];
            if (n > T) throw new IllegalArgumentException("example " + i + " has " + n + " tokens, batch length is " + T);
            if (memory != null) {
                System.arraycopy(memory[i], 0, out, r * T * C, n * C);
            } else {
                segments.get(segmentOf[i]).get(floatOffset[i], out, r * T * C, n * C);
            }
        }
        return out;
    }

    /** Releases the file (deleted) when on disk; a no-op in memory. */
    @Override
    public void close() throws IOException {
        if (channel != null) {
            segments.clear();
            channel.close();
            Files.deleteIfExists(file);
        }
    }
}

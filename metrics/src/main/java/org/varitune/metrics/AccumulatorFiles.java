package org.varitune.metrics;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * Binary file of a {@link VariabilityAccumulator}, big-endian:
 * <pre>
 *   magic "VTVARACC" (8 bytes), int version = 1
 *   int layers, int dim, int C, int[C] classCounts
 *   byte sampleWeighted, int reservoirPerClass, long seed, long baseIndex
 *   per layer: long seen, int[C] classSeen, byte hasPilot, [double[d] pilot],
 *              double[C·d] sums, double[d(d+1)/2] moment, [double[d(d+1)/2] plainMoment if sampleWeighted],
 *              [if reservoirPerClass &gt; 0, per class: int size, size × (long index, long priority, float[d])]
 *   long CRC32 of every preceding byte
 * </pre>
 */
final class AccumulatorFiles {
    private AccumulatorFiles() {}

    static final byte[] MAGIC = {'V', 'T', 'V', 'A', 'R', 'A', 'C', 'C'};
    static final int VERSION = 1;
    private static final int CHUNK = 8192;

    static void write(VariabilityAccumulator a, Path file) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, abs.getFileName() + ".", ".tmp");
        try {
            CRC32 crc = new CRC32();
            try (OutputStream fos = Files.newOutputStream(tmp);
                 CheckedOutputStream cos = new CheckedOutputStream(new BufferedOutputStream(fos, 1 << 16), crc);
                 DataOutputStream out = new DataOutputStream(cos)) {
                writeBody(a, out);
                out.flush();
                out.writeLong(crc.getValue());   // CRC of the body; the reader takes its value before reading this
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeBody(VariabilityAccumulator a, DataOutputStream out) throws IOException {
        out.write(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(a.layers);
        out.writeInt(a.dim);
        out.writeInt(a.numClasses);
        for (int c : a.classCounts) out.writeInt(c);
        VariabilityAccumulator.Options o = a.options;
        out.writeByte(o.sampleWeighted() ? 1 : 0);
        out.writeInt(o.reservoirPerClass());
        out.writeLong(o.seed());
        out.writeLong(o.baseIndex());
        for (int l = 0; l < a.layers; l++) {
            out.writeLong(a.seen[l]);
            for (int y = 0; y < a.numClasses; y++) out.writeInt(a.classSeen[l][y]);
            out.writeByte(a.pilot[l] == null ? 0 : 1);
            if (a.pilot[l] != null) writeDoubles(out, a.pilot[l]);
            writeDoubles(out, a.sums[l]);
            writeDoubles(out, a.moment[l]);
            if (o.sampleWeighted()) writeDoubles(out, a.plainMoment[l]);
            if (a.reservoirs != null) {
                Reservoir r = a.reservoirs[l];
                for (int y = 0; y < a.numClasses; y++) {
                    out.writeInt(r.size[y]);
                    for (int k = 0; k < r.size[y]; k++) {
                        out.writeLong(r.index[y][k]);
                        out.writeLong(r.priority[y][k]);
                        for (int i = 0; i < a.dim; i++) out.writeFloat(r.vectors[y][k * a.dim + i]);
                    }
                }
            }
        }
    }

    static VariabilityAccumulator read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": no such accumulator file");
        CRC32 crc = new CRC32();
        try (InputStream fis = Files.newInputStream(file);
             CheckedInputStream cis = new CheckedInputStream(new BufferedInputStream(fis, 1 << 16), crc);
             DataInputStream in = new DataInputStream(cis)) {
            VariabilityAccumulator a = readBody(file, in);
            long expected = crc.getValue();
            long stored = in.readLong();
            if (stored != expected) {
                throw new IOException(file + ": checksum mismatch (stored " + Long.toHexString(stored) + ", computed "
                        + Long.toHexString(expected) + "): the file is corrupt");
            }
            if (in.read() != -1) throw new IOException(file + ": trailing bytes after the checksum");
            return a;
        } catch (EOFException e) {
            throw new IOException(file + ": truncated accumulator file (ended early)", e);
        }
    }

    private static VariabilityAccumulator readBody(Path file, DataInputStream in) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!java.util.Arrays.equals(magic, MAGIC)) throw new IOException(file + ": not a variability accumulator file (bad magic)");
        int version = in.readInt();
        if (version != VERSION) throw new IOException(file + ": unsupported accumulator file version " + version + " (expected " + VERSION + ")");
        long size = Files.size(file);
        int layers = in.readInt(), dim = in.readInt(), C = in.readInt();
        long packed = (long) dim * (dim + 1) / 2;
        if (layers < 1 || dim < 1 || C < 2 || (long) layers * (packed + (long) C * dim) * 8 > size) {
            throw new IOException(file + ": implausible header (layers " + layers + ", dim " + dim + ", C " + C
                    + ") for a file of " + size + " bytes: corrupt or truncated");
        }
        int[] counts = new int[C];
        for (int y = 0; y < C; y++) counts[y] = in.readInt();
        boolean sampleWeighted = in.readByte() == 1;
        int reservoirPerClass = in.readInt();
        long seed = in.readLong(), baseIndex = in.readLong();
        VariabilityAccumulator a;
        try {
            a = new VariabilityAccumulator(layers, dim, counts, null,
                    new VariabilityAccumulator.Options(sampleWeighted, reservoirPerClass, seed, baseIndex));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": invalid header: " + e.getMessage(), e);
        }
        for (int l = 0; l < layers; l++) {
            a.seen[l] = in.readLong();
            for (int y = 0; y < C; y++) a.classSeen[l][y] = in.readInt();
            if (in.readByte() == 1) {
                a.pilot[l] = new double[dim];
                readDoubles(in, a.pilot[l]);
            }
            readDoubles(in, a.sums[l]);
            readDoubles(in, a.moment[l]);
            if (sampleWeighted) readDoubles(in, a.plainMoment[l]);
            if (a.reservoirs != null) {
                Reservoir r = a.reservoirs[l];
                for (int y = 0; y < C; y++) {
                    int n = in.readInt();
                    if (n < 0 || n > r.cap[y]) throw new IOException(file + ": layer " + l + " class " + y + " reservoir size " + n + " outside [0, " + r.cap[y] + "]");
                    r.size[y] = n;
                    for (int k = 0; k < n; k++) {
                        r.index[y][k] = in.readLong();
                        r.priority[y][k] = in.readLong();
                        for (int i = 0; i < dim; i++) r.vectors[y][k * dim + i] = in.readFloat();
                    }
                }
                r.rebuildHeaps();
            }
        }
        return a;
    }

    private static void writeDoubles(DataOutputStream out, double[] a) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(8 * CHUNK);
        for (int off = 0; off < a.length; off += CHUNK) {
            int n = Math.min(CHUNK, a.length - off);
            bb.clear();
            bb.asDoubleBuffer().put(a, off, n);
            out.write(bb.array(), 0, 8 * n);
        }
    }

    private static void readDoubles(DataInputStream in, double[] a) throws IOException {
        byte[] buf = new byte[8 * CHUNK];
        for (int off = 0; off < a.length; off += CHUNK) {
            int n = Math.min(CHUNK, a.length - off);
            in.readFully(buf, 0, 8 * n);
            ByteBuffer.wrap(buf, 0, 8 * n).asDoubleBuffer().get(a, off, n);
        }
    }
}

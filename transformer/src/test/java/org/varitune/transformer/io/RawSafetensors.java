package org.varitune.transformer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-built safetensors bytes for tests: a header exactly as given, with no help from {@link SafetensorsWriter}. */
final class RawSafetensors {
    private RawSafetensors() {}

    /** Writes {@code [u64 LE header length][header UTF-8][data]} to {@code file} and returns it. */
    static Path write(Path file, String header, byte[] data) throws IOException {
        return write(file, -1, header.getBytes(StandardCharsets.UTF_8), data);
    }

    /**
     * Writes a file with an explicit header length prefix.
     *
     * @param declaredLength the u64 written in the prefix; -1 means the real length of {@code header}
     */
    static Path write(Path file, long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength == -1 ? header.length : declaredLength).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** Little-endian bytes of 16-bit patterns. */
    static byte[] shorts(int... bits) {
        ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : bits) b.putShort((short) v);
        return b.array();
    }

    /** Little-endian bytes of floats. */
    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    /** Concatenation. */
    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }
}

package org.varitune.transformer.io.onnx;

import java.nio.charset.StandardCharsets;

/**
 * A cursor over protobuf wire-format bytes: varints (wire type 0), 64-bit (1), length-delimited (2) and 32-bit (5)
 * fields. Groups (3, 4) are rejected. Every error names the message being read ({@code where}) and the absolute byte
 * offset. Length-delimited fields are returned as views (offset, length) into the one shared buffer, never copied.
 */
final class ProtoReader {
    static final int VARINT = 0, I64 = 1, LEN = 2, I32 = 5;

    private final byte[] buf;
    private final int end;
    private final String where;
    private int pos;
    private int lastLenStart, lastLen;

    /** Reads {@code buf[off, off + len)}; {@code where} names the message in error messages. */
    ProtoReader(byte[] buf, int off, int len, String where) {
        if (off < 0 || len < 0 || off + len > buf.length || off + len < 0) {
            throw new IllegalArgumentException(where + ": range [" + off + ", " + off + "+" + len
                    + ") outside buffer of " + buf.length + " bytes");
        }
        this.buf = buf;
        this.pos = off;
        this.end = off + len;
        this.where = where;
    }

    boolean hasMore() { return pos < end; }

    int position() { return pos; }

    String where() { return where; }

    /** Reads a field key; returns {@code fieldNumber << 3 | wireType}. */
    int readTag() {
        int at = pos;
        long key = readVarint();
        if (key >>> 32 != 0 || (key >>> 3) == 0) {
            throw error("invalid field key " + key, at);
        }
        int wt = (int) (key & 7);
        if (wt != VARINT && wt != I64 && wt != LEN && wt != I32) {
            throw error("unsupported wire type " + wt + " for field " + (key >>> 3), at);
        }
        return (int) key;
    }

    static int field(int tag) { return tag >>> 3; }

    static int wireType(int tag) { return tag & 7; }

    /** Base-128 varint, little-endian groups of 7 bits, at most 10 bytes. */
    long readVarint() {
        int at = pos;
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) throw error("truncated varint", at);
            int b = buf[pos++] & 0xff;
            v |= (long) (b & 0x7f) << shift;
            if (b < 0x80) return v;
        }
        throw error("varint longer than 10 bytes", at);
    }

    int readFixed32() {
        if (end - pos < 4) throw error("truncated 32-bit field", pos);
        int v = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    long readFixed64() {
        long lo = readFixed32() & 0xffffffffL;
        long hi = readFixed32() & 0xffffffffL;
        return lo | hi << 32;
    }

    float readFloat() { return Float.intBitsToFloat(readFixed32()); }

    /** Reads a length prefix and skips the payload; the payload is then at {@link #lastStart()}, {@link #lastLength()}. */
    void readLengthDelimited() {
        int at = pos;
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error("length " + len + " runs past the end of the message (" + (end - pos) + " bytes left)", at);
        }
        lastLenStart = pos;
        lastLen = (int) len;
        pos += (int) len;
    }

    int lastStart() { return lastLenStart; }

    int lastLength() { return lastLen; }

    /** A reader over the next length-delimited field, named {@code where}. */
    ProtoReader readMessage(String subWhere) {
        readLengthDelimited();
        return new ProtoReader(buf, lastLenStart, lastLen, subWhere);
    }

    String readString() {
        readLengthDelimited();
        return new String(buf, lastLenStart, lastLen, StandardCharsets.UTF_8);
    }

    byte[] readBytes() {
        readLengthDelimited();
        byte[] out = new byte[lastLen];
        System.arraycopy(buf, lastLenStart, out, 0, lastLen);
        return out;
    }

    byte[] buffer() { return buf; }

    /** Skips a field of the given wire type (an unknown field). */
    void skip(int wireType) {
        switch (wireType) {
            case VARINT -> readVarint();
            case I64 -> { if (end - pos < 8) throw error("truncated 64-bit field", pos); pos += 8; }
            case I32 -> { if (end - pos < 4) throw error("truncated 32-bit field", pos); pos += 4; }
            case LEN -> readLengthDelimited();
            default -> throw error("cannot skip wire type " + wireType, pos);
        }
    }

    /**
     * Appends one repeated int64 field occurrence to {@code out}: packed (wire type 2, a run of varints) or unpacked
     * (wire type 0, one varint).
     */
    void readRepeatedVarint(int wireType, LongList out) {
        if (wireType == VARINT) {
            out.add(readVarint());
        } else if (wireType == LEN) {
            ProtoReader packed = readMessage(where + " (packed varints)");
            while (packed.hasMore()) out.add(packed.readVarint());
        } else {
            throw error("repeated varint field with wire type " + wireType, pos);
        }
    }

    /** Appends one repeated float field occurrence: packed (wire type 2) or unpacked (wire type 5). */
    void readRepeatedFloat(int wireType, FloatList out) {
        if (wireType == I32) {
            out.add(readFloat());
        } else if (wireType == LEN) {
            readLengthDelimited();
            if (lastLen % 4 != 0) throw error("packed floats of " + lastLen + " bytes (not a multiple of 4)", lastLenStart);
            ProtoReader packed = new ProtoReader(buf, lastLenStart, lastLen, where + " (packed floats)");
            while (packed.hasMore()) out.add(packed.readFloat());
        } else {
            throw error("repeated float field with wire type " + wireType, pos);
        }
    }

    /** Fails unless the wire type is the expected one; names the field. */
    void expect(int tag, int wireType, String fieldName) {
        if (wireType(tag) != wireType) {
            throw error(fieldName + " (field " + field(tag) + ") has wire type " + wireType(tag) + ", expected "
                    + wireType, pos);
        }
    }

    IllegalArgumentException error(String msg, int at) {
        return new IllegalArgumentException(where + ": " + msg + " at byte " + at);
    }

    /** A growable long array. */
    static final class LongList {
        private long[] a = new long[8];
        private int n;

        void add(long v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }

        long[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }

    /** A growable float array. */
    static final class FloatList {
        private float[] a = new float[8];
        private int n;

        void add(float v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }

        float[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }
}

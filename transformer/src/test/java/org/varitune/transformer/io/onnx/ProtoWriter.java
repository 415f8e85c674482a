package org.varitune.transformer.io.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Hand-builds protobuf wire-format bytes for tests (and for appending outputs to an ONNX model). */
public final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public ProtoWriter varint(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
        return this;
    }

    public ProtoWriter tag(int field, int wireType) { return varint((long) field << 3 | wireType); }

    public ProtoWriter int64(int field, long v) { return tag(field, 0).varint(v); }

    public ProtoWriter fixed32(int field, int v) {
        tag(field, 5);
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
        return this;
    }

    public ProtoWriter float32(int field, float v) { return fixed32(field, Float.floatToRawIntBits(v)); }

    public ProtoWriter fixed64(int field, long v) {
        tag(field, 1);
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
        return this;
    }

    public ProtoWriter bytes(int field, byte[] b) {
        tag(field, 2).varint(b.length);
        out.write(b, 0, b.length);
        return this;
    }

    public ProtoWriter string(int field, String s) { return bytes(field, s.getBytes(StandardCharsets.UTF_8)); }

    public ProtoWriter message(int field, ProtoWriter m) { return bytes(field, m.toBytes()); }

    public ProtoWriter packedVarints(int field, long... vs) {
        ProtoWriter p = new ProtoWriter();
        for (long v : vs) p.varint(v);
        return bytes(field, p.toBytes());
    }

    public ProtoWriter packedFloats(int field, float... vs) {
        ProtoWriter p = new ProtoWriter();
        for (float v : vs) {
            int bits = Float.floatToRawIntBits(v);
            for (int i = 0; i < 4; i++) p.out.write(bits >>> (8 * i));
        }
        return bytes(field, p.toBytes());
    }

    /** Raw bytes appended as they are. */
    public ProtoWriter raw(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    public byte[] toBytes() { return out.toByteArray(); }

    /**
     * A copy of a serialized ModelProto whose graph also outputs the named float tensors: a second {@code graph}
     * field holding only {@code output} value infos (FLOAT), which protobuf merges into the first.
     */
    public static byte[] withExtraFloatOutputs(byte[] model, Iterable<String> tensors) {
        ProtoWriter graph = new ProtoWriter();
        for (String t : tensors) {
            ProtoWriter tensorType = new ProtoWriter().int64(1, OnnxTensor.FLOAT);   // TypeProto.Tensor.elem_type
            ProtoWriter type = new ProtoWriter().message(1, tensorType);           // TypeProto.tensor_type
            graph.message(12, new ProtoWriter().string(1, t).message(2, type));    // GraphProto.output
        }
        return new ProtoWriter().raw(model).message(7, graph).toBytes();
    }
}

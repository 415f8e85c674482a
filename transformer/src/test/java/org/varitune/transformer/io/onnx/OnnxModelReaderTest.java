package org.varitune.transformer.io.onnx;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The protobuf decoder on hand-built bytes: varints, lengths, packed and unpacked repeats, unknown fields. */
class OnnxModelReaderTest extends TestBase {

    @Test
    void decodesVarintsOfEveryLength() {
        long[] values = {0, 1, 127, 128, 300, 16383, 16384, Integer.MAX_VALUE, 1L << 35, Long.MAX_VALUE, -1L, -2L};
        ProtoWriter w = new ProtoWriter();
        for (long v : values) w.varint(v);
        byte[] b = w.toBytes();
        ProtoReader r = new ProtoReader(b, 0, b.length, "test");
        for (long v : values) assertEquals(v, r.readVarint());
        assertFalse(r.hasMore());
        assertEquals(10, new ProtoWriter().varint(-1L).toBytes().length, "negative int64 takes 10 bytes");
    }

    @Test
    void rejectsTruncatedVarintNamingTheOffset() {
        byte[] b = {(byte) 0x96}; // continuation bit set, nothing follows
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ProtoReader(b, 0, b.length, "ModelProto").readVarint());
        assertTrue(e.getMessage().contains("ModelProto") && e.getMessage().contains("truncated varint at byte 0"), e.getMessage());
    }

    @Test
    void rejectsOverlongVarint() {
        byte[] b = new byte[11];
        java.util.Arrays.fill(b, (byte) 0x80);
        assertThrows(IllegalArgumentException.class, () -> new ProtoReader(b, 0, b.length, "t").readVarint());
    }

    @Test
    void rejectsLengthRunningPastTheMessage() {
        byte[] b = new ProtoWriter().tag(2, 2).varint(50).raw(new byte[3]).toBytes();
        ProtoReader r = new ProtoReader(b, 0, b.length, "GraphProto");
        r.readTag();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::readLengthDelimited);
        assertTrue(e.getMessage().contains("length 50 runs past the end"), e.getMessage());
    }

    @Test
    void rejectsGroupWireTypes() {
        byte[] b = new ProtoWriter().tag(5, 3).toBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ProtoReader(b, 0, b.length, "m").readTag());
        assertTrue(e.getMessage().contains("wire type 3"), e.getMessage());
    }

    @Test
    void readsPackedAndUnpackedRepeatedFieldsAlike() {
        ProtoWriter packed = new ProtoWriter().packedVarints(1, 2, 3).int64(2, OnnxTensor.FLOAT)
                .packedFloats(4, 1.5f, -2f, 0.25f, 8f, 9f, -0f).string(8, "w");
        ProtoWriter unpacked = new ProtoWriter().int64(1, 2).int64(2, OnnxTensor.FLOAT).int64(1, 3).string(8, "w");
        for (float f : new float[]{1.5f, -2f, 0.25f, 8f, 9f, -0f}) unpacked.float32(4, f);
        for (ProtoWriter w : List.of(packed, unpacked)) {
            byte[] b = w.toBytes();
            OnnxTensor t = OnnxModelReader.parseTensor(new ProtoReader(b, 0, b.length, "TensorProto"));
            assertArrayEquals(new long[]{2, 3}, t.dims());
            assertArrayEquals(new float[]{1.5f, -2f, 0.25f, 8f, 9f, -0f}, t.toFloats());
            assertEquals("w", t.name());
        }
    }

    @Test
    void readsRawLittleEndianDataAndSignedInt32() {
        ByteBuffer raw = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-7).putLong(1L << 40);
        byte[] b = new ProtoWriter().int64(1, 2).int64(2, OnnxTensor.INT64).bytes(9, raw.array()).toBytes();
        assertArrayEquals(new long[]{-7, 1L << 40}, OnnxModelReader.parseTensor(new ProtoReader(b, 0, b.length, "t")).toLongs());
        byte[] i32 = new ProtoWriter().int64(1, 2).int64(2, OnnxTensor.INT32).packedVarints(5, -3L, 5).toBytes();
        assertArrayEquals(new long[]{-3, 5}, OnnxModelReader.parseTensor(new ProtoReader(i32, 0, i32.length, "t")).toLongs());
    }

    @Test
    void rejectsRawDataOfTheWrongSizeNamingTheTensor() {
        byte[] b = new ProtoWriter().int64(1, 3).int64(2, OnnxTensor.FLOAT).string(8, "enc.w").bytes(9, new byte[8]).toBytes();
        OnnxTensor t = OnnxModelReader.parseTensor(new ProtoReader(b, 0, b.length, "t"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, t::toFloats);
        assertTrue(e.getMessage().contains("enc.w") && e.getMessage().contains("need 12 bytes"), e.getMessage());
    }

    @Test
    void rejectsExternalData() {
        byte[] b = new ProtoWriter().int64(1, 1).int64(2, 1).string(8, "big").int64(14, 1).toBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxModelReader.parseTensor(new ProtoReader(b, 0, b.length, "t")));
        assertTrue(e.getMessage().contains("'big'") && e.getMessage().contains("externally"), e.getMessage());
    }

    @Test
    void parsesAModelSkippingUnknownFieldsOfEveryWireType() {
        ProtoWriter attrAxes = new ProtoWriter().string(1, "axes").int64(20, OnnxGraph.Attribute.INTS).int64(8, -1);
        ProtoWriter attrEps = new ProtoWriter().string(1, "epsilon").float32(2, 1e-12f).int64(20, OnnxGraph.Attribute.FLOAT);
        ProtoWriter valueT = new ProtoWriter().int64(2, OnnxTensor.FLOAT).packedFloats(4, 2f);
        ProtoWriter attrValue = new ProtoWriter().string(1, "value").message(5, valueT).int64(20, OnnxGraph.Attribute.TENSOR);
        ProtoWriter node = new ProtoWriter().string(1, "x").string(1, "").string(2, "y").string(3, "/ln/ReduceMean")
                .string(4, "ReduceMean").message(5, attrAxes).message(5, attrEps).message(5, attrValue)
                .string(6, "doc").fixed64(99, 42).fixed32(98, 7).int64(97, 5);
        ProtoWriter init = new ProtoWriter().int64(1, 2).int64(2, OnnxTensor.FLOAT).string(8, "onnx::MatMul_1")
                .bytes(9, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(-1f).array());
        ProtoWriter graph = new ProtoWriter().message(1, node).string(2, "g").message(5, init)
                .message(11, new ProtoWriter().string(1, "x").message(2, new ProtoWriter().int64(1, 1)))
                .message(12, new ProtoWriter().string(1, "y")).string(10, "graph doc");
        ProtoWriter opset = new ProtoWriter().string(1, "").int64(2, 14);
        byte[] model = new ProtoWriter().int64(1, 8).string(2, "pytorch").string(3, "2.0.1").fixed32(50, 1)
                .message(8, opset).message(7, graph).string(14, "unknown").toBytes();

        OnnxModel m = OnnxModelReader.parse(model);
        assertEquals(8, m.irVersion());
        assertEquals("pytorch", m.producerName());
        assertEquals(14L, m.opsetImports().get(""));
        OnnxGraph g = m.graph();
        assertEquals("g", g.name());
        assertEquals(List.of("x"), g.inputs());
        assertEquals(List.of("y"), g.outputs());
        OnnxGraph.Node n = g.nodes().get(0);
        assertEquals("ReduceMean", n.opType());
        assertEquals(List.of("x", ""), n.inputs());
        assertArrayEquals(new long[]{-1}, n.attr("axes").ints());
        assertEquals(1e-12f, n.attr("epsilon").f());
        assertArrayEquals(new float[]{2f}, n.attr("value").t().toFloats());
        assertArrayEquals(new float[]{1f, -1f}, g.initializers().get("onnx::MatMul_1").toFloats());
    }

    @Test
    void mergesARepeatedGraphFieldAsProtobufDoes() {
        byte[] first = new ProtoWriter().message(7, new ProtoWriter().string(2, "g").message(12, new ProtoWriter().string(1, "y"))).toBytes();
        byte[] merged = ProtoWriter.withExtraFloatOutputs(first, List.of("h1", "h2"));
        assertEquals(List.of("y", "h1", "h2"), OnnxModelReader.parse(merged).graph().outputs());
    }

    @Test
    void rejectsWrongWireTypeForAKnownFieldNamingIt() {
        byte[] model = new ProtoWriter().fixed32(7, 1).toBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxModelReader.parse(model));
        assertTrue(e.getMessage().contains("graph (field 7) has wire type 5"), e.getMessage());
    }

    @Test
    void rejectsAModelWithoutGraph() {
        byte[] model = new ProtoWriter().int64(1, 8).toBytes();
        assertThrows(IllegalArgumentException.class, () -> OnnxModelReader.parse(model));
    }
}

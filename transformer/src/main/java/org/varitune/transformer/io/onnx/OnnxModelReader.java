package org.varitune.transformer.io.onnx;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes an ONNX {@code ModelProto} from protobuf wire format without a protobuf library: the model header, the
 * graph's nodes (op_type, inputs, outputs, name, domain, attributes), initializers ({@code TensorProto}) and the
 * graph's input and output names. Unknown fields are skipped; repeated scalars are accepted packed or unpacked; a
 * singular message field that occurs twice is merged, as protobuf specifies. Tensors with external data
 * ({@code data_location = EXTERNAL}) are rejected, naming the tensor.
 *
 * <p>Field numbers follow {@code onnx.proto} (ModelProto: ir_version 1, producer_name 2, producer_version 3,
 * graph 7, opset_import 8; GraphProto: node 1, name 2, initializer 5, input 11, output 12; NodeProto: input 1,
 * output 2, name 3, op_type 4, attribute 5, domain 7; AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8,
 * type 20; TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
 * data_location 14; ValueInfoProto: name 1).
 */
public final class OnnxModelReader {
    private OnnxModelReader() {}

    /** Reads a whole {@code .onnx} file. The file name appears in error messages. */
    public static OnnxModel read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Reads the stream to its end and parses it; {@code source} names it in error messages. Closes nothing. */
    public static OnnxModel read(InputStream in, String source) throws IOException {
        byte[] bytes = in.readAllBytes();
        try {
            return parse(bytes);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses a serialized {@code ModelProto}. Tensors' {@code raw_data} stay views into {@code bytes}, so the
     * caller must not modify the array afterwards.
     *
     * @throws IllegalArgumentException on malformed bytes, naming the message path and byte offset
     */
    public static OnnxModel parse(byte[] bytes) {
        ProtoReader r = new ProtoReader(bytes, 0, bytes.length, "ModelProto");
        long ir = 0;
        String producer = "", producerVersion = "";
        Map<String, Long> opsets = new LinkedHashMap<>();
        GraphBuilder graph = null;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.field(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.VARINT, "ir_version"); ir = r.readVarint(); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "producer_name"); producer = r.readString(); }
                case 3 -> { r.expect(tag, ProtoReader.LEN, "producer_version"); producerVersion = r.readString(); }
                case 7 -> {
                    r.expect(tag, ProtoReader.LEN, "graph");
                    if (graph == null) graph = new GraphBuilder();
                    graph.merge(r.readMessage("ModelProto.graph"));
                }
                case 8 -> {
                    r.expect(tag, ProtoReader.LEN, "opset_import");
                    parseOpset(r.readMessage("ModelProto.opset_import[" + opsets.size() + "]"), opsets);
                }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        if (graph == null) throw new IllegalArgumentException("ModelProto has no graph (field 7)");
        return new OnnxModel(ir, producer, producerVersion, Collections.unmodifiableMap(opsets), graph.build());
    }

    private static void parseOpset(ProtoReader r, Map<String, Long> opsets) {
        String domain = "";
        long version = 0;
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.field(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "domain"); domain = r.readString(); }
                case 2 -> { r.expect(tag, ProtoReader.VARINT, "version"); version = r.readVarint(); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        opsets.put(domain, version);
    }

    /** Accumulates GraphProto fields across (possibly several, merged) occurrences. */
    private static final class GraphBuilder {
        String name = "";
        final List<OnnxGraph.Node> nodes = new ArrayList<>();
        final Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
        final List<String> inputs = new ArrayList<>();
        final List<String> outputs = new ArrayList<>();

        void merge(ProtoReader r) {
            while (r.hasMore()) {
                int tag = r.readTag();
                switch (ProtoReader.field(tag)) {
                    case 1 -> {
                        r.expect(tag, ProtoReader.LEN, "node");
                        nodes.add(parseNode(r.readMessage("GraphProto.node[" + nodes.size() + "]")));
                    }
                    case 2 -> { r.expect(tag, ProtoReader.LEN, "name"); name = r.readString(); }
                    case 5 -> {
                        r.expect(tag, ProtoReader.LEN, "initializer");
                        OnnxTensor t = parseTensor(r.readMessage("GraphProto.initializer[" + initializers.size() + "]"));
                        if (initializers.put(t.name(), t) != null) {
                            throw new IllegalArgumentException("GraphProto: duplicate initializer '" + t.name() + "'");
                        }
                    }
                    case 11 -> { r.expect(tag, ProtoReader.LEN, "input"); inputs.add(parseValueInfoName(r.readMessage("GraphProto.input[" + inputs.size() + "]"))); }
                    case 12 -> { r.expect(tag, ProtoReader.LEN, "output"); outputs.add(parseValueInfoName(r.readMessage("GraphProto.output[" + outputs.size() + "]"))); }
                    default -> r.skip(ProtoReader.wireType(tag));
                }
            }
        }

        OnnxGraph build() {
            return new OnnxGraph(name, List.copyOf(nodes), Collections.unmodifiableMap(initializers), List.copyOf(inputs),
                    List.copyOf(outputs));
        }
    }

    private static String parseValueInfoName(ProtoReader r) {
        String name = "";
        while (r.hasMore()) {
            int tag = r.readTag();
            if (ProtoReader.field(tag) == 1) {
                r.expect(tag, ProtoReader.LEN, "name");
                name = r.readString();
            } else {
                r.skip(ProtoReader.wireType(tag));
            }
        }
        return name;
    }

    static OnnxGraph.Node parseNode(ProtoReader r) {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "", domain = "";
        Map<String, OnnxGraph.Attribute> attrs = new LinkedHashMap<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.field(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "input"); in.add(r.readString()); }
                case 2 -> { r.expect(tag, ProtoReader.LEN, "output"); out.add(r.readString()); }
                case 3 -> { r.expect(tag, ProtoReader.LEN, "name"); name = r.readString(); }
                case 4 -> { r.expect(tag, ProtoReader.LEN, "op_type"); op = r.readString(); }
                case 5 -> {
                    r.expect(tag, ProtoReader.LEN, "attribute");
                    OnnxGraph.Attribute a = parseAttribute(r.readMessage(r.where() + ".attribute[" + attrs.size() + "]"));
                    attrs.put(a.name(), a);
                }
                case 7 -> { r.expect(tag, ProtoReader.LEN, "domain"); domain = r.readString(); }
                default -> r.skip(ProtoReader.wireType(tag));
            }
        }
        return new OnnxGraph.Node(name, op, domain, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attrs));
    }

    static OnnxGraph.Attribute parseAttribute(ProtoReader r) {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        byte[] s = new byte[0];
        OnnxTensor t = null;
        ProtoReader.FloatList floats = new ProtoReader.FloatList();
        ProtoReader.LongList ints = new ProtoReader.LongList();
        while (r.hasMore()) {
            int tag = r.readTag();
            int wt = ProtoReader.wireType(tag);
            switch (ProtoReader.field(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LEN, "name"); name = r.readString(); }
                case 2 -> { r.expect(tag, ProtoReader.I32, "f"); f = r.readFloat(); }
                case 3 -> { r.expect(tag, ProtoReader.VARINT, "i"); i = r.readVarint(); }
                case 4 -> { r.expect(tag, ProtoReader.LEN, "s"); s = r.readBytes(); }
                case 5 -> { r.expect(tag, ProtoReader.LEN, "t"); t = parseTensor(r.readMessage(r.where() + ".t")); }
                case 7 -> r.readRepeatedFloat(wt, floats);
                case 8 -> r.readRepeatedVarint(wt, ints);
                case 20 -> { r.expect(tag, ProtoReader.VARINT, "type"); type = (int) r.readVarint(); }
                default -> r.skip(wt);
            }
        }
        return new OnnxGraph.Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
    }

    static OnnxTensor parseTensor(ProtoReader r) {
        ProtoReader.LongList dims = new ProtoReader.LongList();
        ProtoReader.FloatList floatData = new ProtoReader.FloatList();
        ProtoReader.LongList int32Data = new ProtoReader.LongList();
        ProtoReader.LongList int64Data = new ProtoReader.LongList();
        int dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        long dataLocation = 0;
        while (r.hasMore()) {
            int tag = r.readTag();
            int wt = ProtoReader.wireType(tag);
            switch (ProtoReader.field(tag)) {
                case 1 -> r.readRepeatedVarint(wt, dims);
                case 2 -> { r.expect(tag, ProtoReader.VARINT, "data_type"); dataType = (int) r.readVarint(); }
                case 4 -> r.readRepeatedFloat(wt, floatData);
                case 5 -> r.readRepeatedVarint(wt, int32Data);
                case 7 -> r.readRepeatedVarint(wt, int64Data);
                case 8 -> { r.expect(tag, ProtoReader.LEN, "name"); name = r.readString(); }
                case 9 -> {
                    r.expect(tag, ProtoReader.LEN, "raw_data");
                    r.readLengthDelimited();
                    raw = ByteBuffer.wrap(r.buffer(), r.lastStart(), r.lastLength()).slice().asReadOnlyBuffer();
                }
                case 14 -> { r.expect(tag, ProtoReader.VARINT, "data_location"); dataLocation = r.readVarint(); }
                default -> r.skip(wt);
            }
        }
        if (dataLocation != 0) {
            throw new IllegalArgumentException(r.where() + ": tensor '" + name + "' stores its data externally"
                    + " (data_location " + dataLocation + "); only embedded data is supported");
        }
        long[] i32 = int32Data.toArray();
        for (int k = 0; k < i32.length; k++) i32[k] = (int) i32[k]; // int32 varints are sign-extended to 64 bits
        return new OnnxTensor(name, dims.toArray(), dataType, raw, floatData.toArray(), i32, int64Data.toArray());
    }
}

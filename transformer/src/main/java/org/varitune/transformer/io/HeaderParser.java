package org.varitune.transformer.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and validates the header of a safetensors file: an unsigned 64-bit little-endian length N, then N bytes of
 * UTF-8 JSON, then the data buffer. Every error names the file and, where there is one, the tensor or key.
 *
 * <p>The checks are those of the reference implementation (HF {@code safetensors}, {@code SafeTensors::read_metadata}
 * and {@code Metadata::validate}): the header is UTF-8 (no byte-order mark, no UTF-16) JSON; sorted by
 * {@code data_offsets}, the tensors tile the data buffer exactly: the first begins at 0, each begins where the
 * previous ends, and the last ends at the end of the file, so a header length that is off by a few bytes (the
 * header is space-padded, so its JSON still parses) leaves bytes over and is rejected instead of shifting every
 * tensor; element and byte counts overflow no 64-bit integer.
 */
final class HeaderParser {
    /** The header size limit of the reference implementation: 100 MB. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    /** JSON reader shared by the safetensors and index parsers: duplicate keys and trailing tokens are errors. */
    static final ObjectMapper STRICT_JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private HeaderParser() {}

    /**
     * The parsed header.
     *
     * @param dataStart  absolute file position of the data buffer, 8 + N
     * @param dataLength bytes from dataStart to the end of the file
     * @param tensors    entries by name, sorted
     * @param metadata   {@code __metadata__}, sorted; empty when absent
     */
    record Header(long dataStart, long dataLength, Map<String, TensorInfo> tensors, Map<String, String> metadata) {}

    /**
     * Reads the header of {@code file} from {@code channel}. Does not modify the channel's position.
     *
     * @param file     for error messages
     * @param channel  open for reading
     * @param fileSize the file's size in bytes
     */
    static Header read(Path file, FileChannel channel, long fileSize) throws IOException {
        if (fileSize < 8) {
            throw new SafetensorsFormatException(file + ": file is " + fileSize
                    + " bytes, shorter than the 8-byte header length prefix of a safetensors file");
        }
        ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, 0, file);
        long n = prefix.getLong(0); // unsigned: a negative value is a length >= 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(file + ": header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + n > fileSize) {
            throw new SafetensorsFormatException(file + ": header length " + n + " runs past the end of the file ("
                    + fileSize + " bytes, so at most " + (fileSize - 8) + " header bytes)");
        }
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readFully(channel, json, 8, file);
        long dataLength = fileSize - 8 - n;
        return parse(file, json.array(), 8 + n, dataLength);
    }

    private static void readFully(FileChannel channel, ByteBuffer dst, long position, Path file) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = channel.read(dst, pos);
            if (r < 0) throw new SafetensorsFormatException(file + ": unexpected end of file at byte " + pos);
            pos += r;
        }
    }

    /**
     * Parses and validates header JSON.
     *
     * @param json       the N header bytes; not modified
     * @param dataStart  absolute position of the data buffer
     * @param dataLength size of the data buffer
     */
    static Header parse(Path file, byte[] json, long dataStart, long dataLength) throws SafetensorsFormatException {
        JsonNode root = parseStrict(file, utf8(file, json, "header"), "header");
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file + ": header is not a JSON object but "
                    + (root == null || root.isMissingNode() ? "empty" : root.getNodeType().toString().toLowerCase()));
        }
        Map<String, TensorInfo> tensors = new TreeMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.put(name, parseEntry(file, name, e.getValue(), dataLength));
            }
        }
        checkTiling(file, tensors, dataLength);
        return new Header(dataStart, dataLength, Collections.unmodifiableMap(tensors), metadata);
    }

    /**
     * Parses JSON with duplicate keys and trailing tokens rejected.
     *
     * @param what what the bytes are, for messages ("header", "index")
     */
    static JsonNode parseStrict(Path file, String json, String what) throws SafetensorsFormatException {
        try {
            return STRICT_JSON.readTree(json);
        } catch (JacksonException e) {
            String msg = e.getOriginalMessage();
            if (msg != null && msg.startsWith("Duplicate field")) {
                throw new SafetensorsFormatException(file + ": " + what + " has a duplicate key: " + msg
                        + " (a tensor name or key may appear only once)", e);
            }
            throw new SafetensorsFormatException(file + ": " + what + " is not valid JSON: " + msg
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr()), e);
        } catch (IOException e) {
            throw new SafetensorsFormatException(file + ": " + what + " could not be parsed: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes strict UTF-8, as the reference's {@code str::from_utf8}: a byte-order mark, a malformed or truncated
     * sequence (hence UTF-16 text with a BOM) is an error naming the byte offset. Jackson alone would detect UTF-16
     * and UTF-32 and skip a BOM.
     *
     * @param what what the bytes are, for messages ("header", "index")
     */
    static String utf8(Path file, byte[] bytes, String what) throws SafetensorsFormatException {
        if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
            throw new SafetensorsFormatException(file + ": " + what + " starts with a UTF-8 byte-order mark, which "
                    + "the format does not allow");
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return dec.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(file + ": " + what + " is not valid UTF-8 at byte " + in.position()
                    + " of the " + what, e);
        }
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws SafetensorsFormatException {
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file + ": " + METADATA_KEY + " must be an object of string to string, got "
                    + node.getNodeType().toString().toLowerCase());
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(file + ": " + METADATA_KEY + " key '" + e.getKey()
                        + "' must have a string value, got " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode entry, long dataLength)
            throws SafetensorsFormatException {
        String where = file + ": tensor '" + name + "'";
        if (!entry.isObject()) {
            throw new SafetensorsFormatException(where + ": entry must be an object with dtype, shape and data_offsets, got "
                    + entry);
        }
        JsonNode dtypeNode = required(where, entry, "dtype");
        if (!dtypeNode.isTextual()) {
            throw new SafetensorsFormatException(where + ": dtype must be a string, got " + dtypeNode);
        }
        DType dtype = DType.fromHeaderName(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsFormatException(where + ": unknown dtype '" + dtypeNode.textValue() + "' (known: "
                    + Arrays.toString(DType.values()) + ")");
        }
        JsonNode shapeNode = required(where, entry, "shape");
        if (!shapeNode.isArray()) {
            throw new SafetensorsFormatException(where + ": shape must be an array of non-negative integers, got "
                    + shapeNode);
        }
        int[] shape = new int[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw new SafetensorsFormatException(where + ": shape must be an array of non-negative integers "
                        + "below 2^31, got " + shapeNode);
            }
            shape[i] = d.intValue();
        }
        JsonNode offNode = required(where, entry, "data_offsets");
        if (!offNode.isArray() || offNode.size() != 2) {
            throw new SafetensorsFormatException(where + ": data_offsets must be an array [begin, end], got " + offNode);
        }
        long[] off = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = offNode.get(i);
            if (!o.isIntegralNumber() || !o.canConvertToLong() || o.longValue() < 0) {
                throw new SafetensorsFormatException(where + ": data_offsets must be non-negative integers, got "
                        + offNode);
            }
            off[i] = o.longValue();
        }
        if (off[0] > off[1]) {
            throw new SafetensorsFormatException(where + ": data_offsets begin " + off[0] + " > end " + off[1]);
        }
        if (off[1] > dataLength) {
            throw new SafetensorsFormatException(where + ": data_offsets [" + off[0] + ", " + off[1]
                    + "] lie outside the data buffer of " + dataLength + " bytes");
        }
        long numel;
        long expected;
        try {
            numel = 1;
            for (int d : shape) numel = Math.multiplyExact(numel, d);
            expected = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException ex) {
            throw new SafetensorsFormatException(where + ": shape " + Arrays.toString(shape) + " overflows 64 bits");
        }
        if (expected != off[1] - off[0]) {
            throw new SafetensorsFormatException(where + ": shape " + Arrays.toString(shape) + " of " + dtype + " is "
                    + numel + " elements = " + expected + " bytes, but data_offsets [" + off[0] + ", " + off[1]
                    + "] span " + (off[1] - off[0]) + " bytes");
        }
        return new TensorInfo(name, dtype, shape, off[0], off[1] - off[0]);
    }

    private static JsonNode required(String where, JsonNode entry, String key) throws SafetensorsFormatException {
        JsonNode n = entry.get(key);
        if (n == null || n.isNull()) {
            throw new SafetensorsFormatException(where + ": entry has no '" + key + "' (needs dtype, shape and "
                    + "data_offsets), got " + entry);
        }
        return n;
    }

    /**
     * Checks that the tensors, sorted by (begin, end) of their {@code data_offsets}, tile [0, dataLength) exactly:
     * no hole, no overlap, no byte left over at the end (the reference's {@code InvalidOffset} and
     * {@code MetadataIncompleteBuffer}). Empty tensors sit at any offset where a tensor begins or ends.
     */
    private static void checkTiling(Path file, Map<String, TensorInfo> tensors, long dataLength)
            throws SafetensorsFormatException {
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::byteOffset).thenComparingLong(TensorInfo::byteLength)
                .thenComparing(TensorInfo::name));
        long end = 0;
        TensorInfo prev = null;
        for (TensorInfo t : byOffset) {
            if (t.byteOffset() != end) {
                String after = prev == null ? "the data buffer begins at 0" : "the previous tensor '" + prev.name()
                        + "' ends at " + end;
                throw new SafetensorsFormatException(file + ": tensor '" + t.name() + "' begins at data offset "
                        + t.byteOffset() + " but " + after + " (" + (t.byteOffset() > end ? "a hole of "
                        + (t.byteOffset() - end) + " bytes" : "an overlap of " + (end - t.byteOffset()) + " bytes")
                        + "; tensors must be contiguous)");
            }
            end = t.byteOffset() + t.byteLength();
            prev = t;
        }
        if (end != dataLength) {
            throw new SafetensorsFormatException(file + ": the tensors cover " + end + " data bytes but the file holds "
                    + dataLength + " after the header: " + (dataLength - end) + " bytes left over (a header length "
                    + "that is too short shifts every tensor; the data must end exactly at the end of the file)");
        }
    }
}

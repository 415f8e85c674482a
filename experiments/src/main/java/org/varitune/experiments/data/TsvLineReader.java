package org.varitune.experiments.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a text file line by line, strictly as GLUE files must be read: UTF-8 with malformed bytes reported (never
 * replaced), lines ended by {@code '\n'} only (a {@code '\r'} just before it, CRLF, is dropped; a lone {@code '\r'}
 * elsewhere is text), the last line with or without a final newline, and a UTF-8 byte order mark at the start of the
 * file dropped. Fields are split on {@code '\t'} only; quote characters are text.
 */
final class TsvLineReader implements Closeable {
    private final Path file;
    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).flip(); // read mode: undecoded bytes
    private final char[] buf = new char[1 << 16];                         // decoded chars, [pos, len) unread
    private final CharBuffer chars = CharBuffer.wrap(buf);
    private int pos, len;
    private int lineNumber;
    private boolean eof, inputDone, decoderDone;
    private CoderResult pendingError; // reported once the chars decoded before it have been consumed

    TsvLineReader(Path file) throws IOException {
        this.file = file;
        this.in = Files.newInputStream(file);
    }

    /** 1-based number of the line last returned by {@link #readLine()} (0 before the first). */
    int lineNumber() { return lineNumber; }

    /** The next line without its terminator, or null at end of file. */
    String readLine() throws IOException {
        if (eof) return null;
        StringBuilder sb = new StringBuilder(128);
        while (true) {
            if (pos == len && !fill()) {
                eof = true;
                if (sb.length() == 0) return null; // file ended right after a newline (or is empty)
                break;
            }
            int start = pos;
            while (pos < len && buf[pos] != '\n') pos++;
            sb.append(buf, start, pos - start);
            if (pos < len) { pos++; break; } // consumed '\n'
        }
        lineNumber++;
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
        if (lineNumber == 1 && sb.length() > 0 && sb.charAt(0) == '\uFEFF') sb.deleteCharAt(0);
        return sb.toString();
    }

    /**
     * Decodes the next chunk into {@code buf}. Decoding errors are raised only when every char before the bad bytes
     * has been consumed, so the line number in the message is the line that holds them.
     */
    private boolean fill() throws IOException {
        pos = 0;
        len = 0;
        while (len == 0) {
            if (pendingError != null)
                throw new MalformedDataException(file, lineNumber + 1, "not valid UTF-8 (" + pendingError.length()
                        + " malformed byte(s))");
            if (decoderDone) return false;
            if (!inputDone) {
                bytes.compact();
                int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
                if (n < 0) inputDone = true; else bytes.position(bytes.position() + n);
                bytes.flip();
            }
            chars.clear();
            CoderResult r = decoder.decode(bytes, chars, inputDone);
            if (r.isError()) pendingError = r;
            else if (inputDone) { decoder.flush(chars); decoderDone = true; }
            len = chars.position();
        }
        return true;
    }

    /** Splits a line on every {@code '\t'}, keeping empty fields (also trailing ones). Quotes are not interpreted. */
    static String[] split(String line) {
        int n = 1;
        for (int i = 0; i < line.length(); i++) if (line.charAt(i) == '\t') n++;
        String[] out = new String[n];
        int k = 0, start = 0;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == '\t') { out[k++] = line.substring(start, i); start = i + 1; }
        }
        out[k] = line.substring(start);
        return out;
    }

    @Override public void close() throws IOException { in.close(); }
}

package org.varitune.experiments.data;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a text file line by line, strictly as GLUE files must be read: UTF-8 with malformed bytes reported (never
 * replaced), lines ended by {@code '\n'} only (a {@code '\r'} just before it, CRLF, is dropped; a lone {@code '\r'}
 * elsewhere is text), the last line with or without a final newline, and a UTF-8 byte order mark at the start of the
 * file dropped. Fields are split on {@code '\t'} only; quote characters are text.
 *
 * <p>{@link #reader()} gives the same strict decoding to parsers that find records themselves (CSV, whose quoted
 * fields span lines): a decoding error is raised only by the read that reaches the bad bytes, so the parser's
 * position at that moment is the record that holds them.
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
    private boolean eof, inputDone, decoderDone, bomChecked;
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
            if (pos == len && !fillOrReport()) {
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

    /** {@link #fill()}, with a decoding error reported as a {@link MalformedDataException} naming the line. */
    private boolean fillOrReport() throws IOException {
        try {
            return fill();
        } catch (MalformedInputException e) {
            throw new MalformedDataException(file, lineNumber + 1, "not valid UTF-8 (" + e.getInputLength()
                    + " malformed byte(s))");
        }
    }

    /**
     * The rest of the file as a {@link Reader}, a byte order mark at the start dropped. Use either this or
     * {@link #readLine()}, not both.
     *
     * @return a reader whose reads throw {@link MalformedInputException} on reaching invalid UTF-8 (never earlier)
     */
    Reader reader() {
        return new Reader() {
            @Override public int read(char[] cbuf, int off, int n) throws IOException {
                if (n == 0) return 0;
                if (pos == len && !fill()) return -1;
                if (!bomChecked) {
                    bomChecked = true;
                    if (buf[pos] == '\uFEFF' && ++pos == len && !fill()) return -1;
                }
                int k = Math.min(n, len - pos);
                System.arraycopy(buf, pos, cbuf, off, k);
                pos += k;
                return k;
            }

            @Override public void close() throws IOException { TsvLineReader.this.close(); }
        };
    }

    /**
     * Decodes the next chunk into {@code buf}. Decoding errors are raised only when every char before the bad bytes
     * has been consumed, so the line (or record) being read when it is raised is the one that holds them.
     *
     * @throws MalformedInputException when the next bytes are not valid UTF-8
     */
    private boolean fill() throws IOException {
        pos = 0;
        len = 0;
        while (len == 0) {
            if (pendingError != null) throw new MalformedInputException(pendingError.length());
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

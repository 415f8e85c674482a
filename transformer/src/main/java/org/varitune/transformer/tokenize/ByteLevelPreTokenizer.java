package org.varitune.transformer.tokenize;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * HF's {@code ByteLevel} pre-tokenizer (GPT-2 / RoBERTa): optionally prepend a space, split with GPT-2's regex
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 * and map each word's UTF-8 bytes to printable characters with GPT-2's {@code bytes_to_unicode} table. In Java,
 * {@code \s} is ASCII-only, so it is replaced by the explicit Unicode White_Space class that Oniguruma uses.
 *
 * @param addPrefixSpace HF {@code add_prefix_space}: prepend ' ' unless the text starts with ' '
 * @param useRegex       HF {@code use_regex}: split with the GPT-2 regex (else the whole text is one word)
 */
public record ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {

    private static final String WS = "\\t\\n\\x0B\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
            + "\\x{202F}\\x{205F}\\x{3000}";
    /** GPT-2's split regex with {@code \s} = [WS] and {@code \S} = [^WS]. */
    static final Pattern GPT2_SPLIT = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" + WS
            + "\\p{L}\\p{N}]+|[" + WS + "]+(?![^" + WS + "])|[" + WS + "]+");

    /** GPT-2's {@code bytes_to_unicode}: byte b (0..255) → a printable character. */
    static final char[] BYTE_TO_CHAR = buildByteToChar();

    private static char[] buildByteToChar() {
        char[] map = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = printable[b] ? (char) b : (char) next++;
        return map;
    }

    /** Maps the UTF-8 bytes of {@code s} through {@link #BYTE_TO_CHAR}. */
    static String toByteLevel(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    @Override
    public void split(String text, List<String> out) {
        if (addPrefixSpace && !text.startsWith(" ")) text = " " + text;
        if (text.isEmpty()) return;
        if (!useRegex) {
            out.add(toByteLevel(text));
            return;
        }
        Matcher m = GPT2_SPLIT.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) out.add(toByteLevel(text.substring(last, m.start())));  // unmatched gap, kept as HF does
            out.add(toByteLevel(m.group()));
            last = m.end();
        }
        if (last < text.length()) out.add(toByteLevel(text.substring(last)));
    }
}

package org.varitune.transformer.tokenize;

import java.text.Normalizer;

/**
 * HF's {@code BertNormalizer}, applied in HF's order:
 * <ol>
 *   <li>{@code clean_text}: drop U+0000, U+FFFD and control characters ({@link CharClasses#isControl}); map every
 *       other White_Space character to ' '.</li>
 *   <li>{@code handle_chinese_chars}: surround each CJK ideograph with spaces.</li>
 *   <li>{@code strip_accents} (null = follow lowercase): NFD, then drop nonspacing marks (Mn).</li>
 *   <li>{@code lowercase}: per code point, full mapping (U+0130 becomes "i̇"; no final-sigma context, as Rust's
 *       {@code char::to_lowercase}).</li>
 * </ol>
 *
 * @param cleanText          HF {@code clean_text}
 * @param handleChineseChars HF {@code handle_chinese_chars}
 * @param stripAccents       HF {@code strip_accents} after resolving null to {@code lowercase}
 * @param lowercase          HF {@code lowercase}
 */
public record BertNormalizer(boolean cleanText, boolean handleChineseChars, boolean stripAccents, boolean lowercase) {

    /** Normalizes {@code s}; returns a new string (or {@code s} itself when nothing changes). */
    public String normalize(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        boolean ascii = true;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c >= 0x80) ascii = false;
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || CharClasses.isControl(c)) continue;
                if (CharClasses.isWhitespace(c)) c = ' ';
            }
            if (handleChineseChars && CharClasses.isChineseChar(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
            } else {
                sb.appendCodePoint(c);
            }
        }
        String t = sb.toString();
        if (stripAccents && !ascii) {
            String nfd = Normalizer.normalize(t, Normalizer.Form.NFD);
            StringBuilder out = new StringBuilder(nfd.length());
            for (int i = 0; i < nfd.length(); ) {
                int c = nfd.codePointAt(i);
                i += Character.charCount(c);
                if (Character.getType(c) != Character.NON_SPACING_MARK) out.appendCodePoint(c);
            }
            t = out.toString();
        }
        if (lowercase) t = lowercasePerCodePoint(t);
        return t;
    }

    /** Rust {@code char::to_lowercase} per code point: simple mappings plus U+0130 → "i\u0307". */
    static String lowercasePerCodePoint(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int n = Character.charCount(c);
            int lc = c == 0x130 ? -1 : Character.toLowerCase(c);
            if (lc != c && out == null) {
                out = new StringBuilder(s.length() + 4);
                out.append(s, 0, i);
            }
            if (out != null) {
                if (lc == -1) out.append("i\u0307");
                else out.appendCodePoint(lc);
            }
            i += n;
        }
        return out == null ? s : out.toString();
    }
}

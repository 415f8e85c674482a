package org.varitune.transformer.tokenize;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BertNormalizer and the BERT character classes, on hand-written strings. */
class TokenizerNormalizerTest extends TestBase {
    static final BertNormalizer UNCASED = new BertNormalizer(true, true, true, true);
    static final BertNormalizer OFF = new BertNormalizer(false, false, false, false);

    @Test
    void cleanTextDropsNulReplacementAndControlCharacters() {
        BertNormalizer clean = new BertNormalizer(true, false, false, false);
        assertEquals("abcdefg", clean.normalize("a\u0000b\uFFFDc\u0007d\u200Be\uE000f\u0085g"));
    }

    @Test
    void cleanTextMapsWhitespaceIncludingNoBreakSpacesToSpace() {
        BertNormalizer clean = new BertNormalizer(true, false, false, false);
        assertEquals("a b c d e f g", clean.normalize("a\tb\nc\rd\u00A0e\u3000f\u2028g"));
    }

    @Test
    void cleanTextKeepsUnassignedCodePoints() {
        BertNormalizer clean = new BertNormalizer(true, false, false, false);
        assertEquals("x\u0378y", clean.normalize("x\u0378y"));
    }

    @Test
    void chineseCharactersAreSurroundedBySpaces() {
        BertNormalizer cjk = new BertNormalizer(false, true, false, false);
        assertEquals("a 中  文 b", cjk.normalize("a中文b"));
        String ext = new String(Character.toChars(0x2B920));
        assertEquals("x " + ext + " y", cjk.normalize("x" + ext + "y"));
        String gap = new String(Character.toChars(0x2B820));  // between HF's ranges: not CJK for BERT
        assertEquals("x" + gap + "y", cjk.normalize("x" + gap + "y"));
    }

    @Test
    void stripAccentsRemovesNonspacingMarksAfterNfd() {
        assertEquals("naive cafe angstrom", UNCASED.normalize("Naïve Café Ångström"));
        BertNormalizer keep = new BertNormalizer(true, true, false, true);
        assertEquals("naïve", keep.normalize("NAÏVE"));
    }

    @Test
    void lowercaseIsPerCodePointWithFullMappingOfDottedCapitalI() {
        BertNormalizer lower = new BertNormalizer(false, false, false, true);
        assertEquals("i\u0307stanbul", lower.normalize("İstanbul"));
        assertEquals("σασ", lower.normalize("ΣΑΣ"));  // no final-sigma context, as Rust's char::to_lowercase
        assertEquals("istanbul", UNCASED.normalize("İstanbul"));
    }

    @Test
    void disabledOptionsLeaveTextUnchanged() {
        String s = "A\u0000中É\t";
        assertEquals(s, OFF.normalize(s));
    }

    @Test
    void punctuationIncludesAsciiSymbolsAndUnicodePunctuationOnly() {
        for (char c : "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".toCharArray()) assertTrue(CharClasses.isPunctuation(c), "" + c);
        for (int c : new int[] {0xBF, 0xA1, 0x2014, 0xAB, 0x3002}) assertTrue(CharClasses.isPunctuation(c), Integer.toHexString(c));
        for (int c : new int[] {'a', '0', ' ', 0x20AC, 0xA9, 0x2B}) {
            assertEquals(c == 0x2B, CharClasses.isPunctuation(c), Integer.toHexString(c));  // '+' is ASCII punctuation, € and © are not
        }
    }

    @Test
    void whitespaceIsTheUnicodeWhiteSpaceProperty() {
        for (int c : new int[] {' ', '\t', '\n', 0x0B, 0x0C, '\r', 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
            assertTrue(CharClasses.isWhitespace(c), Integer.toHexString(c));
        }
        for (int c : new int[] {0x1C, 0x1F, 0x200B, 0x180E, 'x'}) assertFalse(CharClasses.isWhitespace(c), Integer.toHexString(c));
    }

    @Test
    void bertPreTokenizerSplitsOnWhitespaceAndIsolatesPunctuation() {
        List<String> out = new ArrayList<>();
        new BertPreTokenizer().split("  Hello,world!! it's\u00A0a--b ", out);
        assertEquals(List.of("Hello", ",", "world", "!", "!", "it", "'", "s", "a", "-", "-", "b"), out);
    }
}

package org.varitune.transformer.tokenize;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** WordPiece, BPE and the byte-level pre-tokenizer on tiny hand-built vocabularies. */
class TokenizerModelTest extends TestBase {

    static Map<String, Integer> vocab(String... tokens) {
        Map<String, Integer> v = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) v.put(tokens[i], i);
        return v;
    }

    static int[] ids(Model m, String word) {
        IntList out = new IntList(4);
        m.tokenize(word, out);
        return out.toArray();
    }

    // ---- WordPiece

    static final WordPiece WP = new WordPiece(vocab("[UNK]", "un", "##aff", "##able", "una", "##ffa", "##ble", "a", "##a", "😀"),
            "[UNK]", "##", 5);

    @Test
    void wordPieceTakesTheLongestPrefixFirst() {
        WordPiece wide = new WordPiece(WP.vocab(), "[UNK]", "##", 100);
        assertArrayEquals(new int[] {4, 5, 6}, ids(wide, "unaffable"));  // "una" beats "un": una ##ffa ##ble
        assertArrayEquals(new int[] {0}, ids(WP, "unaff"));  // no backtracking to un ##aff
        assertArrayEquals(new int[] {7, 8, 8}, ids(WP, "aaa"));
    }

    @Test
    void wordPieceMapsAWordWithAnUnmatchablePieceToOneUnk() {
        assertArrayEquals(new int[] {0}, ids(WP, "unx"));
        assertArrayEquals(new int[] {0}, ids(WP, "b"));
    }

    @Test
    void wordPieceMapsWordsLongerThanMaxInputCharsToUnkCountingCodePoints() {
        assertArrayEquals(new int[] {7, 8, 8, 8, 8}, ids(WP, "aaaaa"));
        assertArrayEquals(new int[] {0}, ids(WP, "aaaaaa"));
        assertArrayEquals(new int[] {9}, ids(WP, "😀"));  // two UTF-16 units, one code point
        WordPiece two = new WordPiece(vocab("[UNK]", "😀", "##😀"), "[UNK]", "##", 2);
        assertArrayEquals(new int[] {1, 2}, ids(two, "😀😀"));
        assertArrayEquals(new int[] {0}, ids(two, "😀😀😀"));
    }

    @Test
    void wordPieceRejectsAnUnkTokenOutsideTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WordPiece(vocab("a"), "[UNK]", "##", 100));
        assertTrue(e.getMessage().contains("[UNK]"), e.getMessage());
    }

    // ---- BPE

    static List<String[]> merges(String... pairs) {
        List<String[]> l = new ArrayList<>();
        for (String p : pairs) l.add(p.split(" "));
        return l;
    }

    @Test
    void bpeAppliesMergesInRankOrder() {
        Map<String, Integer> v = vocab("a", "b", "c", "ab", "bc", "abc");
        // rank 0: b c, rank 1: a b, rank 2: a bc  →  "abc": bc first, then a+bc
        Bpe bpe = new Bpe(v, merges("b c", "a b", "a bc"), null, false, false);
        assertArrayEquals(new int[] {5}, ids(bpe, "abc"));
        // with a b first, "abc" ends as ab + c (no merge "ab c")
        Bpe other = new Bpe(v, merges("a b", "b c", "a bc"), null, false, false);
        assertArrayEquals(new int[] {3, 2}, ids(other, "abc"));
    }

    @Test
    void bpeBreaksTiesLeftmostFirst() {
        Bpe bpe = new Bpe(vocab("a", "aa"), merges("a a"), null, false, false);
        assertArrayEquals(new int[] {1, 0}, ids(bpe, "aaa"));
        assertArrayEquals(new int[] {1, 1}, ids(bpe, "aaaa"));
    }

    @Test
    void bpeHandlesUnknownCharactersAsHfDoes() {
        Map<String, Integer> v = vocab("<unk>", "a", "b", "ab");
        assertArrayEquals(new int[] {3, 0, 0, 1}, ids(new Bpe(v, merges("a b"), "<unk>", false, false), "abxya"));
        assertArrayEquals(new int[] {3, 0, 1}, ids(new Bpe(v, merges("a b"), "<unk>", true, false), "abxya"));
        assertArrayEquals(new int[] {3, 1}, ids(new Bpe(v, merges("a b"), null, false, false), "abxya"));  // dropped
    }

    @Test
    void bpeWithIgnoreMergesTakesAWholeWordFromTheVocabulary() {
        Map<String, Integer> v = vocab("a", "b", "c", "bc", "abc");
        assertArrayEquals(new int[] {0, 3}, ids(new Bpe(v, merges("b c"), null, false, false), "abc"));
        assertArrayEquals(new int[] {4}, ids(new Bpe(v, merges("b c"), null, false, true), "abc"));
    }

    @Test
    void bpeRejectsAMergeWhoseTokenIsNotInTheVocabulary() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Bpe(vocab("a", "b"), merges("a b"), null, false, false));
        assertTrue(e.getMessage().contains("merge 0 'a b'") && e.getMessage().contains("'ab'"), e.getMessage());
    }

    // ---- byte level

    static List<String> byteLevel(String s, boolean prefix) {
        List<String> out = new ArrayList<>();
        new ByteLevelPreTokenizer(prefix, true).split(s, out);
        return out;
    }

    @Test
    void bytesToUnicodeMapsPrintableBytesToThemselvesAndTheRestPast255() {
        char[] m = ByteLevelPreTokenizer.BYTE_TO_CHAR;
        assertEquals('!', m['!']);
        assertEquals('\u0100', m[0]);
        assertEquals('\u0120', m[' ']);   // Ġ
        assertEquals('\u010A', m['\n']);  // Ċ
        assertEquals('\u0143', m[0xAD]);  // Ń
        assertEquals(256, new String(m).chars().distinct().count());
    }

    @Test
    void gpt2RegexSplitsContractionsLettersNumbersAndSpaces() {
        // A whitespace run before a word leaves its last space to the word: \s+(?!\S) backtracks by one.
        assertEquals(List.of("Hello", "Ġworld", "'s", "Ġ123", "!!", "ĠĠ", "Ġx", "ĠĠ"), byteLevel("Hello world's 123!!   x  ", false));
        assertEquals(List.of("I", "'m", "Ġfine", "ĊĊĠ", "Ġok"), byteLevel("I'm fine\n\n  ok", false));
    }

    @Test
    void gpt2RegexTreatsUnicodeWhiteSpaceAsSpace() {
        // U+00A0 is whitespace to Oniguruma's \s: it separates words, and is encoded as its two UTF-8 bytes.
        assertEquals(List.of("a", "\u00C2\u0142", "b"), byteLevel("a\u00A0b", false));
    }

    @Test
    void addPrefixSpaceAddsOneSpaceUnlessPresent() {
        assertEquals(List.of("Ġhi"), byteLevel("hi", true));
        assertEquals(List.of("Ġhi"), byteLevel(" hi", true));
        assertEquals(List.of(), byteLevel("", false));
    }

    @Test
    void byteLevelEncodesMultiByteCharactersAsTheirUtf8Bytes() {
        assertEquals(List.of("Ã©"), byteLevel("é", false));
        assertEquals("ðŁĺĢ", ByteLevelPreTokenizer.toByteLevel("😀"));
        assertEquals(6, byteLevel("日本", false).get(0).length());
    }
}

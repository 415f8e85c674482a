package org.varitune.transformer.tokenize;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Post-processing, added tokens, truncation, padding, loading and error messages, on tiny tokenizers. */
class TokenizerPipelineTest extends TestBase {
    @TempDir
    Path tmp;

    static final String BERT_VOCAB = "[PAD] [UNK] [CLS] [SEP] [MASK] hello world ##s a b c !";

    static String bertJson(String normalizerType, String preType, String modelExtra) {
        StringBuilder vocab = new StringBuilder();
        String[] toks = BERT_VOCAB.split(" ");
        for (int i = 0; i < toks.length; i++) vocab.append(i == 0 ? "" : ",").append('"').append(toks[i]).append("\":").append(i);
        StringBuilder added = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            added.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(toks[i])
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        return """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[%s],
                 "normalizer":{"type":"%s","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
                 "pre_tokenizer":{"type":"%s"},
                 "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
                 "decoder":null,
                 "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,%s"vocab":{%s}}}
                """.formatted(added, normalizerType, preType, modelExtra, vocab);
    }

    static Tokenizer bert() throws IOException {
        return Tokenizers.fromTokenizerJson(bertJson("BertNormalizer", "BertPreTokenizer", ""), "tiny-bert.json");
    }

    static final String ROBERTA_JSON = """
            {"added_tokens":[{"id":0,"content":"<s>","special":true,"normalized":false},
                             {"id":1,"content":"<pad>","special":true,"normalized":false},
                             {"id":2,"content":"</s>","special":true,"normalized":false},
                             {"id":4,"content":"<mask>","special":true,"normalized":false,"lstrip":true}],
             "normalizer":null,
             "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
             "post_processor":{"type":"RobertaProcessing","sep":["</s>",2],"cls":["<s>",0],"trim_offsets":true,"add_prefix_space":false},
             "model":{"type":"BPE","dropout":null,"unk_token":null,"continuing_subword_prefix":"","end_of_word_suffix":"",
                      "fuse_unk":false,"byte_fallback":false,
                      "vocab":{"<s>":0,"<pad>":1,"</s>":2,"<unk>":3,"<mask>":4,"h":5,"i":6,"Ġ":7,"hi":8,"Ġh":9,"Ġhi":10},
                      "merges":["Ġ h",["Ġh","i"],"h i"]}}
            """;

    static Tokenizer roberta() throws IOException { return Tokenizers.fromTokenizerJson(ROBERTA_JSON, "tiny-roberta.json"); }

    @Test
    void bertTemplateAddsClsAndSepWithTypeIdsAndSpecialMask() throws IOException {
        Encoding e = bert().encode("Hello worlds!");
        assertArrayEquals(new int[] {2, 5, 6, 7, 11, 3}, e.ids());
        assertArrayEquals(new String[] {"[CLS]", "hello", "world", "##s", "!", "[SEP]"}, e.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0}, e.typeIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, e.attentionMask());
        assertArrayEquals(new int[] {1, 0, 0, 0, 0, 1}, e.specialTokensMask());
        Encoding p = bert().encodePair("hello", "a b");
        assertArrayEquals(new int[] {2, 5, 3, 8, 9, 3}, p.ids());
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, p.typeIds());
        assertArrayEquals(new int[] {1, 0, 1, 0, 0, 1}, p.specialTokensMask());
    }

    @Test
    void robertaTemplateDoublesTheSeparatorAndKeepsTypeZero() throws IOException {
        Encoding p = roberta().encodePair("hi", "hi hi");
        assertArrayEquals(new int[] {0, 8, 2, 2, 8, 10, 2}, p.ids());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0}, p.typeIds());
        assertArrayEquals(new int[] {1, 0, 1, 1, 0, 0, 1}, p.specialTokensMask());
    }

    @Test
    void specialTokensInTheTextAreMatchedWholeAndNotMarkedSpecial() throws IOException {
        Encoding e = bert().encode("[MASK]hello [SEP]");
        assertArrayEquals(new int[] {2, 4, 5, 3, 3}, e.ids());
        assertArrayEquals(new int[] {1, 0, 0, 0, 1}, e.specialTokensMask());
        // lstrip swallows the spaces before <mask>; the token string keeps them, as HF's does
        Encoding r = roberta().encode("hi  <mask>");
        assertArrayEquals(new int[] {0, 8, 4, 2}, r.ids());
        assertEquals("  <mask>", r.tokens()[2]);
    }

    private static List<String> matches(AddedTokenMatcher m, String s) {
        List<String> out = new ArrayList<>();
        m.split(s, new AddedTokenMatcher.Sink() {
            @Override public void text(String t) { out.add("text:" + t); }

            @Override public void token(int id, String matched) { out.add(id + ":" + matched); }
        });
        return out;
    }

    @Test
    void addedTokensMatchLeftmostThenLongest() {
        List<AddedToken> toks = List.of(AddedToken.special(1, "ab"), AddedToken.special(2, "abc"), AddedToken.special(3, "bcd"));
        AddedTokenMatcher m = new AddedTokenMatcher(toks, List.of("ab", "abc", "bcd"));
        assertEquals(List.of("text:x", "2:abc", "text:d", "1:ab"), matches(m, "xabcdab"));
    }

    @Test
    void lstripAndRstripSwallowWhitespaceButNotAnEarlierMatch() {
        AddedToken both = new AddedToken(7, "<m>", true, true, true, false);
        AddedTokenMatcher m = new AddedTokenMatcher(List.of(both), List.of("<m>"));
        assertEquals(List.of("text:a", "7:  <m>\t ", "text:b"), matches(m, "a  <m>\t b"));
        AddedToken left = new AddedToken(7, "<m>", true, true, false, false);
        AddedTokenMatcher l = new AddedTokenMatcher(List.of(left), List.of("<m>"));
        assertEquals(List.of("7:<m>", "7: <m>"), matches(l, "<m> <m>"));
    }

    @Test
    void longestFirstKeepsTheShorterSequenceWhenTheLongerCanAbsorbTheCut() {
        assertArrayEquals(new int[] {5, 3}, Truncation.longestFirst(10, 3, 8));
        assertArrayEquals(new int[] {3, 5}, Truncation.longestFirst(3, 10, 8));
        assertArrayEquals(new int[] {0, 4}, Truncation.longestFirst(0, 10, 4));
        assertArrayEquals(new int[] {5, 5}, Truncation.longestFirst(5, 6, 10));
    }

    @Test
    void longestFirstSplitsTheBudgetWhenBothMustBeCut() {
        assertArrayEquals(new int[] {3, 4}, Truncation.longestFirst(10, 10, 7));  // equal: B gets the odd token
        assertArrayEquals(new int[] {4, 3}, Truncation.longestFirst(12, 10, 7));  // the longer gets the odd token
        assertArrayEquals(new int[] {0, 0}, Truncation.longestFirst(3, 4, 0));
    }

    @Test
    void longestFirstCutsASingleSequenceToTheBudgetAndLeavesShortInputs() {
        assertArrayEquals(new int[] {4, -1}, Truncation.longestFirst(10, -1, 4));
        assertArrayEquals(new int[] {2, 3}, Truncation.longestFirst(2, 3, 5));
    }

    @Test
    void maxLengthCountsSpecialTokens() throws IOException {
        Tokenizer t = bert();
        assertArrayEquals(new int[] {2, 5, 3}, t.encode("hello world", null, 3).ids());
        assertArrayEquals(new int[] {2, 3, 3}, t.encode("hello world", "a b c", 3).ids());
        assertArrayEquals(new int[] {2, 5, 3, 8, 9, 3}, t.encode("hello world", "a b c", 6).ids());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.encode("a", "b", 2));
        assertTrue(e.getMessage().contains("3 special tokens"), e.getMessage());
    }

    @Test
    void padRightPadsToAMultipleAndMarksPaddingSpecial() throws IOException {
        Tokenizer t = bert();
        Batch b = Batch.pad(List.of(t.encode("a"), t.encode("a b c !")), t.padTokenId(), 4);
        assertEquals(2, b.B());
        assertEquals(8, b.T());
        assertArrayEquals(new int[] {2, 8, 3, 0, 0, 0, 0, 0, 2, 8, 9, 10, 11, 3, 0, 0}, b.inputIds());
        assertArrayEquals(new int[] {1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0}, b.attentionMask());
        assertArrayEquals(new int[] {1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1}, b.specialTokensMask());
        assertArrayEquals(new int[16], b.tokenTypeIds());
        assertEquals(6, Batch.pad(List.of(t.encode("a"), t.encode("a b c !")), 0, 1).T());
        assertThrows(IllegalArgumentException.class, () -> Batch.pad(List.of(), 0, 0));
    }

    @Test
    void pairTypeIdsSurvivePadding() throws IOException {
        Tokenizer t = bert();
        Batch b = Batch.pad(List.of(t.encodePair("a", "b"), t.encode("a")), 7, 1);
        assertArrayEquals(new int[] {0, 0, 0, 1, 1, 0, 0, 0, 0, 0}, b.tokenTypeIds());
        assertArrayEquals(new int[] {2, 8, 3, 9, 3, 2, 8, 3, 7, 7}, b.inputIds());
    }

    @Test
    void vocabularyAccessorsCoverModelAndAddedTokens() throws IOException {
        Tokenizer t = roberta();
        assertEquals(11, t.vocabSize());
        assertEquals("Ġhi", t.idToToken(10));
        assertEquals(4, t.tokenToId("<mask>"));
        assertEquals(-1, t.tokenToId("nope"));
        assertEquals(List.of("<s>", "<pad>", "</s>", "<mask>"), t.specialTokens());
        assertEquals(1, t.padTokenId());
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.idToToken(11));
        assertTrue(e.getMessage().contains("11"), e.getMessage());
    }

    private static void assertRejected(String json, String... fragments) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.fromTokenizerJson(json, "bad.json"));
        assertTrue(e.getMessage().startsWith("bad.json: "), e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), e.getMessage());
    }

    @Test
    void unsupportedStagesAreRejectedNamingFileAndKey() {
        assertRejected(bertJson("NFKC", "BertPreTokenizer", ""), "normalizer.type", "'NFKC'");
        assertRejected(bertJson("BertNormalizer", "Metaspace", ""), "pre_tokenizer.type", "'Metaspace'");
        assertRejected(bertJson("BertNormalizer", "BertPreTokenizer", "").replace("\"WordPiece\"", "\"Unigram\""), "model.type", "'Unigram'");
        assertRejected(ROBERTA_JSON.replace("\"RobertaProcessing\"", "\"ByteLevel\""), "post_processor.type");
        String template = bertJson("BertNormalizer", "BertPreTokenizer", "").replace(
                "{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]}",
                "{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                        + "\"pair\":[{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{}}");
        assertRejected(template, "post_processor", "pair template");
    }

    @Test
    void unsupportedModelOptionsAreRejectedNamingTheKey() {
        assertRejected(ROBERTA_JSON.replace("\"dropout\":null", "\"dropout\":0.1"), "model.dropout");
        assertRejected(ROBERTA_JSON.replace("\"byte_fallback\":false", "\"byte_fallback\":true"), "model.byte_fallback");
        assertRejected(ROBERTA_JSON.replace("\"end_of_word_suffix\":\"\"", "\"end_of_word_suffix\":\"</w>\""), "model.end_of_word_suffix");
        assertRejected(ROBERTA_JSON.replace("\"h i\"", "\"h i x\""), "model.merges[2]");
        assertRejected(ROBERTA_JSON.replace("\"h i\"", "\"h q\""), "merge 2 'h q'", "'q'");
        assertRejected(ROBERTA_JSON.replace("\"lstrip\":true", "\"single_word\":true"), "added_tokens[3].single_word");
    }

    @Test
    void vocabTxtLoadingFollowsDoLowerCase() throws IOException {
        Path dir = tmp.resolve("bert");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("vocab.txt"), String.join("\n", BERT_VOCAB.split(" ")) + "\n", StandardCharsets.UTF_8);
        assertArrayEquals(new int[] {2, 5, 3}, Tokenizers.load(dir).encode("HELLO").ids());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": false}", StandardCharsets.UTF_8);
        assertArrayEquals(new int[] {2, 1, 3}, Tokenizers.load(dir).encode("HELLO").ids());
    }

    @Test
    void vocabTxtWithoutASpecialTokenIsRejectedNamingFileAndToken() throws IOException {
        Path f = tmp.resolve("vocab.txt");
        Files.writeString(f, "[PAD]\n[UNK]\n[SEP]\n[MASK]\nhello\n", StandardCharsets.UTF_8);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.fromVocabTxt(f, true));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("[CLS]"), e.getMessage());
    }

    @Test
    void vocabJsonAndMergesLoadRobertaDefaultsAndRejectBadMergeLines() throws IOException {
        Path dir = tmp.resolve("roberta");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("vocab.json"),
                "{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3,\"<mask>\":4,\"h\":5,\"i\":6,\"Ġ\":7,\"hi\":8,\"Ġh\":9,\"Ġhi\":10}");
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nĠ h\nĠh i\nh i\n", StandardCharsets.UTF_8);
        Tokenizer t = Tokenizers.load(dir);
        assertArrayEquals(roberta().encodePair("hi <mask>", "hi hi").ids(), t.encodePair("hi <mask>", "hi hi").ids());
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\nh i\nĠh\n", StandardCharsets.UTF_8);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.load(dir));
        assertTrue(e.getMessage().contains("merges.txt:3"), e.getMessage());
    }

    @Test
    void loadFailsNamingTheDirectoryWhenNoTokenizerFileExists() {
        IOException e = assertThrows(IOException.class, () -> Tokenizers.load(tmp));
        assertTrue(e.getMessage().contains(tmp.toString()), e.getMessage());
    }
}

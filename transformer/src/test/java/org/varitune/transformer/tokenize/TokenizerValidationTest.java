package org.varitune.transformer.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tokenizer.json validation (issue 14): ids bounded by the vocabulary, so no table is sized by an untrusted id;
 * pad and special-token ids that name tokens; every error a {@link TokenizerFormatException} naming the file and the
 * JSON path.
 */
class TokenizerValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** The tiny BERT tokenizer.json of {@link TokenizerPipelineTest} with {@code edit} applied, written to a file. */
    private Path bertWith(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(TokenizerPipelineTest.bertJson("BertNormalizer", "BertPreTokenizer", ""));
        edit.accept(root);
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, root.toString());
        return f;
    }

    private static ObjectNode vocab(ObjectNode root) { return (ObjectNode) root.get("model").get("vocab"); }

    private static void assertRejected(Path f, String... fragments) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> Tokenizers.fromTokenizerJson(f));
        assertTrue(e.getMessage().startsWith(f + ": "), "message does not start with the file: " + e.getMessage());
        for (String s : fragments) assertTrue(e.getMessage().contains(s), "'" + s + "' missing from: " + e.getMessage());
    }

    @Test
    void acceptsTheUneditedFile() throws IOException {
        Tokenizer t = Tokenizers.fromTokenizerJson(bertWith(r -> r.putObject("padding").put("pad_id", 0)));
        assertEquals(12, t.vocabSize());          // the 12 tokens of BERT_VOCAB
        assertEquals(0, t.padTokenId());
    }

    @Test
    void rejectsAVocabularyIdOf2To31Minus1InsteadOfANegativeArraySize() throws IOException {
        assertRejected(bertWith(r -> vocab(r).put("zz", Integer.MAX_VALUE)), "model.vocab['zz']", "2147483647",
                "outside [0, ");
    }

    @Test
    void rejectsIdsNear2To31And1e9And1e8QuicklyInsteadOfRunningOutOfMemory() {
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(5), () -> {
            for (int id : new int[] {Integer.MAX_VALUE - 1, 1_000_000_000, 100_000_000}) {
                assertRejected(bertWith(r -> vocab(r).put("zz", id)), "model.vocab['zz']", Integer.toString(id));
            }
        });
    }

    @Test
    void rejectsIdsThatAreNotIntegersInRange() throws IOException {
        assertRejected(bertWith(r -> vocab(r).put("zz", 4294967296L)), "model.vocab['zz']", "integer");
        assertRejected(bertWith(r -> vocab(r).put("zz", -1)), "model.vocab['zz']", "integer");
        assertRejected(bertWith(r -> vocab(r).put("zz", "7")), "model.vocab['zz']", "integer");
        assertRejected(bertWith(r -> ((ObjectNode) r.get("added_tokens").get(1)).put("id", 1.5)),
                "added_tokens[1].id", "integer");
    }

    @Test
    void rejectsAnAddedTokenIdOutsideTheVocabulary() throws IOException {
        assertRejected(bertWith(r -> ((ArrayNode) r.get("added_tokens")).addObject().put("id", Integer.MAX_VALUE)
                .put("content", "<new>")), "added_tokens[5].id", "2147483647", "outside");
    }

    @Test
    void rejectsAnAddedTokenWhoseIdDisagreesWithTheVocabulary() throws IOException {
        assertRejected(bertWith(r -> ((ObjectNode) r.get("added_tokens").get(0)).put("id", 4)), "added_tokens[0].id",
                "[PAD]");
    }

    @Test
    void rejectsAPadIdOutsideTheVocabulary() throws IOException {
        assertRejected(bertWith(r -> r.putObject("padding").put("pad_id", 5000)), "padding.pad_id", "5000");
        assertRejected(bertWith(r -> r.putObject("padding").put("pad_id", "0")), "padding.pad_id", "integer");
    }

    @Test
    void rejectsSpecialTokenIdsOutsideTheVocabulary() throws IOException {
        assertRejected(bertWith(r -> ((ArrayNode) r.get("post_processor").get("cls")).set(1,
                JSON.getNodeFactory().numberNode(999))), "post_processor", "'[CLS]'", "999");
        assertRejected(bertWith(r -> ((ArrayNode) r.get("post_processor").get("sep")).set(1,
                JSON.getNodeFactory().numberNode(2))), "post_processor", "'[SEP]'", "id 2", "gives it the id 3");
    }

    @Test
    void namesTheFileForErrorsRaisedInsideTheModelAndTheAddedTokens() throws IOException {
        assertRejected(bertWith(r -> ((ObjectNode) r.get("model")).put("unk_token", "<nope>")), "model.unk_token",
                "<nope>");
        assertRejected(bertWith(r -> ((ObjectNode) r.get("added_tokens").get(2)).put("content", "")),
                "added_tokens[2].content", "empty");
        assertRejected(bertWith(r -> ((ObjectNode) r.get("model")).put("max_input_chars_per_word", "many")),
                "model.max_input_chars_per_word");
    }

    @Test
    void rejectsDuplicateKeysAndSyntaxErrorsNamingTheFileAndLine() throws IOException {
        Path f = dir.resolve("dup.json");
        Files.writeString(f, TokenizerPipelineTest.bertJson("BertNormalizer", "BertPreTokenizer", "")
                .replace("\"vocab\":{", "\"vocab\":{\"[PAD]\":0,"));
        assertRejected(f, "Duplicate field", "[PAD]", "line ");
        Files.writeString(f, "{\"model\":\n{");
        assertRejected(f, "not valid JSON", "line 2");
    }

    @Test
    void rejectsAVocabJsonIdBeyondTheVocabularyNamingTheFile() throws IOException {
        Path vj = dir.resolve("vocab.json");
        Path mt = dir.resolve("merges.txt");
        Files.writeString(vj, "{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3,\"<mask>\":2147483647}");
        Files.writeString(mt, "#version: 0.2\n");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> Tokenizers.fromVocabJsonAndMerges(vj, mt));
        assertTrue(e.getMessage().startsWith(vj.toString()) && e.getMessage().contains("'<mask>'"), e.getMessage());
    }
}

package org.varitune.transformer.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The options of each pipeline stage against HF: the real tokenizer.json files, edited (normalizer flags,
 * normalized and stripped added tokens, max_input_chars_per_word, add_prefix_space, use_regex, ignore_merges,
 * merges as arrays), on a smaller corpus of WordNet text, edge cases and random strings.
 */
class TokenizerOracleVariantsTest extends TestBase {
    @TempDir
    static Path tmp;
    static List<HfOracle.Input> corpus;
    static final ObjectMapper OM = new ObjectMapper();

    @BeforeAll
    static void buildCorpus() throws IOException {
        corpus = new ArrayList<>();
        corpus.addAll(HfOracle.singles(OracleCorpus.sentences(1500, 41)));
        corpus.addAll(HfOracle.pairs(OracleCorpus.pairs(300, 42)));
        corpus.addAll(HfOracle.singles(OracleCorpus.edgeCases()));
        corpus.addAll(HfOracle.pairs(OracleCorpus.edgePairs()));
        corpus.addAll(HfOracle.singles(OracleCorpus.fuzz(800, 43)));
        List<String> extra = List.of("Héllo wörld again", "HÉLLO WÖRLD", "x<custom>   y", "<custom>\t\tz", "a <custom>",
                "İİ ıI ΣΣ ﬁ", "Ǆ ǅ ǆ", "ＡＢＣ", "e\u0301", "\u212B \u2126 \u1E9E");
        corpus.addAll(HfOracle.singles(extra));
    }

    private static Path edited(String name, Path source, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode root = (ObjectNode) OM.readTree(source.toFile());
        edit.accept(root);
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        Path f = d.resolve("tokenizer.json");
        Files.writeString(f, OM.writeValueAsString(root), StandardCharsets.UTF_8);
        return f;
    }

    private static void assertMatchesHf(String label, Path json) throws IOException {
        Tokenizer ours = Tokenizers.fromTokenizerJson(json);
        try (HuggingFaceTokenizer hf = HfOracle.load(json, 0)) {
            assertEquals("", HfOracle.compare(label, hf, ours, corpus, 0));
        }
    }

    /** Guards against an edit that changes nothing: some corpus input must tokenize differently than with base. */
    private static void assertVariantChangesOutput(String label, Path base, Path variant) throws IOException {
        Tokenizer a = Tokenizers.fromTokenizerJson(base);
        Tokenizer b = Tokenizers.fromTokenizerJson(variant);
        long changed = corpus.stream().filter(in -> !java.util.Arrays.equals(a.encode(in.a(), in.b(), 0).ids(),
                b.encode(in.a(), in.b(), 0).ids())).count();
        org.junit.jupiter.api.Assertions.assertTrue(changed > 0, label + ": the edit changed no encoding");
    }

    private static Path minilm() throws IOException {
        return TokenizerOracleTest.resourceToFile("all-minilm-l6-v2-tokenizer.json", tmp.resolve("minilm"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cased", "lowercaseKeepAccents", "casedStripAccents", "noCleanNoChinese"})
    void bertNormalizerOptionsMatchHf(String variant) throws IOException {
        Path f = edited(variant, minilm(), root -> {
            ObjectNode n = (ObjectNode) root.get("normalizer");
            switch (variant) {
                case "cased" -> { n.put("lowercase", false); n.putNull("strip_accents"); }
                case "lowercaseKeepAccents" -> { n.put("lowercase", true); n.put("strip_accents", false); }
                case "casedStripAccents" -> { n.put("lowercase", false); n.put("strip_accents", true); }
                case "noCleanNoChinese" -> { n.put("clean_text", false); n.put("handle_chinese_chars", false); }
                default -> throw new IllegalArgumentException(variant);
            }
        });
        assertMatchesHf(variant, f);
        assertVariantChangesOutput(variant, minilm(), f);
    }

    @Test
    void casedVocabTxtMatchesHfCasedNormalizer() throws IOException {
        Path f = edited("cased-vocab", minilm(), root -> {
            ObjectNode n = (ObjectNode) root.get("normalizer");
            n.put("lowercase", false);
            n.putNull("strip_accents");
        });
        Tokenizer json = Tokenizers.fromTokenizerJson(f);
        StringBuilder vocab = new StringBuilder();
        for (int id = 0; id < json.vocabSize(); id++) vocab.append(json.idToToken(id)).append('\n');
        Path vt = f.getParent().resolve("vocab.txt");
        Files.writeString(vt, vocab.toString(), StandardCharsets.UTF_8);
        Tokenizer ours = Tokenizers.fromVocabTxt(vt, false);
        try (HuggingFaceTokenizer hf = HfOracle.load(f, 0)) {
            assertEquals("", HfOracle.compare("cased vocab.txt", hf, ours, corpus, 0));
        }
    }

    @Test
    void normalizedAndStrippedAddedTokensAndShortWordLimitMatchHf() throws IOException {
        Path f = edited("added", minilm(), root -> {
            ArrayNode added = (ArrayNode) root.get("added_tokens");
            ObjectNode a = added.addObject();
            a.put("id", 30522).put("content", "Héllo wörld").put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", true).put("special", false);
            ObjectNode b = added.addObject();
            b.put("id", 30523).put("content", "<custom>").put("single_word", false).put("lstrip", true)
                    .put("rstrip", true).put("normalized", false).put("special", true);
            ((ObjectNode) root.get("model")).put("max_input_chars_per_word", 10);
        });
        assertMatchesHf("added tokens", f);
        assertVariantChangesOutput("added tokens", minilm(), f);
    }

    @ParameterizedTest
    @ValueSource(strings = {"addPrefixSpace", "noRegex", "ignoreMerges", "mergesAsArrays"})
    void byteLevelOptionsMatchHf(String variant) throws IOException {
        Path f = edited(variant, Gpt2Fixture.dir().resolve("tokenizer.json"), root -> {
            ObjectNode pre = (ObjectNode) root.get("pre_tokenizer");
            ObjectNode model = (ObjectNode) root.get("model");
            switch (variant) {
                case "addPrefixSpace" -> pre.put("add_prefix_space", true);
                case "noRegex" -> pre.put("use_regex", false);
                case "ignoreMerges" -> model.put("ignore_merges", true);
                case "mergesAsArrays" -> {
                    ArrayNode arrays = OM.createArrayNode();
                    model.get("merges").forEach(m -> {
                        String[] p = m.asText().split(" ");
                        arrays.addArray().add(p[0]).add(p[1]);
                    });
                    model.set("merges", arrays);
                }
                default -> throw new IllegalArgumentException(variant);
            }
        });
        assertMatchesHf(variant, f);
        if (variant.equals("addPrefixSpace") || variant.equals("noRegex")) {
            assertVariantChangesOutput(variant, Gpt2Fixture.dir().resolve("tokenizer.json"), f);
        }
    }
}

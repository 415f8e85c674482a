package org.varitune.transformer.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our tokenizers against Hugging Face {@code tokenizers} (via DJL) on WordNet 3.1 glosses and examples, sentence
 * pairs, hand-made edge cases and seeded random strings: ids, type ids, attention mask, special-tokens mask and
 * tokens must be identical on every input.
 */
class TokenizerOracleTest extends TestBase {
    static final int SENTENCES = 6000;
    static final int PAIRS = 2500;
    static final int FUZZ = 2000;
    static final long CORPUS_SEED = 31;

    @TempDir
    static Path tmp;
    static List<HfOracle.Input> corpus;

    @BeforeAll
    static void buildCorpus() throws IOException {
        corpus = new ArrayList<>();
        corpus.addAll(HfOracle.singles(OracleCorpus.sentences(SENTENCES, CORPUS_SEED)));
        corpus.addAll(HfOracle.pairs(OracleCorpus.pairs(PAIRS, CORPUS_SEED + 1)));
        corpus.addAll(HfOracle.singles(OracleCorpus.edgeCases()));
        corpus.addAll(HfOracle.pairs(OracleCorpus.edgePairs()));
        List<String> fuzz = OracleCorpus.fuzz(FUZZ, CORPUS_SEED + 2);
        corpus.addAll(HfOracle.singles(fuzz));
        List<String[]> fuzzPairs = new ArrayList<>();
        for (int i = 0; i + 1 < fuzz.size(); i += 4) fuzzPairs.add(new String[] {fuzz.get(i), fuzz.get(i + 1)});
        corpus.addAll(HfOracle.pairs(fuzzPairs));
    }

    /** Copies a classpath resource (a tokenizer.json inside a model jar) to {@code dir/tokenizer.json}. */
    static Path resourceToFile(String resource, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve("tokenizer.json");
        try (InputStream in = TokenizerOracleTest.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IOException("resource " + resource + " not on the test classpath");
            Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return f;
    }

    @Test
    void corpusHasEnoughRealSentencesAndPairs() throws IOException {
        assertTrue(OracleCorpus.glosses().size() > 100_000, "WordNet glosses: " + OracleCorpus.glosses().size());
        assertTrue(corpus.stream().filter(i -> i.b() == null).count() >= 5000);
        assertTrue(corpus.stream().filter(i -> i.b() != null).count() >= 2000);
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-minilm-l6-v2-tokenizer.json", "e5-small-v2-tokenizer.json"})
    void wordPieceFromTokenizerJsonMatchesHf(String resource) throws IOException {
        Path f = resourceToFile(resource, tmp.resolve(resource));
        Tokenizer ours = Tokenizers.fromTokenizerJson(f);
        try (HuggingFaceTokenizer hf = HfOracle.load(f, 0)) {
            assertEquals("", HfOracle.compare(resource, hf, ours, corpus, 0));
        }
    }

    @Test
    void wordPieceFromVocabTxtMatchesHf() throws IOException {
        Path dir = tmp.resolve("minilm-vocab");
        Path f = resourceToFile("all-minilm-l6-v2-tokenizer.json", tmp.resolve("minilm-json"));
        Tokenizer fromJson = Tokenizers.fromTokenizerJson(f);
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (int id = 0; id < fromJson.vocabSize(); id++) byId.put(id, fromJson.idToToken(id));
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("vocab.txt"), String.join("\n", byId.values()) + "\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"do_lower_case\": true}", StandardCharsets.UTF_8);
        Tokenizer ours = Tokenizers.load(dir);
        try (HuggingFaceTokenizer hf = HfOracle.load(f, 0)) {
            assertEquals("", HfOracle.compare("vocab.txt", hf, ours, corpus, 0));
        }
    }

    @Test
    void byteLevelBpeFromTokenizerJsonMatchesHf() throws IOException {
        Path f = Gpt2Fixture.dir().resolve("tokenizer.json");
        Tokenizer ours = Tokenizers.fromTokenizerJson(f);
        try (HuggingFaceTokenizer hf = HfOracle.load(f, 0)) {
            assertEquals("", HfOracle.compare("gpt2 tokenizer.json", hf, ours, corpus, 0));
        }
    }

    @Test
    void byteLevelBpeFromVocabJsonAndMergesMatchesHf() throws IOException {
        Path d = Gpt2Fixture.dir();
        Tokenizer ours = Tokenizers.fromVocabJsonAndMerges(d.resolve("vocab.json"), d.resolve("merges.txt"));
        try (HuggingFaceTokenizer hf = HfOracle.load(d.resolve("tokenizer.json"), 0)) {
            assertEquals("", HfOracle.compare("gpt2 vocab.json+merges.txt", hf, ours, corpus, 0));
        }
    }

    /** Pairs of very different lengths in both orders, and singles, at several max lengths. */
    static List<HfOracle.Input> truncationInputs() throws IOException {
        List<HfOracle.Input> l = new ArrayList<>();
        List<String> s = OracleCorpus.sentences(200, CORPUS_SEED + 3);
        for (int i = 0; i + 1 < s.size(); i += 2) {
            String shortOne = s.get(i);
            String longOne = s.get(i + 1) + " " + s.get(i + 1) + " " + s.get(i);
            l.add(new HfOracle.Input(shortOne, longOne));
            l.add(new HfOracle.Input(longOne, shortOne));
            l.add(new HfOracle.Input(longOne, null));
            l.add(new HfOracle.Input(shortOne, s.get(i + 1)));
        }
        l.add(new HfOracle.Input("", ""));
        l.add(new HfOracle.Input("", "one two three four five six"));
        l.add(new HfOracle.Input("one two three four five six", ""));
        return l;
    }

    @Test
    void truncationLongestFirstMatchesHf() throws IOException {
        Path bert = resourceToFile("all-minilm-l6-v2-tokenizer.json", tmp.resolve("minilm-trunc"));
        Path gpt2 = Gpt2Fixture.dir().resolve("tokenizer.json");
        List<HfOracle.Input> inputs = truncationInputs();
        StringBuilder failures = new StringBuilder();
        for (Map.Entry<String, Path> e : Map.of("bert", bert, "gpt2", gpt2).entrySet()) {
            Tokenizer ours = Tokenizers.fromTokenizerJson(e.getValue());
            int minPair = e.getKey().equals("bert") ? 3 : 4;
            for (int maxLength : new int[] {minPair, minPair + 1, 7, 8, 9, 16, 17, 32, 64, 128}) {
                try (HuggingFaceTokenizer hf = HfOracle.load(e.getValue(), maxLength)) {
                    failures.append(HfOracle.compare(e.getKey(), hf, ours, inputs, maxLength));
                }
            }
        }
        assertEquals("", failures.toString());
    }
}

package org.varitune.transformer.tokenize;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Factories for {@link Tokenizer}s from the files of a Hugging Face model directory. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * Loads HF's fast-tokenizer file. See {@link TokenizerJson} for what is supported and checked; anything else
     * fails with a {@link TokenizerFormatException} naming the file and the JSON path.
     */
    public static Tokenizer fromTokenizerJson(Path tokenizerJson) throws IOException {
        return TokenizerJson.read(tokenizerJson);
    }

    /** Parses a tokenizer.json document already in memory; {@code source} names it in error messages. */
    public static Tokenizer fromTokenizerJson(String json, String source) throws IOException {
        return TokenizerJson.fromJson(TokenizerJson.parse(json.getBytes(StandardCharsets.UTF_8), source), source);
    }

    /**
     * A BERT WordPiece tokenizer from {@code vocab.txt} (one token per line, id = line number), with HF's
     * BertTokenizerFast defaults: BertNormalizer(clean_text, handle_chinese_chars, strip_accents = lowercase,
     * lowercase), BertPreTokenizer, WordPiece(unk [UNK], prefix ##, 100 chars), [CLS] A [SEP] (B [SEP]), and the
     * special tokens [PAD], [UNK], [CLS], [SEP], [MASK] matched whole in the raw text.
     *
     * @throws TokenizerFormatException naming the file when a special token is missing from the vocabulary
     */
    public static Tokenizer fromVocabTxt(Path vocabTxt, boolean lowercase) throws IOException {
        List<String> lines = Files.readAllLines(vocabTxt, StandardCharsets.UTF_8);
        Map<String, Integer> vocab = new HashMap<>(lines.size() * 2);
        for (int i = 0; i < lines.size(); i++) {
            String tok = lines.get(i);
            if (tok.endsWith("\r")) tok = tok.substring(0, tok.length() - 1);
            vocab.put(tok, i);
        }
        List<AddedToken> specials = new ArrayList<>();
        for (String s : new String[] {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
            Integer id = vocab.get(s);
            if (id == null) throw new TokenizerFormatException(vocabTxt + ": special token " + s + " is not in the vocabulary");
            specials.add(AddedToken.special(id, s));
        }
        try {
            return new PipelineTokenizer(new BertNormalizer(true, true, lowercase, lowercase), new BertPreTokenizer(),
                    new WordPiece(vocab, "[UNK]", "##", 100),
                    PostProcessor.bert("[CLS]", vocab.get("[CLS]"), "[SEP]", vocab.get("[SEP]")), specials, vocab.get("[PAD]"));
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(vocabTxt + ": " + e.getMessage(), e);
        }
    }

    /**
     * A RoBERTa byte-level BPE tokenizer from {@code vocab.json} (token → id) and {@code merges.txt} (one "a b"
     * pair per line in rank order; a first line starting with "#version" is skipped), with HF's
     * RobertaTokenizerFast defaults: no normalizer, ByteLevel(add_prefix_space = false), BPE without unk token,
     * {@code <s> A </s>} ({@code </s> B </s>}), and the special tokens &lt;s&gt;, &lt;pad&gt;, &lt;/s&gt;,
     * &lt;unk&gt;, &lt;mask&gt; (the last with lstrip) matched whole in the raw text.
     *
     * @throws TokenizerFormatException naming the file and line of a malformed merge or a missing special token
     */
    public static Tokenizer fromVocabJsonAndMerges(Path vocabJson, Path mergesTxt) throws IOException {
        JsonNode root = TokenizerJson.parse(Files.readAllBytes(vocabJson), vocabJson.toString());
        if (root == null || !root.isObject()) throw new TokenizerFormatException(vocabJson + ": is not a JSON object token -> id");
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isInt()) throw new TokenizerFormatException(vocabJson + ": id of '" + e.getKey() + "' is not an integer");
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        List<String> lines = Files.readAllLines(mergesTxt, StandardCharsets.UTF_8);
        List<String[]> merges = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (i == 0 && line.startsWith("#version")) continue;
            if (line.isEmpty()) continue;
            String[] parts = line.split(" ", -1);
            if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
                throw new TokenizerFormatException(mergesTxt + ":" + (i + 1) + ": '" + line + "' is not two tokens separated by one space");
            }
            merges.add(parts);
        }
        Bpe bpe;
        try {
            bpe = new Bpe(vocab, merges, null, false, false);
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(mergesTxt + " with " + vocabJson + ": " + e.getMessage(), e);
        }
        List<AddedToken> specials = new ArrayList<>();
        for (String s : new String[] {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}) {
            Integer id = vocab.get(s);
            if (id == null) throw new TokenizerFormatException(vocabJson + ": special token " + s + " is not in the vocabulary");
            specials.add(new AddedToken(id, s, true, s.equals("<mask>"), false, false));
        }
        try {
            return new PipelineTokenizer(null, new ByteLevelPreTokenizer(false, true), bpe,
                    PostProcessor.roberta("<s>", vocab.get("<s>"), "</s>", vocab.get("</s>")), specials, vocab.get("<pad>"));
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(vocabJson + ": " + e.getMessage(), e);
        }
    }

    /**
     * The tokenizer of a model directory: {@code tokenizer.json} if present; else {@code vocab.txt} (lowercasing per
     * {@code do_lower_case} of {@code tokenizer_config.json}, default true); else {@code vocab.json} +
     * {@code merges.txt}.
     */
    public static Tokenizer load(Path modelDir) throws IOException {
        Path tj = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(tj)) return fromTokenizerJson(tj);
        Path vt = modelDir.resolve("vocab.txt");
        if (Files.isRegularFile(vt)) {
            boolean lower = true;
            Path cfg = modelDir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(cfg)) {
                JsonNode c = TokenizerJson.parse(Files.readAllBytes(cfg), cfg.toString());
                JsonNode v = c == null ? null : c.get("do_lower_case");
                if (v != null && !v.isNull()) {
                    if (!v.isBoolean()) throw new TokenizerFormatException(cfg + ": do_lower_case must be a boolean, got " + v);
                    lower = v.asBoolean();
                }
            }
            return fromVocabTxt(vt, lower);
        }
        Path vj = modelDir.resolve("vocab.json");
        Path mt = modelDir.resolve("merges.txt");
        if (Files.isRegularFile(vj) && Files.isRegularFile(mt)) return fromVocabJsonAndMerges(vj, mt);
        throw new IOException(modelDir + ": no tokenizer.json, vocab.txt, or vocab.json + merges.txt");
    }
}

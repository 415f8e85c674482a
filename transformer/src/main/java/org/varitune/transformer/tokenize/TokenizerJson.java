package org.varitune.transformer.tokenize;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads HF's fast-tokenizer format ({@code tokenizer.json}). Supported: normalizer {@code BertNormalizer} or null;
 * pre_tokenizer {@code BertPreTokenizer} or {@code ByteLevel}; model {@code WordPiece} or {@code BPE} (no dropout,
 * no byte_fallback, no subword prefix/suffix); post_processor {@code TemplateProcessing}, {@code BertProcessing},
 * {@code RobertaProcessing} or null. The {@code truncation} block is ignored (callers pass maxLength); of the
 * {@code padding} block only {@code pad_id} is used. Anything else fails with the file and the key named.
 *
 * <p>Validation, every failure a {@link TokenizerFormatException} naming the file and the JSON path: duplicate keys
 * are errors; ids are JSON integers in [0, V), where V is the number of distinct tokens the file defines (the model
 * vocabulary plus the added tokens whose content it lacks), so no table is sized by an untrusted id; the pad id and
 * every id of the post-processor's special tokens must be ids the file defines, and where the special token's string
 * is itself a token, its id must be that token's.
 */
final class TokenizerJson {
    private TokenizerJson() {}

    /** JSON with duplicate keys rejected (a token listed twice in a vocabulary is an error, not "last wins"). */
    static final ObjectMapper STRICT_JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    static Tokenizer read(Path file) throws IOException {
        return fromJson(parse(Files.readAllBytes(file), file.toString()), file.toString());
    }

    /** Parses JSON bytes strictly; a syntax error names {@code src}, the line and the column. */
    static JsonNode parse(byte[] json, String src) throws TokenizerFormatException {
        try {
            return STRICT_JSON.readTree(json);
        } catch (JacksonException e) {
            throw new TokenizerFormatException(src + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr()), e);
        } catch (IOException e) {
            throw new TokenizerFormatException(src + ": not readable as JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Builds the tokenizer of a parsed tokenizer.json.
     *
     * @param src names the file in error messages
     * @throws TokenizerFormatException naming {@code src} and the JSON path of the first bad or unsupported value
     */
    static Tokenizer fromJson(JsonNode root, String src) throws TokenizerFormatException {
        try {
            return build(root, src);
        } catch (IllegalArgumentException e) {       // err() prefixes src; anything else gets it here
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new TokenizerFormatException(msg.startsWith(src + ": ") ? msg : src + ": " + msg, e);
        }
    }

    private static Tokenizer build(JsonNode root, String src) {
        if (root == null || !root.isObject()) throw err(src, "(root)", "is not a JSON object");
        List<AddedToken> added = addedTokens(root.path("added_tokens"), src);
        BertNormalizer normalizer = normalizer(root.get("normalizer"), src);
        PreTokenizer pre = preTokenizer(root.get("pre_tokenizer"), src);
        Model model = model(root.get("model"), src);
        Map<Integer, String> known = checkIds(model.vocab(), added, src);
        PostProcessor post = postProcessor(root.get("post_processor"), src);
        checkSpecials(post, model.vocab(), added, known, src);
        int padId = -1;
        JsonNode padding = root.get("padding");
        if (padding != null && !padding.isNull() && !padding.isObject()) throw err(src, "padding", "must be an object or null");
        if (padding != null && padding.hasNonNull("pad_id")) {
            padId = id(padding.get("pad_id"), src, "padding.pad_id");
            if (!known.containsKey(padId)) throw err(src, "padding.pad_id", "= " + padId + " is not the id of any token");
        }
        if (padId < 0) {
            for (String p : new String[] {"[PAD]", "<pad>"}) {
                Integer id = model.vocab().get(p);
                for (AddedToken t : added) if (t.content().equals(p)) id = t.id();
                if (id != null) { padId = id; break; }
            }
        }
        return new PipelineTokenizer(normalizer, pre, model, post, added, padId);
    }

    /**
     * Checks that every id lies in [0, V), V = the number of distinct tokens defined (vocabulary keys plus added
     * contents not among them), and that an added token whose content is in the vocabulary has the vocabulary's id.
     *
     * @return id → token of every defined id
     */
    private static Map<Integer, String> checkIds(Map<String, Integer> vocab, List<AddedToken> added, String src) {
        int v = vocab.size();
        for (AddedToken t : added) if (!vocab.containsKey(t.content())) v++;
        Map<Integer, String> known = new HashMap<>(2 * v);
        for (var e : vocab.entrySet()) {
            if (e.getValue() >= v) {
                throw err(src, "model.vocab['" + e.getKey() + "']", "= " + e.getValue() + " is outside [0, " + v
                        + "): ids must lie below the number of tokens the file defines (" + v + ")");
            }
            known.putIfAbsent(e.getValue(), e.getKey());
        }
        for (int i = 0; i < added.size(); i++) {
            AddedToken t = added.get(i);
            if (t.id() >= v) {
                throw err(src, "added_tokens[" + i + "].id", "= " + t.id() + " is outside [0, " + v
                        + "): ids must lie below the number of tokens the file defines (" + v + ")");
            }
            Integer inVocab = vocab.get(t.content());
            if (inVocab != null && inVocab != t.id()) {
                throw err(src, "added_tokens[" + i + "].id", "= " + t.id() + " but model.vocab gives '" + t.content()
                        + "' the id " + inVocab);
            }
            known.putIfAbsent(t.id(), t.content());
        }
        return known;
    }

    /** Every special token of the templates: a defined id, and its string's id where the string is a token. */
    private static void checkSpecials(PostProcessor post, Map<String, Integer> vocab, List<AddedToken> added,
                                      Map<Integer, String> known, String src) {
        Map<String, Integer> byContent = new HashMap<>(vocab);
        for (AddedToken t : added) byContent.put(t.content(), t.id());
        for (List<PostProcessor.Piece> tpl : List.of(post.single(), post.pair())) {
            for (PostProcessor.Piece p : tpl) {
                for (int j = 0; j < p.ids().length; j++) {
                    int id = p.ids()[j];
                    String tok = p.tokens()[j];
                    if (!known.containsKey(id)) {
                        throw err(src, "post_processor", "special token '" + tok + "' has id " + id
                                + ", which is not the id of any token");
                    }
                    Integer own = byContent.get(tok);
                    if (own != null && own != id) {
                        throw err(src, "post_processor", "special token '" + tok + "' has id " + id + " but the "
                                + "vocabulary gives it the id " + own);
                    }
                }
            }
        }
    }

    static IllegalArgumentException err(String src, String key, String what) {
        return new IllegalArgumentException(src + ": " + key + " " + what);
    }

    /** A JSON integer in [0, 2^31 - 1]; a string, fraction or larger number is an error naming the key. */
    private static int id(JsonNode v, String src, String key) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
            throw err(src, key, "must be an integer in [0, 2^31 - 1], got " + v);
        }
        return v.intValue();
    }

    /** Like {@link #id} but optional: {@code dflt} when the field is absent or null. */
    private static int intField(JsonNode n, String field, int dflt, String src, String key) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : id(v, src, key + "." + field);
    }

    private static String type(JsonNode n, String src, String key) {
        JsonNode t = n.get("type");
        if (t == null || !t.isTextual()) throw err(src, key + ".type", "is missing");
        return t.asText();
    }

    private static boolean bool(JsonNode n, String field, boolean dflt, String src, String key) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw err(src, key + "." + field, "must be a boolean, got " + v);
        return v.asBoolean();
    }

    private static String text(JsonNode n, String field, String src, String key) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw err(src, key + "." + field, "must be a string, got " + v);
        return v.asText();
    }

    private static List<AddedToken> addedTokens(JsonNode arr, String src) {
        List<AddedToken> out = new ArrayList<>();
        if (arr.isMissingNode() || arr.isNull()) return out;
        if (!arr.isArray()) throw err(src, "added_tokens", "must be an array");
        for (int i = 0; i < arr.size(); i++) {
            JsonNode t = arr.get(i);
            String key = "added_tokens[" + i + "]";
            if (bool(t, "single_word", false, src, key)) throw err(src, key + ".single_word", "= true is not supported");
            if (!t.isObject()) throw err(src, key, "must be an object, got " + t);
            String content = text(t, "content", src, key);
            if (content == null || !t.has("id")) throw err(src, key, "needs 'id' and 'content'");
            if (content.isEmpty()) throw err(src, key + ".content", "is empty");
            out.add(new AddedToken(id(t.get("id"), src, key + ".id"), content, bool(t, "special", false, src, key),
                    bool(t, "lstrip", false, src, key), bool(t, "rstrip", false, src, key),
                    bool(t, "normalized", !bool(t, "special", false, src, key), src, key)));
        }
        return out;
    }

    private static BertNormalizer normalizer(JsonNode n, String src) {
        if (n == null || n.isNull()) return null;
        String type = type(n, src, "normalizer");
        if (!type.equals("BertNormalizer")) {
            throw err(src, "normalizer.type", "'" + type + "' is not supported (supported: BertNormalizer or null)");
        }
        boolean lowercase = bool(n, "lowercase", true, src, "normalizer");
        return new BertNormalizer(bool(n, "clean_text", true, src, "normalizer"),
                bool(n, "handle_chinese_chars", true, src, "normalizer"),
                bool(n, "strip_accents", lowercase, src, "normalizer"), lowercase);
    }

    private static PreTokenizer preTokenizer(JsonNode n, String src) {
        if (n == null || n.isNull()) throw err(src, "pre_tokenizer", "is missing (supported: BertPreTokenizer, ByteLevel)");
        String type = type(n, src, "pre_tokenizer");
        return switch (type) {
            case "BertPreTokenizer" -> new BertPreTokenizer();
            case "ByteLevel" -> new ByteLevelPreTokenizer(bool(n, "add_prefix_space", true, src, "pre_tokenizer"),
                    bool(n, "use_regex", true, src, "pre_tokenizer"));
            default -> throw err(src, "pre_tokenizer.type", "'" + type + "' is not supported (supported: BertPreTokenizer, ByteLevel)");
        };
    }

    private static Map<String, Integer> vocab(JsonNode model, String src) {
        JsonNode v = model.get("vocab");
        if (v == null || !v.isObject()) throw err(src, "model.vocab", "must be an object token -> id");
        Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            var e = it.next();
            id(e.getValue(), src, "model.vocab['" + e.getKey() + "']");
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    private static Model model(JsonNode n, String src) {
        if (n == null || !n.isObject()) throw err(src, "model", "is missing");
        String type = n.hasNonNull("type") ? type(n, src, "model")
                : n.has("merges") ? "BPE" : n.has("max_input_chars_per_word") ? "WordPiece" : "?";
        switch (type) {
            case "WordPiece": {
                String unk = text(n, "unk_token", src, "model");
                String prefix = text(n, "continuing_subword_prefix", src, "model");
                int maxChars = intField(n, "max_input_chars_per_word", 100, src, "model");
                Map<String, Integer> vocab = vocab(n, src);
                if (!vocab.containsKey(unk == null ? "[UNK]" : unk)) {
                    throw err(src, "model.unk_token", "'" + (unk == null ? "[UNK]" : unk) + "' is not in model.vocab");
                }
                return new WordPiece(vocab, unk == null ? "[UNK]" : unk, prefix == null ? "##" : prefix, maxChars);
            }
            case "BPE": {
                JsonNode dropout = n.get("dropout");
                if (dropout != null && !dropout.isNull()) throw err(src, "model.dropout", "= " + dropout + " is not supported (must be null)");
                if (bool(n, "byte_fallback", false, src, "model")) throw err(src, "model.byte_fallback", "= true is not supported");
                for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
                    String v = text(n, k, src, "model");
                    if (v != null && !v.isEmpty()) throw err(src, "model." + k, "= '" + v + "' is not supported (must be null or empty)");
                }
                JsonNode m = n.get("merges");
                if (m == null || !m.isArray()) throw err(src, "model.merges", "must be an array");
                List<String[]> merges = new ArrayList<>(m.size());
                for (int i = 0; i < m.size(); i++) {
                    JsonNode e = m.get(i);
                    if (e.isTextual()) {
                        String s = e.asText();
                        int sp = s.indexOf(' ');
                        if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                            throw err(src, "model.merges[" + i + "]", "'" + s + "' is not two tokens separated by one space");
                        }
                        merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
                    } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                        merges.add(new String[] {e.get(0).asText(), e.get(1).asText()});
                    } else {
                        throw err(src, "model.merges[" + i + "]", "must be \"a b\" or [\"a\", \"b\"], got " + e);
                    }
                }
                try {
                    return new Bpe(vocab(n, src), merges, text(n, "unk_token", src, "model"),
                            bool(n, "fuse_unk", false, src, "model"), bool(n, "ignore_merges", false, src, "model"));
                } catch (IllegalArgumentException e) {
                    throw err(src, "model", e.getMessage());
                }
            }
            default:
                throw err(src, "model.type", "'" + type + "' is not supported (supported: WordPiece, BPE)");
        }
    }

    private static PostProcessor postProcessor(JsonNode n, String src) {
        if (n == null || n.isNull()) {
            return new PostProcessor(List.of(PostProcessor.Piece.seq(0, 0)),
                    List.of(PostProcessor.Piece.seq(0, 0), PostProcessor.Piece.seq(1, 1)));
        }
        String type = type(n, src, "post_processor");
        switch (type) {
            case "BertProcessing":
            case "RobertaProcessing": {
                JsonNode cls = n.path("cls");
                JsonNode sep = n.path("sep");
                for (String k : new String[] {"cls", "sep"}) {
                    JsonNode v = n.path(k);
                    if (!v.isArray() || v.size() != 2 || !v.get(0).isTextual()) {
                        throw err(src, "post_processor." + k, "must be [token, id]");
                    }
                    id(v.get(1), src, "post_processor." + k + "[1]");
                }
                return type.equals("BertProcessing")
                        ? PostProcessor.bert(cls.get(0).asText(), cls.get(1).asInt(), sep.get(0).asText(), sep.get(1).asInt())
                        : PostProcessor.roberta(cls.get(0).asText(), cls.get(1).asInt(), sep.get(0).asText(), sep.get(1).asInt());
            }
            case "TemplateProcessing":
                try {
                    return new PostProcessor(template(n, "single", src), template(n, "pair", src));
                } catch (IllegalArgumentException e) {
                    if (e.getMessage().startsWith(src)) throw e;
                    throw err(src, "post_processor", e.getMessage());
                }
            default:
                throw err(src, "post_processor.type", "'" + type
                        + "' is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing or null)");
        }
    }

    private static List<PostProcessor.Piece> template(JsonNode n, String which, String src) {
        JsonNode arr = n.get(which);
        String key = "post_processor." + which;
        if (arr == null || !arr.isArray()) throw err(src, key, "must be an array");
        JsonNode specials = n.path("special_tokens");
        List<PostProcessor.Piece> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode p = arr.get(i);
            String pk = key + "[" + i + "]";
            if (p.has("Sequence")) {
                JsonNode s = p.get("Sequence");
                String id = s.path("id").asText();
                if (!id.equals("A") && !id.equals("B")) throw err(src, pk + ".Sequence.id", "must be A or B, got '" + id + "'");
                out.add(PostProcessor.Piece.seq(id.equals("A") ? 0 : 1, intField(s, "type_id", 0, src, pk + ".Sequence")));
            } else if (p.has("SpecialToken")) {
                JsonNode s = p.get("SpecialToken");
                String id = s.path("id").asText();
                if (!specials.isObject()) throw err(src, "post_processor.special_tokens", "must be an object");
                JsonNode def = specials.get(id);
                if (def == null) throw err(src, "post_processor.special_tokens", "has no entry for '" + id + "' used in " + pk);
                JsonNode ids = def.path("ids");
                JsonNode toks = def.path("tokens");
                if (!ids.isArray() || !toks.isArray() || ids.size() != toks.size()) {
                    throw err(src, "post_processor.special_tokens['" + id + "']", "needs arrays 'ids' and 'tokens' of equal length");
                }
                int[] is = new int[ids.size()];
                String[] ts = new String[ids.size()];
                String dk = "post_processor.special_tokens['" + id + "']";
                for (int j = 0; j < is.length; j++) {
                    is[j] = id(ids.get(j), src, dk + ".ids[" + j + "]");
                    if (!toks.get(j).isTextual()) throw err(src, dk + ".tokens[" + j + "]", "must be a string");
                    ts[j] = toks.get(j).asText();
                }
                out.add(new PostProcessor.Piece(-1, is, ts, intField(s, "type_id", 0, src, pk + ".SpecialToken")));
            } else {
                throw err(src, pk, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}, got " + p);
            }
        }
        return out;
    }
}

package org.varitune.transformer.tokenize;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The HF pipeline: added tokens are split off the raw text; each remaining piece is normalized, split again on
 * the added tokens marked {@code normalized}, pre-tokenized into words and tokenized by the model; the sequences
 * are truncated ({@code longest_first}) and post-processed. Immutable and thread-safe.
 */
public final class PipelineTokenizer implements Tokenizer {
    private final BertNormalizer normalizer;      // null = none
    private final PreTokenizer preTokenizer;
    private final Model model;
    private final PostProcessor postProcessor;
    private final AddedTokenMatcher rawMatcher;        // added tokens with normalized = false
    private final AddedTokenMatcher normalizedMatcher; // added tokens with normalized = true
    private final String[] idToToken;                  // (V) id → token, null where no token has the id
    private final Map<String, Integer> addedByContent;
    private final List<String> specialTokens;
    private final int padId;                           // -1 = none

    /**
     * @param normalizer    BERT normalizer, or null for none
     * @param preTokenizer  word splitter
     * @param model         WordPiece or BPE
     * @param postProcessor special-token template
     * @param addedTokens   added tokens (tokenizer.json {@code added_tokens}); their ids may lie inside the model
     *                      vocabulary or past it
     * @param padId         id for padding, or -1 when the tokenizer defines none
     */
    PipelineTokenizer(BertNormalizer normalizer, PreTokenizer preTokenizer, Model model, PostProcessor postProcessor,
                             List<AddedToken> addedTokens, int padId) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.padId = padId;
        List<AddedToken> raw = new ArrayList<>();
        List<String> rawPatterns = new ArrayList<>();
        List<AddedToken> norm = new ArrayList<>();
        List<String> normPatterns = new ArrayList<>();
        // V = the number of distinct tokens defined; every id must lie in [0, V), so the id table below is sized by
        // the count of entries, never by an id read from a file
        java.util.Set<String> contents = new java.util.HashSet<>(model.vocab().keySet());
        for (AddedToken t : addedTokens) contents.add(t.content());
        int v = contents.size();
        int maxId = -1;
        for (var e : model.vocab().entrySet()) maxId = Math.max(maxId, checkId("token '" + e.getKey() + "'", e.getValue(), v));
        this.addedByContent = new java.util.HashMap<>();
        List<AddedToken> sorted = new ArrayList<>(addedTokens);
        sorted.sort(java.util.Comparator.comparingInt(AddedToken::id));
        List<String> specials = new ArrayList<>();
        for (AddedToken t : sorted) {
            maxId = Math.max(maxId, checkId("added token '" + t.content() + "'", t.id(), v));
            addedByContent.put(t.content(), t.id());
            if (t.special()) specials.add(t.content());
            if (t.normalized()) {
                norm.add(t);
                normPatterns.add(normalizer == null ? t.content() : normalizer.normalize(t.content()));
            } else {
                raw.add(t);
                rawPatterns.add(t.content());
            }
        }
        this.specialTokens = Collections.unmodifiableList(specials);
        this.rawMatcher = new AddedTokenMatcher(raw, rawPatterns);
        this.normalizedMatcher = new AddedTokenMatcher(norm, normPatterns);
        this.idToToken = new String[maxId + 1];          // maxId < V, the number of tokens
        for (var e : model.vocab().entrySet()) idToToken[e.getValue()] = e.getKey();
        for (AddedToken t : sorted) idToToken[t.id()] = t.content();
        if (padId < -1 || padId >= idToToken.length || padId >= 0 && idToToken[padId] == null) {
            throw new IllegalArgumentException("pad id " + padId + " is not the id of any token");
        }
    }

    /** {@code id} when it lies in [0, v); otherwise an error naming {@code what}. */
    private static int checkId(String what, int id, int v) {
        if (id < 0 || id >= v) {
            throw new IllegalArgumentException(what + " has id " + id + ", outside [0, " + v + "): ids must lie below"
                    + " the number of tokens (" + v + ")");
        }
        return id;
    }

    /**
     * Ids and token strings of one sequence, without special tokens. An added token's string is the text it
     * matched, including whitespace swallowed by lstrip/rstrip, as in HF's encodings.
     */
    private Seq tokenizeSequence(String text) {
        Seq seq = new Seq(text.length() / 3 + 4);
        List<String> words = new ArrayList<>();
        AddedTokenMatcher.Sink modelSink = new AddedTokenMatcher.Sink() {
            @Override public void text(String s) {
                words.clear();
                preTokenizer.split(s, words);
                for (String w : words) model.tokenize(w, seq.ids);
                while (seq.tokens.size() < seq.ids.size()) seq.tokens.add(idToToken[seq.ids.get(seq.tokens.size())]);
            }

            @Override public void token(int id, String matched) { seq.add(id, matched); }
        };
        rawMatcher.split(text, new AddedTokenMatcher.Sink() {
            @Override public void text(String s) {
                String n = normalizer == null ? s : normalizer.normalize(s);
                normalizedMatcher.split(n, modelSink);
            }

            @Override public void token(int id, String matched) { seq.add(id, matched); }
        });
        return seq;
    }

    /** A sequence under construction: ids (T) and token strings (T). */
    private static final class Seq {
        final IntList ids;
        final List<String> tokens;

        Seq(int capacity) { ids = new IntList(capacity); tokens = new ArrayList<>(capacity); }

        void add(int id, String token) { ids.add(id); tokens.add(token); }

        void truncate(int len) {
            ids.truncate(len);
            if (tokens.size() > len) tokens.subList(len, tokens.size()).clear();
        }
    }

    @Override
    public Encoding encode(String text) { return encode(text, null, 0); }

    @Override
    public Encoding encodePair(String a, String b) { return encode(a, b, 0); }

    @Override
    public Encoding encode(String text, String pairOrNull, int maxLength) {
        if (text == null) throw new IllegalArgumentException("text is null");
        if (maxLength < 0) throw new IllegalArgumentException("maxLength must be >= 0 (0 = no truncation), got " + maxLength);
        Seq a = tokenizeSequence(text);
        Seq b = pairOrNull == null ? null : tokenizeSequence(pairOrNull);
        if (maxLength > 0) {
            int added = postProcessor.addedTokens(b != null);
            if (maxLength < added) {
                throw new IllegalArgumentException("maxLength " + maxLength + " is below the " + added
                        + " special tokens the " + (b == null ? "single" : "pair") + " template adds");
            }
            int[] kept = Truncation.longestFirst(a.ids.size(), b == null ? -1 : b.ids.size(), maxLength - added);
            a.truncate(kept[0]);
            if (b != null) b.truncate(kept[1]);
        }
        return postProcessor.apply(a.ids.toArray(), a.tokens, b == null ? null : b.ids.toArray(), b == null ? null : b.tokens);
    }

    @Override
    public int padTokenId() {
        if (padId < 0) throw new IllegalStateException("this tokenizer defines no padding token ([PAD] or <pad>)");
        return padId;
    }

    @Override
    public int vocabSize() { return idToToken.length; }

    @Override
    public String idToToken(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IndexOutOfBoundsException("token id " + id + " is not in the vocabulary of size " + idToToken.length);
        }
        return idToToken[id];
    }

    @Override
    public int tokenToId(String tok) {
        Integer id = addedByContent.get(tok);
        if (id == null) id = model.vocab().get(tok);
        return id == null ? -1 : id;
    }

    @Override
    public List<String> specialTokens() { return specialTokens; }

    /** The post-processor's template (for callers that need the number of special tokens). */
    public PostProcessor postProcessor() { return postProcessor; }
}

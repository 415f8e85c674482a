package org.varitune.transformer.tokenize;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HF's {@code WordPiece} model: greedy longest-match-first over code points; pieces after the first carry
 * {@code continuing_subword_prefix}; a word with more than {@code max_input_chars_per_word} code points, or with
 * any position where no piece matches, becomes the single {@code unk_token}.
 */
final class WordPiece implements Model {
    private static final int CACHE_CAPACITY = 50_000;

    private final Map<String, Integer> vocab;
    private final String unkToken;
    private final int unkId;
    private final String continuingSubwordPrefix;
    private final int maxInputCharsPerWord;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab                   token → id (not copied, must not be modified afterwards)
     * @param unkToken                HF {@code unk_token}; must be in the vocabulary
     * @param continuingSubwordPrefix HF {@code continuing_subword_prefix}, usually "##"
     * @param maxInputCharsPerWord    HF {@code max_input_chars_per_word}, usually 100
     */
    public WordPiece(Map<String, Integer> vocab, String unkToken, String continuingSubwordPrefix, int maxInputCharsPerWord) {
        this.vocab = vocab;
        this.unkToken = unkToken;
        Integer u = vocab.get(unkToken);
        if (u == null) throw new IllegalArgumentException("WordPiece unk_token '" + unkToken + "' is not in the vocabulary");
        this.unkId = u;
        this.continuingSubwordPrefix = continuingSubwordPrefix;
        this.maxInputCharsPerWord = maxInputCharsPerWord;
    }

    public String unkToken() { return unkToken; }

    @Override
    public Map<String, Integer> vocab() { return vocab; }

    @Override
    public void tokenize(String word, IntList out) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = compute(word);
            if (cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        }
        out.addAll(ids);
    }

    private int[] compute(String word) {
        if (word.codePointCount(0, word.length()) > maxInputCharsPerWord) return new int[] {unkId};
        IntList pieces = new IntList(4);
        int start = 0;
        int len = word.length();
        StringBuilder sb = new StringBuilder(continuingSubwordPrefix.length() + len);
        while (start < len) {
            int end = len;
            Integer found = null;
            while (end > start) {
                sb.setLength(0);
                if (start > 0) sb.append(continuingSubwordPrefix);
                sb.append(word, start, end);
                found = vocab.get(sb.toString());
                if (found != null) break;
                end = word.offsetByCodePoints(end, -1);  // shrink by one code point
            }
            if (found == null) return new int[] {unkId};
            pieces.add(found);
            start = end;
        }
        return pieces.toArray();
    }
}

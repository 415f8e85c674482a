package org.varitune.transformer.reference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A test-only uncased WordPiece for plain ASCII sentences: lower-cases, splits on whitespace and around punctuation,
 * then greedy longest-match-first with {@code ##} continuations (BERT's {@code BasicTokenizer} +
 * {@code WordpieceTokenizer} for the ASCII subset). Good enough to feed real sentences to the ONNX and reference
 * encoders; the production tokenizer lives in {@code tokenize/}.
 */
public final class WordPieceLite {
    private final Map<String, Integer> vocab = new HashMap<>();
    public final int cls, sep, pad, unk;

    /** Reads {@code model.vocab} of an HF {@code tokenizer.json}. */
    public WordPieceLite(InputStream tokenizerJson) throws IOException {
        JsonNode v = new ObjectMapper().readTree(tokenizerJson).path("model").path("vocab");
        if (!v.isObject()) throw new IOException("tokenizer.json has no model.vocab object");
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        cls = id("[CLS]");
        sep = id("[SEP]");
        pad = id("[PAD]");
        unk = id("[UNK]");
    }

    private int id(String tok) {
        Integer i = vocab.get(tok);
        if (i == null) throw new IllegalArgumentException("vocabulary has no " + tok);
        return i;
    }

    /** Word-piece ids of one text, without special tokens. */
    public List<Integer> pieces(String text) {
        List<Integer> out = new ArrayList<>();
        StringBuilder spaced = new StringBuilder();
        for (char ch : text.toLowerCase(Locale.ROOT).toCharArray()) {
            if (ch > 127) throw new IllegalArgumentException("WordPieceLite handles ASCII only: '" + ch + "' in " + text);
            boolean punct = !Character.isLetterOrDigit(ch) && !Character.isWhitespace(ch);
            if (punct) spaced.append(' ').append(ch).append(' '); else spaced.append(ch);
        }
        for (String word : spaced.toString().trim().split("\\s+")) {
            if (word.isEmpty()) continue;
            int start = 0;
            List<Integer> ids = new ArrayList<>();
            while (start < word.length()) {
                int end = word.length();
                Integer found = null;
                while (end > start) {
                    String sub = (start > 0 ? "##" : "") + word.substring(start, end);
                    found = vocab.get(sub);
                    if (found != null) break;
                    end--;
                }
                if (found == null) { ids = List.of(unk); break; }
                ids.add(found);
                start = end;
            }
            out.addAll(ids);
        }
        return out;
    }

    /**
     * A padded batch of single sentences ({@code pair[i] == null}) or pairs: {@code [CLS] a [SEP]} or
     * {@code [CLS] a [SEP] b [SEP]} with token type 1 on {@code b [SEP]}; arrays (B, T) with T the longest row.
     */
    public Encoded encode(String[] first, String[] second) {
        int bsz = first.length;
        List<List<Integer>> rows = new ArrayList<>(), types = new ArrayList<>();
        int tmax = 0;
        for (int b = 0; b < bsz; b++) {
            List<Integer> ids = new ArrayList<>(), tt = new ArrayList<>();
            ids.add(cls);
            ids.addAll(pieces(first[b]));
            ids.add(sep);
            while (tt.size() < ids.size()) tt.add(0);
            if (second != null && second[b] != null) {
                ids.addAll(pieces(second[b]));
                ids.add(sep);
                while (tt.size() < ids.size()) tt.add(1);
            }
            rows.add(ids);
            types.add(tt);
            tmax = Math.max(tmax, ids.size());
        }
        int[] ids = new int[bsz * tmax], tt = new int[bsz * tmax], mask = new int[bsz * tmax];
        for (int b = 0; b < bsz; b++) {
            for (int t = 0; t < tmax; t++) {
                boolean real = t < rows.get(b).size();
                ids[b * tmax + t] = real ? rows.get(b).get(t) : pad;
                tt[b * tmax + t] = real ? types.get(b).get(t) : 0;
                mask[b * tmax + t] = real ? 1 : 0;
            }
        }
        return new Encoded(ids, tt, mask, bsz, tmax);
    }

    /** A padded batch, arrays (B, T) row-major. */
    public record Encoded(int[] inputIds, int[] tokenTypeIds, int[] attentionMask, int B, int T) {}
}

package org.varitune.transformer.tokenize;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Splits text around added tokens with leftmost-longest matching (HF uses Aho-Corasick in LeftmostLongest mode):
 * the earliest position where any pattern matches wins, and at that position the longest pattern.
 */
final class AddedTokenMatcher {

    /** Receives the pieces of a split, in order. */
    interface Sink {
        void text(String s);

        void token(int id, String matched);
    }

    private record Pattern(String text, AddedToken token) {}

    /** First UTF-16 unit → patterns starting with it, longest first. */
    private final Map<Character, Pattern[]> byFirst = new HashMap<>();

    /**
     * @param tokens   the tokens to match
     * @param patterns the string to look for, per token (its content, or its normalized content)
     */
    AddedTokenMatcher(List<AddedToken> tokens, List<String> patterns) {
        Map<Character, List<Pattern>> lists = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            String p = patterns.get(i);
            if (p.isEmpty()) continue;
            lists.computeIfAbsent(p.charAt(0), k -> new ArrayList<>()).add(new Pattern(p, tokens.get(i)));
        }
        for (var e : lists.entrySet()) {
            List<Pattern> l = e.getValue();
            l.sort(Comparator.comparingInt((Pattern p) -> -p.text.length()));
            byFirst.put(e.getKey(), l.toArray(new Pattern[0]));
        }
    }

    boolean isEmpty() { return byFirst.isEmpty(); }

    /** Splits {@code s} into text pieces (possibly empty ones are dropped) and matched token ids, sent to sink. */
    void split(String s, Sink sink) {
        if (byFirst.isEmpty()) {
            sink.text(s);
            return;
        }
        int emitted = 0;  // end of what was already sent to the sink
        int i = 0;
        while (i < s.length()) {
            Pattern[] cands = byFirst.get(s.charAt(i));
            Pattern hit = null;
            if (cands != null) {
                for (Pattern p : cands) {
                    if (s.startsWith(p.text, i)) { hit = p; break; }
                }
            }
            if (hit == null) { i++; continue; }
            int start = i;
            int stop = i + hit.text.length();
            if (hit.token.lstrip()) {
                while (start > emitted) {
                    int c = s.codePointBefore(start);
                    if (!CharClasses.isWhitespace(c)) break;
                    start -= Character.charCount(c);
                }
            }
            if (hit.token.rstrip()) {
                while (stop < s.length()) {
                    int c = s.codePointAt(stop);
                    if (!CharClasses.isWhitespace(c)) break;
                    stop += Character.charCount(c);
                }
            }
            if (start > emitted) sink.text(s.substring(emitted, start));
            sink.token(hit.token.id(), s.substring(start, stop));
            emitted = stop;
            i = stop;
        }
        if (emitted < s.length()) sink.text(s.substring(emitted));
    }
}

package org.varitune.transformer.tokenize;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HF's {@code BPE} model without dropout. A word starts as one symbol per code point (unknown characters become
 * {@code unk_token}, fused when {@code fuse_unk}, or vanish when there is no unk token, as in HF). Then, as HF's
 * {@code Word::merge_all}, the adjacent pair with the lowest merge rank (ties: leftmost) is merged, one at a time,
 * until no adjacent pair has a merge. With {@code ignore_merges}, a word found whole in the vocabulary is one token.
 */
final class Bpe implements Model {
    private static final int CACHE_CAPACITY = 50_000;

    private final Map<String, Integer> vocab;
    /** (leftId, rightId) packed as {@code left << 32 | right} → {rank, newId}. */
    private final Map<Long, int[]> merges;
    private final String unkToken;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab        token → id (not copied)
     * @param merges       merge pairs in rank order (rank = list index); each part and their concatenation must be
     *                     in the vocabulary
     * @param unkToken     HF {@code unk_token}, or null
     * @param fuseUnk      HF {@code fuse_unk}
     * @param ignoreMerges HF {@code ignore_merges}
     * @throws IllegalArgumentException naming the merge (rank and text) whose token is missing from the vocabulary
     */
    public Bpe(Map<String, Integer> vocab, List<String[]> merges, String unkToken, boolean fuseUnk, boolean ignoreMerges) {
        this.vocab = vocab;
        this.unkToken = unkToken;
        this.fuseUnk = fuseUnk;
        this.ignoreMerges = ignoreMerges;
        if (unkToken != null && !vocab.containsKey(unkToken)) {
            throw new IllegalArgumentException("BPE unk_token '" + unkToken + "' is not in the vocabulary");
        }
        this.merges = new HashMap<>(merges.size() * 2);
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            Integer a = vocab.get(m[0]);
            Integer b = vocab.get(m[1]);
            Integer ab = vocab.get(m[0] + m[1]);
            if (a == null || b == null || ab == null) {
                String missing = a == null ? m[0] : b == null ? m[1] : m[0] + m[1];
                throw new IllegalArgumentException("BPE merge " + rank + " '" + m[0] + " " + m[1] + "': token '" + missing
                        + "' is not in the vocabulary");
            }
            this.merges.put(key(a, b), new int[] {rank, ab});  // a repeated pair keeps its last rank, as HF's map does
        }
    }

    private static long key(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

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
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) return new int[] {whole};
        }
        // Initial symbols, one per code point.
        int n = word.length();
        int[] sym = new int[n];  // (S) symbol ids
        int s = 0;
        boolean pendingUnk = false;
        for (int i = 0; i < n; ) {
            int c = word.codePointAt(i);
            int cn = Character.charCount(c);
            Integer id = vocab.get(word.substring(i, i + cn));
            i += cn;
            if (id != null) {
                if (pendingUnk) { sym[s++] = vocab.get(unkToken); pendingUnk = false; }
                sym[s++] = id;
            } else if (unkToken != null) {
                if (pendingUnk && !fuseUnk) sym[s++] = vocab.get(unkToken);
                pendingUnk = true;
            }
        }
        if (pendingUnk) sym[s++] = vocab.get(unkToken);
        if (s < 2) return Arrays.copyOf(sym, s);

        int[] prev = new int[s];  // (S) index of the previous live symbol, -1 at the start
        int[] next = new int[s];  // (S) index of the next live symbol, s at the end
        boolean[] dead = new boolean[s];
        for (int i = 0; i < s; i++) { prev[i] = i - 1; next[i] = i + 1; }
        // Queue entries: rank << 32 | pos, so the smallest is the lowest rank, then the leftmost position.
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < s; i++) {
            int[] m = merges.get(key(sym[i], sym[i + 1]));
            if (m != null) queue.add(((long) m[0] << 32) | i);
        }
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32);
            int pos = (int) top;
            if (dead[pos] || next[pos] >= s) continue;
            int right = next[pos];
            int[] m = merges.get(key(sym[pos], sym[right]));
            if (m == null || m[0] != rank) continue;  // stale entry: the pair at pos changed
            sym[pos] = m[1];
            dead[right] = true;
            next[pos] = next[right];
            if (next[right] < s) prev[next[right]] = pos;
            if (prev[pos] >= 0) {
                int[] pm = merges.get(key(sym[prev[pos]], sym[pos]));
                if (pm != null) queue.add(((long) pm[0] << 32) | prev[pos]);
            }
            if (next[pos] < s) {
                int[] nm = merges.get(key(sym[pos], sym[next[pos]]));
                if (nm != null) queue.add(((long) nm[0] << 32) | pos);
            }
        }
        IntList out = new IntList(s);
        for (int i = 0; i < s; i++) if (!dead[i]) out.add(sym[i]);
        return out.toArray();
    }
}

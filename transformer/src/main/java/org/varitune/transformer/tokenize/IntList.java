package org.varitune.transformer.tokenize;

import java.util.Arrays;

/** A growable int array (no boxing). */
final class IntList {
    private int[] a;
    private int n;

    IntList(int capacity) { a = new int[Math.max(4, capacity)]; }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, n * 2);
        a[n++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int get(int i) { return a[i]; }

    int size() { return n; }

    /** Keeps the first {@code len} values. */
    void truncate(int len) { if (len < n) n = len; }

    int[] toArray() { return Arrays.copyOf(a, n); }
}

package org.varitune.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A bounded, deterministic uniform sample of pooled vectors per class for one layer (bottom-k sampling): example
 * {@code i} (global index) gets the priority {@code splitmix64(seed + i·φ)}, a bijection of i, and each class keeps
 * the {@code cap} examples of smallest priority. The kept set depends only on (seed, the set of global indices), not
 * on arrival order or sharding, so the union of two shards' reservoirs cut back to {@code cap} is exactly the
 * reservoir of a single pass, and every layer keeps the same examples.
 */
final class Reservoir {
    final int numClasses, dim;
    final int[] cap;           // per class: min(maxPerClass, declared class count)
    final float[][] vectors;   // per class: (cap, dim), slot-major
    final long[][] index;      // per class: (cap) global example index of each slot
    final long[][] priority;   // per class: (cap)
    final int[] size;          // per class
    private final int[][] heap;  // per class: max-heap of slots by priority

    Reservoir(int dim, int[] cap) {
        this.numClasses = cap.length;
        this.dim = dim;
        this.cap = cap.clone();
        vectors = new float[numClasses][];
        index = new long[numClasses][];
        priority = new long[numClasses][];
        heap = new int[numClasses][];
        size = new int[numClasses];
        for (int y = 0; y < numClasses; y++) {
            if ((long) cap[y] * dim > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("reservoir of class " + y + " (" + cap[y] + " x " + dim + ") exceeds one array");
            }
            vectors[y] = new float[cap[y] * dim];
            index[y] = new long[cap[y]];
            priority[y] = new long[cap[y]];
            heap[y] = new int[cap[y]];
        }
    }

    static long priority(long seed, long globalIndex) {
        long z = seed + globalIndex * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Offers example {@code globalIndex} of class y, vector {@code src[off .. off+dim)}; src not modified. */
    void offer(int y, long globalIndex, long prio, float[] src, int off) {
        int[] h = heap[y];
        int n = size[y];
        int slot;
        if (n < cap[y]) {
            slot = n;
            size[y] = n + 1;
            h[n] = slot;
            index[y][slot] = globalIndex;
            priority[y][slot] = prio;
            System.arraycopy(src, off, vectors[y], slot * dim, dim);
            siftUp(y, n);
        } else {
            if (cap[y] == 0 || Long.compareUnsigned(prio, priority[y][h[0]]) >= 0) return;
            slot = h[0];
            index[y][slot] = globalIndex;
            priority[y][slot] = prio;
            System.arraycopy(src, off, vectors[y], slot * dim, dim);
            siftDown(y, 0, n);
        }
    }

    /** Rebuilds the heaps after the slot arrays were filled directly (loading). */
    void rebuildHeaps() {
        for (int y = 0; y < numClasses; y++) {
            for (int k = 0; k < size[y]; k++) {
                heap[y][k] = k;
                siftUp(y, k);
            }
        }
    }

    private boolean greater(int y, int slotA, int slotB) {
        return Long.compareUnsigned(priority[y][slotA], priority[y][slotB]) > 0;
    }

    private void siftUp(int y, int k) {
        int[] h = heap[y];
        while (k > 0) {
            int p = (k - 1) / 2;
            if (!greater(y, h[k], h[p])) break;
            int t = h[k]; h[k] = h[p]; h[p] = t;
            k = p;
        }
    }

    private void siftDown(int y, int k, int n) {
        int[] h = heap[y];
        while (true) {
            int l = 2 * k + 1, r = l + 1, m = k;
            if (l < n && greater(y, h[l], h[m])) m = l;
            if (r < n && greater(y, h[r], h[m])) m = r;
            if (m == k) return;
            int t = h[k]; h[k] = h[m]; h[m] = t;
            k = m;
        }
    }

    /** Slots of class y ordered by global example index. */
    Integer[] slotsByIndex(int y) {
        Integer[] s = new Integer[size[y]];
        for (int k = 0; k < s.length; k++) s[k] = k;
        long[] idx = index[y];
        Arrays.sort(s, Comparator.comparingLong(k -> idx[k]));
        return s;
    }

    Reservoir copy() {
        Reservoir r = new Reservoir(dim, cap);
        for (int y = 0; y < numClasses; y++) {
            System.arraycopy(vectors[y], 0, r.vectors[y], 0, vectors[y].length);
            System.arraycopy(index[y], 0, r.index[y], 0, cap[y]);
            System.arraycopy(priority[y], 0, r.priority[y], 0, cap[y]);
            System.arraycopy(heap[y], 0, r.heap[y], 0, cap[y]);
        }
        System.arraycopy(size, 0, r.size, 0, numClasses);
        return r;
    }

    /** The reservoir of the union of a's and b's examples (exact bottom-k of the union). Inputs not modified. */
    static Reservoir merge(Reservoir a, Reservoir b) {
        Reservoir r = new Reservoir(a.dim, a.cap);
        for (int y = 0; y < a.numClasses; y++) {
            List<long[]> items = new ArrayList<>();   // {priority, which, slot}
            for (int k = 0; k < a.size[y]; k++) items.add(new long[] {a.priority[y][k], 0, k});
            for (int k = 0; k < b.size[y]; k++) items.add(new long[] {b.priority[y][k], 1, k});
            items.sort((p, q) -> Long.compareUnsigned(p[0], q[0]));
            for (int k = 0; k < Math.min(a.cap[y], items.size()); k++) {
                long[] it = items.get(k);
                Reservoir src = it[1] == 0 ? a : b;
                int slot = (int) it[2];
                r.offer(y, src.index[y][slot], src.priority[y][slot], src.vectors[y], slot * a.dim);
            }
        }
        return r;
    }
}

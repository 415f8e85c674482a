package org.varitune.training.trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Which examples form each batch: length-bucketed for training (dynamic padding wastes little), sorted for
 * evaluation. Training orders are a pure function of (dataSeed, epoch), so a resumed run only needs the epoch and
 * the number of batches already done.
 */
public final class BatchPlan {
    private BatchPlan() {}

    /**
     * The batches of one training epoch: a permutation of 0..N−1 drawn from {@code new Random(seed(dataSeed, epoch))}
     * (Fisher–Yates), cut into chunks of {@code chunkBatches·batchSize}; each chunk stably sorted by length
     * (longest first) and cut into batches of {@code batchSize} (the last batch of the last chunk may be smaller);
     * then the batch order is shuffled with the same generator.
     *
     * @param lengths (N) token counts, not modified
     * @return ceil(N / batchSize) arrays of example indices; every index appears exactly once
     */
    public static List<int[]> trainEpoch(int[] lengths, int batchSize, int chunkBatches, long dataSeed, int epoch) {
        int n = lengths.length;
        if (n == 0) throw new IllegalArgumentException("no training examples");
        Random rng = new Random(seed(dataSeed, epoch));
        Integer[] perm = new Integer[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Integer t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        int chunk = (int) Math.min((long) chunkBatches * batchSize, n);
        List<int[]> batches = new ArrayList<>();
        for (int c = 0; c < n; c += chunk) {
            Integer[] part = Arrays.copyOfRange(perm, c, Math.min(n, c + chunk));
            Arrays.sort(part, Comparator.comparingInt((Integer i) -> -lengths[i]));   // stable: ties keep shuffled order
            for (int b = 0; b < part.length; b += batchSize) {
                int[] idx = new int[Math.min(batchSize, part.length - b)];
                for (int r = 0; r < idx.length; r++) idx[r] = part[b + r];
                batches.add(idx);
            }
        }
        for (int i = batches.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int[] t = batches.get(i); batches.set(i, batches.get(j)); batches.set(j, t);
        }
        return batches;
    }

    /** Number of batches of a training epoch: ceil(N / batchSize). */
    public static int batchesPerEpoch(int n, int batchSize) { return (n + batchSize - 1) / batchSize; }

    /** Evaluation batches: all indices sorted by length (longest first, stable), cut into batches of batchSize. */
    public static List<int[]> sortedByLength(int[] lengths, int batchSize) {
        Integer[] order = new Integer[lengths.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -lengths[i]));
        List<int[]> batches = new ArrayList<>();
        for (int b = 0; b < order.length; b += batchSize) {
            int[] idx = new int[Math.min(batchSize, order.length - b)];
            for (int r = 0; r < idx.length; r++) idx[r] = order[b + r];
            batches.add(idx);
        }
        return batches;
    }

    /**
     * Splits one update's batch into {@code m} consecutive micro-batches of near-equal size (the first
     * {@code B mod m} one row larger); fewer when B &lt; m.
     */
    public static List<int[]> microBatches(int[] batch, int m) {
        int parts = Math.min(m, batch.length);
        List<int[]> out = new ArrayList<>(parts);
        int base = batch.length / parts, extra = batch.length % parts, at = 0;
        for (int p = 0; p < parts; p++) {
            int size = base + (p < extra ? 1 : 0);
            out.add(Arrays.copyOfRange(batch, at, at + size));
            at += size;
        }
        return out;
    }

    /** The seed of epoch e's generator: SplitMix-style mix of (dataSeed, epoch). */
    static long seed(long dataSeed, int epoch) {
        long z = dataSeed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

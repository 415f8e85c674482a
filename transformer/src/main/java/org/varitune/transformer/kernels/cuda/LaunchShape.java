package org.varitune.transformer.kernels.cuda;

/**
 * A kernel launch configuration: grid and block dimensions and dynamic shared memory in bytes, checked against the
 * limits every CUDA device since compute capability 3.0 shares (grid x ≤ 2³¹−1, grid y, z ≤ 65535, at most 1024
 * threads per block with z ≤ 64, at most 48 KiB of dynamic shared memory without an opt-in attribute). A violation is an
 * {@link IllegalArgumentException} naming the dimension, so a bad shape fails on the host with a message instead of a
 * CUDA_ERROR_INVALID_VALUE from the driver.
 */
public record LaunchShape(int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes) {
    public static final int MAX_GRID_X = Integer.MAX_VALUE, MAX_GRID_YZ = 65535, MAX_THREADS = 1024, MAX_BLOCK_Z = 64;
    public static final int MAX_SHARED_BYTES = 48 * 1024;
    /** Grid cap of the grid-stride elementwise kernels: enough blocks to fill any current GPU several times over. */
    public static final int MAX_STRIDE_BLOCKS = 65535;

    public LaunchShape {
        if (gridX < 1 || gridY < 1 || gridZ < 1) {
            throw new IllegalArgumentException("empty grid (" + gridX + ", " + gridY + ", " + gridZ + "): every dimension must be >= 1");
        }
        if (gridY > MAX_GRID_YZ || gridZ > MAX_GRID_YZ) {
            throw new IllegalArgumentException("grid (" + gridX + ", " + gridY + ", " + gridZ + "): y and z must be <= " + MAX_GRID_YZ);
        }
        if (blockX < 1 || blockY < 1 || blockZ < 1 || blockZ > MAX_BLOCK_Z) {
            throw new IllegalArgumentException("block (" + blockX + ", " + blockY + ", " + blockZ + "): dimensions must be >= 1, z <= " + MAX_BLOCK_Z);
        }
        long threads = (long) blockX * blockY * blockZ;
        if (threads > MAX_THREADS) {
            throw new IllegalArgumentException("block (" + blockX + ", " + blockY + ", " + blockZ + ") has " + threads
                    + " threads, more than " + MAX_THREADS);
        }
        if (sharedBytes < 0 || sharedBytes > MAX_SHARED_BYTES) {
            throw new IllegalArgumentException("dynamic shared memory " + sharedBytes + " bytes outside [0, " + MAX_SHARED_BYTES + "]");
        }
    }

    /** ⌈a/b⌉ for a ≥ 0, b > 0. */
    public static int ceilDiv(long a, int b) {
        if (a < 0 || b <= 0) throw new IllegalArgumentException("ceilDiv(" + a + ", " + b + ")");
        long q = a / b + (a % b == 0 ? 0 : 1);
        if (q > Integer.MAX_VALUE) throw new IllegalArgumentException("ceilDiv(" + a + ", " + b + ") = " + q + " overflows int");
        return (int) q;
    }

    /**
     * A grid-stride elementwise launch over n elements: blocks of {@code block} threads, ⌈n/block⌉ blocks capped at
     * {@link #MAX_STRIDE_BLOCKS} (the kernel loops), at least one block (n = 0 launches nothing useful but is legal).
     */
    public static LaunchShape elementwise(long n, int block) {
        int blocks = (int) Math.max(1, Math.min(MAX_STRIDE_BLOCKS, ceilDiv(Math.max(n, 0), block)));
        return new LaunchShape(blocks, 1, 1, block, 1, 1, 0);
    }

    /** One block per row: grid (rows), block (threads), with {@code sharedBytes} dynamic shared memory. */
    public static LaunchShape perRow(int rows, int threads, int sharedBytes) {
        return new LaunchShape(rows, 1, 1, threads, 1, 1, sharedBytes);
    }

    /**
     * A 2-D tiling of an (M, N) output in {@code tileM × tileN} tiles: grid (⌈N/tileN⌉, ⌈M/tileM⌉), the given block.
     */
    public static LaunchShape tiles(int M, int N, int tileM, int tileN, int blockX, int blockY) {
        return new LaunchShape(ceilDiv(N, tileN), ceilDiv(M, tileM), 1, blockX, blockY, 1, 0);
    }

    /** Attention's per-(query row, head, batch) grid (T, H, B) with blocks of {@code threads}. */
    public static LaunchShape perQuery(int B, int T, int H, int threads, int sharedBytes) {
        return new LaunchShape(T, H, B, threads, 1, 1, sharedBytes);
    }

    /** Threads per block for a row of {@code width} elements: a multiple of 32 in [32, max]. */
    public static int threadsFor(int width, int max) {
        int t = Math.max(32, ceilDiv(Math.max(width, 1), 32) * 32);
        return Math.min(t, max);
    }

    public long threadsPerBlock() { return (long) blockX * blockY * blockZ; }

    @Override
    public String toString() {
        return "grid(" + gridX + ", " + gridY + ", " + gridZ + ") block(" + blockX + ", " + blockY + ", " + blockZ + ") smem "
                + sharedBytes + " B";
    }
}

// variability.cu: the per-layer second moments behind the variability ratio (metrics' VariabilityAccumulator), in
// double. Mirrors VariabilityAccumulator.apply's shift and VariabilityAccumulator.rankUpdate:
//   shift_rows_f64(g, pooled, pilot, B, d)
//       g(B, d)[b, i] = (double) pooled(B, d)[b, i] − pilot(d)[i]. Overwrites g. grid ceil(B·d/256), block 256.
//   rank_update_packed_f64(m, g, w, B, d)
//       m[i, j] += Σ_b w[b]·g[b, i]·g[b, j] for j ≥ i (w = 1 when null), m the row-major packed upper triangle,
//       m[i, j] at i·d − i(i−1)/2 + (j − i): (d(d+1)/2). Modifies m. grid (ceil(d/16), ceil(d/16)), block (16, 16);
//       tiles wholly below the diagonal return at once. Each m[i, j] has one owner thread summing b in ascending
//       order (the CPU groups b by eight), so results agree to double rounding.

extern "C" __global__ void shift_rows_f64(double* g, const float* pooled, const double* pilot, int B, int d) {
    long long total = (long long)B * d;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x)
        g[e] = (double)pooled[e] - pilot[e % d];
}

#define RT 16

extern "C" __global__ void rank_update_packed_f64(double* m, const double* g, const double* w, int B, int d) {
    __shared__ double gi[RT][RT + 1];   // gi[b][ii] = w[b]·g[b, i0 + ii]
    __shared__ double gj[RT][RT + 1];   // gj[b][jj] = g[b, j0 + jj]
    const int i0 = blockIdx.y * RT, j0 = blockIdx.x * RT;
    if (j0 + RT - 1 < i0) return;       // the whole tile lies below the diagonal
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int i = i0 + ty, j = j0 + tx;
    double acc = 0.0;
    for (int b0 = 0; b0 < B; b0 += RT) {
        int b = b0 + ty;                 // load: thread (ty, tx) brings row b0 + ty, column tx of both tiles
        double wb = (b < B && w != 0) ? w[b] : 1.0;
        gi[ty][tx] = (b < B && i0 + tx < d) ? wb * g[(size_t)b * d + i0 + tx] : 0.0;
        gj[ty][tx] = (b < B && j0 + tx < d) ? g[(size_t)b * d + j0 + tx] : 0.0;
        __syncthreads();
        for (int bb = 0; bb < RT; bb++) acc = fma(gi[bb][ty], gj[bb][tx], acc);
        __syncthreads();
    }
    if (i < d && j < d && j >= i) {
        long long off = (long long)i * d - (long long)i * (i - 1) / 2 + (j - i);
        m[off] += acc;
    }
}

// reduce.cu: deterministic column sums, the reductions behind dBias (CpuKernels.matmulBackward:
// dBias[o] += Σ_n dOut[n,o]) and LayerNorm's dWeight/dBias (layernorm.cu writes its own partials).
//
//   colsum_partial(part, src, R, C, rowsPerChunk): part(chunks, C)[c0, c] = Σ_{r in chunk c0} src(R, C)[r, c]
//       grid (ceil(C/32), chunks), block (32, 8); rows of a chunk summed in ascending order per thread row,
//       then the 8 thread rows in ascending order. Overwrites part.
//   colsum_accumulate(dst, part, chunks, C): dst(C)[c] += Σ_{c0} part[c0, c] in ascending c0.
//       grid ceil(C/256), block 256. Modifies dst.
// No atomics: every output has one owner and a fixed summation order, so results are reproducible run to run.

extern "C" __global__ void colsum_partial(float* part, const float* src, int R, int C, int rowsPerChunk) {
    __shared__ float acc[8][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    int r0 = blockIdx.y * rowsPerChunk;
    int r1 = min(R, r0 + rowsPerChunk);
    float s = 0.0f;
    if (c < C)
        for (int r = r0 + threadIdx.y; r < r1; r += 8) s += src[(size_t)r * C + c];
    acc[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float t = 0.0f;
        for (int y = 0; y < 8; y++) t += acc[y][threadIdx.x];
        part[(size_t)blockIdx.y * C + c] = t;
    }
}

extern "C" __global__ void colsum_accumulate(float* dst, const float* part, int chunks, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C) return;
    float s = 0.0f;
    for (int k = 0; k < chunks; k++) s += part[(size_t)k * C + c];
    dst[c] += s;
}

// layernorm.cu: LayerNorm over the last axis, two-pass, forward and backward. Mirrors CpuKernels.layerNormForward /
// layerNormBackward (population variance; rstd = 1/sqrt(var + eps); norm recomputed from the saved mean/rstd).
// Shapes: x, out, dOut, dX: (N, C); weight, bias, dWeight, dBias: (C); mean, rstd: (N).
//
//   layernorm_forward(out, mean, rstd, x, weight, bias, N, C, eps)
//       mean = Σx/C; var = Σ(x − mean)²/C; out = (x − mean)·rstd·weight + bias. Overwrites out, and mean/rstd unless
//       null. grid (N), block 256.
//   layernorm_backward_dx(dX, dOut, x, mean, rstd, weight, N, C)
//       dnorm = weight⊙dOut; dX += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm⊙norm)). grid (N), block 256.
//   layernorm_backward_partial(partW, partB, dOut, x, mean, rstd, N, C, rowsPerChunk)
//       partW(chunks, C) = Σ_{n in chunk} norm⊙dOut; partB(chunks, C) = Σ_{n in chunk} dOut (either may be null).
//       grid (ceil(C/32), chunks), block (32, 8); reduce.cu's colsum_accumulate then adds the chunks into
//       dWeight/dBias in a fixed order (no atomics).
// Row statistics are float block reductions in a fixed order (the CPU accumulates in double).

__device__ __forceinline__ float ln_warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); red: 32 floats. Returned to all threads.
__device__ float ln_block_sum(float v, float* red) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = ln_warp_sum(v);
    if (lane == 0) red[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? red[lane] : 0.0f;
        x = ln_warp_sum(x);
        if (lane == 0) red[0] = x;
    }
    __syncthreads();
    float r = red[0];
    __syncthreads();
    return r;
}

extern "C" __global__ void layernorm_forward(float* out, float* mean, float* rstd, const float* x,
                                             const float* weight, const float* bias, int N, int C, float eps) {
    __shared__ float red[32];
    const int n = blockIdx.x;
    const float* xr = x + (size_t)n * C;
    float s = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) s += xr[c];
    float m = ln_block_sum(s, red) / C;
    float v = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float d = xr[c] - m;
        v = fmaf(d, d, v);
    }
    float var = ln_block_sum(v, red) / C;
    float r = 1.0f / sqrtf(var + eps);
    float* o = out + (size_t)n * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) o[c] = (xr[c] - m) * r * weight[c] + bias[c];
    if (threadIdx.x == 0) {
        if (mean != 0) mean[n] = m;
        if (rstd != 0) rstd[n] = r;
    }
}

extern "C" __global__ void layernorm_backward_dx(float* dX, const float* dOut, const float* x, const float* mean,
                                                 const float* rstd, const float* weight, int N, int C) {
    __shared__ float red[32];
    const int n = blockIdx.x;
    const float* xr = x + (size_t)n * C;
    const float* g = dOut + (size_t)n * C;
    const float m = mean[n], s = rstd[n];
    // forward was: out = norm·weight + bias, norm = (x − mean)·rstd
    float a = 0.0f, b = 0.0f;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float norm = (xr[c] - m) * s;
        float dnorm = weight[c] * g[c];
        a += dnorm;
        b = fmaf(dnorm, norm, b);
    }
    float meanDnorm = ln_block_sum(a, red) / C;
    float meanDnormNorm = ln_block_sum(b, red) / C;
    float* dx = dX + (size_t)n * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float norm = (xr[c] - m) * s;
        float dnorm = weight[c] * g[c];
        dx[c] += s * (dnorm - meanDnorm - norm * meanDnormNorm);
    }
}

extern "C" __global__ void layernorm_backward_partial(float* partW, float* partB, const float* dOut, const float* x,
                                                      const float* mean, const float* rstd, int N, int C,
                                                      int rowsPerChunk) {
    __shared__ float accW[8][33];
    __shared__ float accB[8][33];
    const int c = blockIdx.x * 32 + threadIdx.x;
    const int r0 = blockIdx.y * rowsPerChunk, r1 = min(N, r0 + rowsPerChunk);
    float sw = 0.0f, sb = 0.0f;
    if (c < C) {
        for (int n = r0 + threadIdx.y; n < r1; n += 8) {
            float g = dOut[(size_t)n * C + c];
            float norm = (x[(size_t)n * C + c] - mean[n]) * rstd[n];
            sw = fmaf(norm, g, sw);
            sb += g;
        }
    }
    accW[threadIdx.y][threadIdx.x] = sw;
    accB[threadIdx.y][threadIdx.x] = sb;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        float tw = 0.0f, tb = 0.0f;
        for (int y = 0; y < 8; y++) { tw += accW[y][threadIdx.x]; tb += accB[y][threadIdx.x]; }
        if (partW != 0) partW[(size_t)blockIdx.y * C + c] = tw;
        if (partB != 0) partB[(size_t)blockIdx.y * C + c] = tb;
    }
}

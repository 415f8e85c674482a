// attention.cu: bidirectional multi-head attention with a key-padding mask, forward and backward, one block per
// (query row t, head h, batch b). Mirrors CpuKernels.attentionForward / attentionBackward and the split
// Kernels.attentionProbs / attentionValues / attentionValuesBackward / attentionProbsBackward (SplitAttention).
// Layouts: q, k, v, out, dQ, dK, dV: (B, T, C), C = H·D, head h in columns [h·D, (h+1)·D);
//          att, dAtt, dPre: (B, H, T, T); mask: (B, T) ints, 1 = attend, 0 = padding.
//
//   attention_probs(att, q, k, mask, B, T, H, D, scale)
//       att[b,h,t,:] = softmax(scale·q[b,t,h]·k[b,:,h]ᵀ) over the unmasked keys; masked keys get exactly 0 and a
//       fully masked row gets att = 0 (the CPU's rule). Overwrites att. Dynamic shared memory (D + T + 32) floats.
//   attention_p_x(out, p, x, B, T, H, D, accumulate)
//       out[b,t,h·D+d] (+)= Σ_t2 p[b,h,t,t2]·x[b,t2,h·D+d]           (out = att·V; dQ += dPre·K)
//       Dynamic shared memory T floats.
//   attention_pt_x(out, p, x, B, T, H, D, accumulate)
//       out[b,t2,h·D+d] (+)= Σ_t p[b,h,t,t2]·x[b,t,h·D+d]            (dV += attᵀ·dOut; dK += dPreᵀ·Q)
//       Here blockIdx.x is the key row t2.
//   attention_dots(out, a, x, B, T, H, D, accumulate)
//       out[b,h,t,t2] (+)= Σ_d a[b,t,h·D+d]·x[b,t2,h·D+d]            (dAtt = dOut·Vᵀ)
//       Dynamic shared memory D floats.
//   attention_softmax_backward(dPre, dAtt, att, rows, T, scale)
//       dPre[r,:] = scale·att[r,:]⊙(dAtt[r,:] − Σ_t2 att[r,t2]·dAtt[r,t2]) for each of rows = B·H·T rows.
//       Overwrites dPre. grid (rows), block 128, dynamic shared memory 32 floats.
// Launch for the first four: grid (T, H, B), block 128 (a multiple of 32: the block reductions need whole warps).
// Every output element has one owner thread and a fixed summation order: no atomics, reproducible results.

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Block-wide sum or max of one value per thread; red: 32 floats of shared memory. Returns the result to all threads.
__device__ float block_reduce(float v, float* red, bool isMax) {
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = isMax ? warp_max(v) : warp_sum(v);
    if (lane == 0) red[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? red[lane] : (isMax ? -INFINITY : 0.0f);
        x = isMax ? warp_max(x) : warp_sum(x);
        if (lane == 0) red[0] = x;
    }
    __syncthreads();
    float r = red[0];
    __syncthreads();
    return r;
}

extern "C" __global__ void attention_probs(float* att, const float* q, const float* k, const int* mask,
                                           int B, int T, int H, int D, float scale) {
    extern __shared__ float sm[];
    float* qs = sm;            // (D) this query row
    float* row = sm + D;       // (T) scores, then probabilities
    float* red = row + T;      // (32) reduction scratch
    const int t = blockIdx.x, h = blockIdx.y, b = blockIdx.z, C = H * D;
    const float* qrow = q + (size_t)(b * T + t) * C + h * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) qs[d] = qrow[d];
    __syncthreads();
    float localMax = -INFINITY;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
        if (mask[b * T + t2] == 0) { row[t2] = -INFINITY; continue; }
        const float* krow = k + (size_t)(b * T + t2) * C + h * D;
        float dot = 0.0f;
        for (int d = 0; d < D; d++) dot = fmaf(qs[d], krow[d], dot);
        float s = dot * scale;
        row[t2] = s;
        localMax = fmaxf(localMax, s);
    }
    float mx = block_reduce(localMax, red, true);
    float localSum = 0.0f;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
        float e = mx == -INFINITY ? 0.0f : expf(row[t2] - mx);   // exp(−∞) = 0 for masked keys
        row[t2] = e;
        localSum += e;
    }
    float sum = block_reduce(localSum, red, false);
    float inv = sum == 0.0f ? 0.0f : 1.0f / sum;                 // fully masked row: att = 0
    float* arow = att + ((size_t)(b * H + h) * T + t) * T;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) arow[t2] = row[t2] * inv;
}

extern "C" __global__ void attention_p_x(float* out, const float* p, const float* x, int B, int T, int H, int D,
                                        int accumulate) {
    extern __shared__ float prow[];   // (T) p[b,h,t,:]
    const int t = blockIdx.x, h = blockIdx.y, b = blockIdx.z, C = H * D;
    const float* src = p + ((size_t)(b * H + h) * T + t) * T;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) prow[t2] = src[t2];
    __syncthreads();
    float* orow = out + (size_t)(b * T + t) * C + h * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int t2 = 0; t2 < T; t2++) acc = fmaf(prow[t2], x[(size_t)(b * T + t2) * C + h * D + d], acc);
        orow[d] = accumulate ? orow[d] + acc : acc;
    }
}

extern "C" __global__ void attention_pt_x(float* out, const float* p, const float* x, int B, int T, int H, int D,
                                         int accumulate) {
    const int t2 = blockIdx.x, h = blockIdx.y, b = blockIdx.z, C = H * D;
    const float* pcol = p + (size_t)(b * H + h) * T * T + t2;    // p[b,h,t,t2] = pcol[t·T]
    float* orow = out + (size_t)(b * T + t2) * C + h * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t < T; t++) acc = fmaf(pcol[(size_t)t * T], x[(size_t)(b * T + t) * C + h * D + d], acc);
        orow[d] = accumulate ? orow[d] + acc : acc;
    }
}

extern "C" __global__ void attention_dots(float* out, const float* a, const float* x, int B, int T, int H, int D,
                                          int accumulate) {
    extern __shared__ float arow[];   // (D) a[b,t,h·D:(h+1)·D]
    const int t = blockIdx.x, h = blockIdx.y, b = blockIdx.z, C = H * D;
    const float* src = a + (size_t)(b * T + t) * C + h * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) arow[d] = src[d];
    __syncthreads();
    float* orow = out + ((size_t)(b * H + h) * T + t) * T;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
        const float* xrow = x + (size_t)(b * T + t2) * C + h * D;
        float dot = 0.0f;
        for (int d = 0; d < D; d++) dot = fmaf(arow[d], xrow[d], dot);
        orow[t2] = accumulate ? orow[t2] + dot : dot;
    }
}

extern "C" __global__ void attention_softmax_backward(float* dPre, const float* dAtt, const float* att, int rows,
                                                      int T, float scale) {
    extern __shared__ float red[];    // (32)
    const size_t r = blockIdx.x;
    const float* a = att + r * T;
    const float* g = dAtt + r * T;
    float local = 0.0f;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) local = fmaf(a[t2], g[t2], local);
    // forward was: att = softmax(pre); so dPre = att⊙(dAtt − rowsum(att⊙dAtt)), and pre = scale·q·kᵀ
    float rowDot = block_reduce(local, red, false);
    float* o = dPre + r * T;
    for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) o[t2] = a[t2] * (g[t2] - rowDot) * scale;
}

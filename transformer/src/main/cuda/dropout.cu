// dropout.cu: inverted dropout with the counter-based mask of org.varitune.transformer.layers.Dropout, so the GPU
// draws exactly the CPU's masks for the same (seed, step, site).
//   dropout_apply(out, x, key, p, scale, n)
//       out[i] = keep(i) ? x[i]·scale : 0, keep(i) ⇔ u(key, i) ≥ p, u(key, i) = (mix64(key + (i+1)·GOLDEN) >>> 11)·2⁻⁵³,
//       mix64 = SplitMix64's finaliser (Stafford variant 13), the arithmetic mod 2⁶⁴ exactly as Java's long.
//       key = Dropout.Mask.key(), p = Mask.p() (float, compared in double as Java widens it), scale = Mask.scale().
//       Forward (a = x) and backward (a = dY) alike; out may alias x. Bit-identical to Dropout.apply.
// Launch: grid ceil(n/256) (grid-stride loop), block 256. Shapes: out, x (n).

#define GOLDEN 0x9E3779B97F4A7C15ull

__host__ __device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__host__ __device__ __forceinline__ double dropout_uniform(unsigned long long key, long long i) {
    return (double)(mix64(key + (unsigned long long)(i + 1) * GOLDEN) >> 11) * 0x1.0p-53;
}

extern "C" __global__ void dropout_apply(float* out, const float* x, unsigned long long key, float p, float scale,
                                         int n) {
    const double pd = (double)p;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
        out[i] = dropout_uniform(key, i) >= pd ? x[i] * scale : 0.0f;
}

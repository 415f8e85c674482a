// add.cu: elementwise sum, mirrors CpuKernels.add.
//   add_f32(out, a, b, n): out[i] = a[i] + b[i] for i < n; out may alias a or b. Bit-identical to the CPU.
// Launch: grid ceil(n/256) (grid-stride loop, so a capped grid also works), block 256.

extern "C" __global__ void add_f32(float* out, const float* a, const float* b, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = a[i] + b[i];
}

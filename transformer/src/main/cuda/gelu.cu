// gelu.cu: exact GELU and its derivative, mirrors CpuKernels.geluForward / geluBackward (MathUtil.gelu, geluGrad).
//   gelu_forward(out, x, n):        out[i] = x·Φ(x),  Φ(x) = ½·erfc(−x/√2)          (out may alias x)
//   gelu_backward(dX, x, dOut, n):  dX[i] += dOut[i]·(Φ(x) + x·φ(x)),  φ(x) = exp(−x²/2)/√(2π)
// Φ via erfcf keeps the far left tail accurate (no 1 + erf cancellation), as MathUtil.phi does for x < 0.
// Never the tanh approximation. Launch: grid ceil(n/256) (grid-stride loop), block 256. Shapes: all (n).

#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

__device__ __forceinline__ float normal_cdf(float x) { return 0.5f * erfcf(-x * INV_SQRT2); }

extern "C" __global__ void gelu_forward(float* out, const float* x, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float v = x[i];
        out[i] = v * normal_cdf(v);
    }
}

extern "C" __global__ void gelu_backward(float* dX, const float* x, const float* dOut, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        // forward was: out = x·Φ(x)
        float v = x[i];
        float grad = normal_cdf(v) + v * (expf(-0.5f * v * v) * INV_SQRT_2PI);
        dX[i] += dOut[i] * grad;
    }
}

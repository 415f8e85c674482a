// adamw.cu: one AdamW step of one parameter, elementwise, with the arithmetic of
// org.varitune.training.AdamW.step (torch.optim.AdamW semantics) in the same double operations in the same order:
//   wi = w·decay                                     decay = 1 − lr·wd (host)
//   mi = beta1·m + oneMinusBeta1·g ;  vi = beta2·v + (oneMinusBeta2·g)·g
//   m = (float) mi ; v = (float) vi
//   w = (float) (wi − (stepSize·mi) / (sqrt(vi)/bc2Sqrt + eps))   stepSize = lr/(1 − beta1ᵗ), bc2Sqrt = sqrt(1 − beta2ᵗ)
// The _rn intrinsics keep nvcc from contracting a·b + c into an fma (Java never does), and double sqrt and division
// are correctly rounded, so each element is expected to equal the CPU's bit for bit.
//   adamw_update(w, g, m, v, n, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, stepSize, bc2Sqrt, eps)
//       w, m, v: (n), modified; g: (n), not modified. grid ceil(n/256) (grid-stride loop), block 256.

extern "C" __global__ void adamw_update(float* w, const float* g, float* m, float* v, int n, double decay,
                                        double beta1, double oneMinusBeta1, double beta2, double oneMinusBeta2,
                                        double stepSize, double bc2Sqrt, double eps) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        double gi = (double)g[i];
        double wi = __dmul_rn((double)w[i], decay);
        double mi = __dadd_rn(__dmul_rn(beta1, (double)m[i]), __dmul_rn(oneMinusBeta1, gi));
        double vi = __dadd_rn(__dmul_rn(beta2, (double)v[i]), __dmul_rn(__dmul_rn(oneMinusBeta2, gi), gi));
        m[i] = __double2float_rn(mi);
        v[i] = __double2float_rn(vi);
        double denom = __dadd_rn(__ddiv_rn(__dsqrt_rn(vi), bc2Sqrt), eps);
        w[i] = __double2float_rn(__dsub_rn(wi, __ddiv_rn(__dmul_rn(stepSize, mi), denom)));
    }
}

// matmul.cu: tiled FP32 GEMM for the Linear layer, forward and backward (the exact-FP32 path).
//
// Mirrors CpuKernels.matmulForward / matmulBackward (row-major, W in nn.Linear (OC, IC) layout):
//   sgemm_nt_f32:  C(M,N) = A(M,K)·B(N,K)ᵀ [+ bias(N)]   forward  out(N,OC) = x(N,IC)·Wᵀ + b       (accumulate = 0)
//   sgemm_nn_f32:  C(M,N) += A(M,K)·B(K,N)               backward dX(N,IC) += dOut(N,OC)·W(OC,IC)  (accumulate = 1)
//   sgemm_tn_f32:  C(M,N) += A(K,M)ᵀ·B(K,N)              backward dW(OC,IC) += dOut(N,OC)ᵀ·x(N,IC) (accumulate = 1)
// With accumulate = 0 C is overwritten; with 1 the product is added to C (the Kernels "+=" rule for gradients).
// bias may be null (0). lda/ldb/ldc are the row lengths of the row-major buffers as stored.
// Launch: grid (ceil(N/64), ceil(M/64)), block (16, 16), no dynamic shared memory.
// Each thread owns a 4x4 set of outputs at stride 16 (conflict-free shared reads), accumulated in float with fmaf
// over K in ascending order; the CPU oracle accumulates in double, so results agree to F32 rounding, not bitwise.

#define BM 64
#define BN 64
#define BK 16

template <bool TA, bool TB>
__device__ __forceinline__ void sgemm_f32(float* __restrict__ C, const float* __restrict__ A,
                                          const float* __restrict__ B, const float* __restrict__ bias,
                                          int M, int N, int K, int lda, int ldb, int ldc, int accumulate) {
    __shared__ float As[BK][BM + 1];   // As[k][m] = A(m0 + m, k0 + k)
    __shared__ float Bs[BK][BN + 1];   // Bs[k][n] = B(k0 + k, n0 + n)
    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * 16 + tx;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += BK) {
#pragma unroll
        for (int r = 0; r < 4; r++) {             // 64 x 16 = 1024 elements of each tile, 4 per thread
            int e = tid + 256 * r;
            int m, k;
            if (TA) { k = e / BM; m = e % BM; } else { m = e / BK; k = e % BK; }   // contiguous reads either way
            int gm = m0 + m, gk = k0 + k;
            float a = 0.0f;
            if (gm < M && gk < K) a = TA ? A[(size_t)gk * lda + gm] : A[(size_t)gm * lda + gk];
            As[k][m] = a;
            int n, kb;
            if (TB) { n = e / BK; kb = e % BK; } else { kb = e / BN; n = e % BN; }
            int gn = n0 + n, gkb = k0 + kb;
            float b = 0.0f;
            if (gn < N && gkb < K) b = TB ? B[(size_t)gn * ldb + gkb] : B[(size_t)gkb * ldb + gn];
            Bs[kb][n] = b;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int gm = m0 + ty + 16 * i;
        if (gm >= M) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int gn = n0 + tx + 16 * j;
            if (gn >= N) continue;
            float v = acc[i][j];
            if (bias != 0) v += bias[gn];
            float* c = C + (size_t)gm * ldc + gn;
            *c = accumulate ? *c + v : v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(256)
sgemm_nt_f32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
             int ldc, int accumulate) {
    sgemm_f32<false, true>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

extern "C" __global__ void __launch_bounds__(256)
sgemm_nn_f32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
             int ldc, int accumulate) {
    sgemm_f32<false, false>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

extern "C" __global__ void __launch_bounds__(256)
sgemm_tn_f32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
             int ldc, int accumulate) {
    sgemm_f32<true, false>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

// matmul_tf32.cu: the same three GEMMs as matmul.cu on tensor cores, TF32 inputs with FP32 accumulation
// (nvcuda::wmma m16n16k8, sm_80 and later). Faster, less exact: each input is rounded to TF32 (10-bit mantissa)
// before the multiply, so each product carries a relative error up to ~2^-10 (tolerance CudaTolerances.TF32_MATMUL).
//
// Mirrors CpuKernels.matmulForward / matmulBackward, with the shapes and flags of matmul.cu:
//   sgemm_nt_tf32:  C(M,N) = A(M,K)·B(N,K)ᵀ [+ bias(N)]   (forward)
//   sgemm_nn_tf32:  C(M,N) += A(M,K)·B(K,N)               (dX)
//   sgemm_tn_tf32:  C(M,N) += A(K,M)ᵀ·B(K,N)              (dWeight)
// Launch: grid (ceil(N/64), ceil(M/64)), block (128) = 4 warps, each warp a 32x32 quarter of the 64x64 tile
// (2x2 fragments of 16x16); no dynamic shared memory. Tiles are zero-padded at the edges, so any M, N, K works.

#include <mma.h>
using namespace nvcuda;

#define TBM 64
#define TBN 64
#define TBK 16
#define A_LD (TBK + 4)    // row lengths of the shared tiles: multiples of 4 floats, rows 32-byte aligned
#define B_LD (TBN + 4)
#define C_LD (TBN + 4)

template <bool TA, bool TB>
__device__ __forceinline__ void sgemm_tf32(float* __restrict__ C, const float* __restrict__ A,
                                           const float* __restrict__ B, const float* __restrict__ bias,
                                           int M, int N, int K, int lda, int ldb, int ldc, int accumulate) {
    __shared__ __align__(32) float As[TBM * A_LD];   // As[m][k] = A(m0 + m, k0 + k), row-major
    __shared__ __align__(32) float Bs[TBK * B_LD];   // Bs[k][n] = B(k0 + k, n0 + n), row-major
    __shared__ __align__(32) float Cs[TBM * C_LD];   // the block's 64x64 result, for the guarded epilogue
    const int tid = threadIdx.x, warp = tid / 32;
    const int wm = warp / 2, wn = warp % 2;          // this warp's 32x32 quarter
    const int m0 = blockIdx.y * TBM, n0 = blockIdx.x * TBN;

    wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += TBK) {
        for (int e = tid; e < TBM * TBK; e += 128) {   // 1024 elements of each tile, 8 per thread
            int m, k;
            if (TA) { k = e / TBM; m = e % TBM; } else { m = e / TBK; k = e % TBK; }
            int gm = m0 + m, gk = k0 + k;
            float a = 0.0f;
            if (gm < M && gk < K) a = TA ? A[(size_t)gk * lda + gm] : A[(size_t)gm * lda + gk];
            As[m * A_LD + k] = wmma::__float_to_tf32(a);
            int n, kb;
            if (TB) { n = e / TBK; kb = e % TBK; } else { kb = e / TBN; n = e % TBN; }
            int gn = n0 + n, gkb = k0 + kb;
            float b = 0.0f;
            if (gn < N && gkb < K) b = TB ? B[(size_t)gn * ldb + gkb] : B[(size_t)gkb * ldb + gn];
            Bs[kb * B_LD + n] = wmma::__float_to_tf32(b);
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < TBK; kk += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> af[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> bf[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(af[i], As + (wm * 32 + i * 16) * A_LD + kk, A_LD);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(bf[j], Bs + kk * B_LD + wn * 32 + j * 16, B_LD);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], af[i], bf[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(Cs + (wm * 32 + i * 16) * C_LD + wn * 32 + j * 16, acc[i][j], C_LD,
                                    wmma::mem_row_major);
    __syncthreads();
    for (int e = tid; e < TBM * TBN; e += 128) {
        int m = e / TBN, n = e % TBN, gm = m0 + m, gn = n0 + n;
        if (gm >= M || gn >= N) continue;
        float v = Cs[m * C_LD + n];
        if (bias != 0) v += bias[gn];
        float* c = C + (size_t)gm * ldc + gn;
        *c = accumulate ? *c + v : v;
    }
}

extern "C" __global__ void __launch_bounds__(128)
sgemm_nt_tf32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
              int ldc, int accumulate) {
    sgemm_tf32<false, true>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

extern "C" __global__ void __launch_bounds__(128)
sgemm_nn_tf32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
              int ldc, int accumulate) {
    sgemm_tf32<false, false>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

extern "C" __global__ void __launch_bounds__(128)
sgemm_tn_tf32(float* C, const float* A, const float* B, const float* bias, int M, int N, int K, int lda, int ldb,
              int ldc, int accumulate) {
    sgemm_tf32<true, false>(C, A, B, bias, M, N, K, lda, ldb, ldc, accumulate);
}

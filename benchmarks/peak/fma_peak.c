/*
 * The FMA peak this machine gives right now, measured rather than computed from a nominal clock: each of P threads
 * runs 16 independent chains of fused multiply-adds on registers (no memory traffic; 16 chains cover the 4-cycle FMA
 * latency of 2 FMA units twice over) for about one second. FLOPs = iterations x 16 chains x lanes x 2.
 *
 *   gcc -O2 -march=native -pthread -o fma_peak fma_peak.c && ./fma_peak [threads] [bf16]
 *
 * Prints one line per thread and the sum: "fma_peak_gflops=<sum>". AVX-512 when the compiler targets it (16 float
 * lanes), else AVX2 + FMA (8 lanes); anything else is refused.
 *
 * With "bf16" it measures instead the BF16 dot-product peak, to decide whether a BF16-input / FP32-accumulate GEMM
 * could outrun FP32 here at all: 16 chains of VDPBF16PS (AVX512-BF16: per 32-bit lane, two bf16 products added to an
 * fp32 accumulator; FLOPs = iterations x 16 chains x 16 lanes x 2 products x 2), printed as "bf16_dot_peak_gflops=<sum>".
 * (With 4 or 8 chains the rate here stays the same: the instruction's throughput, not its latency, limits it.) Where
 * the compiler does not target AVX512-BF16 that mode exits with status 3 and says so.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SUM(v) _mm512_reduce_add_ps(v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float SUM(__m256 v) { float f[8]; _mm256_storeu_ps(f, v); float s = 0; for (int i = 0; i < 8; i++) s += f[i]; return s; }
#else
#error "fma_peak needs AVX-512 or AVX2 with FMA (compile with -march=native on such a CPU)"
#endif

#define ITERS (4000000000L / LANES)   /* 128 GFLOP per thread: about a second */

typedef struct { double gflops, seconds; float sink; } result;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *arg) {
    result *r = arg;
    vec b = SET1(1.0000001f), c = SET1(1e-7f);
    vec a0 = SET1(0), a1 = SET1(1), a2 = SET1(2), a3 = SET1(3), a4 = SET1(4), a5 = SET1(5), a6 = SET1(6), a7 = SET1(7),
        a8 = SET1(8), a9 = SET1(9), a10 = SET1(10), a11 = SET1(11), a12 = SET1(12), a13 = SET1(13), a14 = SET1(14),
        a15 = SET1(15);
    long n = ITERS;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        a0 = FMA(a0, b, c); a1 = FMA(a1, b, c); a2 = FMA(a2, b, c); a3 = FMA(a3, b, c);
        a4 = FMA(a4, b, c); a5 = FMA(a5, b, c); a6 = FMA(a6, b, c); a7 = FMA(a7, b, c);
        a8 = FMA(a8, b, c); a9 = FMA(a9, b, c); a10 = FMA(a10, b, c); a11 = FMA(a11, b, c);
        a12 = FMA(a12, b, c); a13 = FMA(a13, b, c); a14 = FMA(a14, b, c); a15 = FMA(a15, b, c);
    }
    r->seconds = now() - t0;
    r->gflops = (double) n * 16 * LANES * 2 / r->seconds / 1e9;
    r->sink = SUM(a0) + SUM(a1) + SUM(a2) + SUM(a3) + SUM(a4) + SUM(a5) + SUM(a6) + SUM(a7) + SUM(a8) + SUM(a9)
              + SUM(a10) + SUM(a11) + SUM(a12) + SUM(a13) + SUM(a14) + SUM(a15);   // keeps the chains alive
    return NULL;
}

#if defined(__AVX512BF16__)
#define DOT(acc) acc = _mm512_dpbf16_ps(acc, x, y)

static void *run_bf16(void *arg) {
    result *r = arg;
    /* bf16 pairs: 1.0 (0x3f80) times 2^-32 (0x2f80), so the accumulators stay finite */
    __m512bh x = (__m512bh) _mm512_set1_epi32(0x3f803f80), y = (__m512bh) _mm512_set1_epi32(0x2f802f80);
    /* distinct starting values: identical chains would be merged by the compiler */
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2), a3 = _mm512_set1_ps(3),
           a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5), a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7),
           a8 = _mm512_set1_ps(8), a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11),
           a12 = _mm512_set1_ps(12), a13 = _mm512_set1_ps(13), a14 = _mm512_set1_ps(14), a15 = _mm512_set1_ps(15);
    long n = 100000000L;   /* 16 x 64 FLOP each: ~100 GFLOP per thread */
    double t0 = now();
    for (long i = 0; i < n; i++) {
        DOT(a0); DOT(a1); DOT(a2); DOT(a3); DOT(a4); DOT(a5); DOT(a6); DOT(a7);
        DOT(a8); DOT(a9); DOT(a10); DOT(a11); DOT(a12); DOT(a13); DOT(a14); DOT(a15);
    }
    r->seconds = now() - t0;
    r->gflops = (double) n * 16 * 16 * 2 * 2 / r->seconds / 1e9;
    r->sink = SUM(a0) + SUM(a1) + SUM(a2) + SUM(a3) + SUM(a4) + SUM(a5) + SUM(a6) + SUM(a7) + SUM(a8) + SUM(a9)
              + SUM(a10) + SUM(a11) + SUM(a12) + SUM(a13) + SUM(a14) + SUM(a15);   // keeps the chains alive
    return NULL;
}
#endif

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 1;
    if (P < 1 || P > 1024) { fprintf(stderr, "fma_peak: threads must be 1..1024, got %s\n", argv[1]); return 2; }
    int bf16 = argc > 2 && strcmp(argv[2], "bf16") == 0;
    if (argc > 2 && !bf16) { fprintf(stderr, "fma_peak: the second argument may only be bf16, got %s\n", argv[2]); return 2; }
    void *(*body)(void *) = run;
    const char *what = "float lanes";
    if (bf16) {
#if defined(__AVX512BF16__)
        body = run_bf16;
        what = "fp32 lanes of VDPBF16PS";
#else
        fprintf(stderr, "fma_peak: built without AVX512-BF16 (this CPU or compiler lacks it), no bf16 peak\n");
        return 3;
#endif
    }
    pthread_t *th = malloc(sizeof(pthread_t) * P);
    result *rs = calloc(P, sizeof(result));
    for (int t = 0; t < P; t++) pthread_create(&th[t], NULL, body, &rs[t]);
    double sum = 0;
    for (int t = 0; t < P; t++) {
        pthread_join(th[t], NULL);
        printf("thread %d: %.1f GFLOP/s (%.2f s, %d %s, 16 chains; sink %g)\n", t, rs[t].gflops, rs[t].seconds,
               bf16 ? 16 : LANES, what, rs[t].sink);
        sum += rs[t].gflops;
    }
    printf("%s=%.1f\n", bf16 ? "bf16_dot_peak_gflops" : "fma_peak_gflops", sum);
    return 0;
}

/*
 * The FMA peak this machine gives right now, measured rather than computed from a nominal clock: each of P threads
 * runs 16 independent chains of fused multiply-adds on registers (no memory traffic; 16 chains cover the 4-cycle FMA
 * latency of 2 FMA units twice over) for about one second. FLOPs = iterations x 16 chains x lanes x 2.
 *
 *   gcc -O2 -march=native -pthread -o fma_peak fma_peak.c && ./fma_peak [threads]
 *
 * Prints one line per thread and the sum: "fma_peak_gflops=<sum>". AVX-512 when the compiler targets it (16 float
 * lanes), else AVX2 + FMA (8 lanes); anything else is refused.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 1;
    if (P < 1 || P > 1024) { fprintf(stderr, "fma_peak: threads must be 1..1024, got %s\n", argv[1]); return 2; }
    pthread_t *th = malloc(sizeof(pthread_t) * P);
    result *rs = calloc(P, sizeof(result));
    for (int t = 0; t < P; t++) pthread_create(&th[t], NULL, run, &rs[t]);
    double sum = 0;
    for (int t = 0; t < P; t++) {
        pthread_join(th[t], NULL);
        printf("thread %d: %.1f GFLOP/s (%.2f s, %d float lanes, 16 chains; sink %g)\n", t, rs[t].gflops, rs[t].seconds,
               LANES, rs[t].sink);
        sum += rs[t].gflops;
    }
    printf("fma_peak_gflops=%.1f\n", sum);
    return 0;
}

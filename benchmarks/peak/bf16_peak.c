/*
 * The BF16 dot-product peak of this machine, measured the way fma_peak.c measures the FP32 one, to decide whether a
 * BF16-input / FP32-accumulate GEMM (the optional path) could be faster than FP32 here: each of P threads runs
 * 16 independent chains of VDPBF16PS (AVX512-BF16: per 32-bit lane, two bf16 products added to an fp32 accumulator)
 * on registers for about a second. FLOPs = iterations x 16 chains x 16 lanes x 2 products x 2.
 *
 *   gcc -O2 -march=native -pthread -o bf16_peak bf16_peak.c && ./bf16_peak [threads]
 *
 * Prints one line per thread and the sum: "bf16_dot_peak_gflops=<sum>". Refused at compile time where the compiler
 * does not target AVX512-BF16. (16 chains: if the rate stayed the same with 4 or 8, the instruction's throughput, not
 * its latency, is what limits it.)
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#if !defined(__AVX512BF16__)
#error "bf16_peak needs AVX512-BF16 (compile with -march=native on such a CPU)"
#endif

#define ITERS 100000000L   /* 16 x 64 FLOP each: ~100 GFLOP per thread */

typedef struct { double gflops, seconds; float sink; } result;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define DOT(acc) acc = _mm512_dpbf16_ps(acc, a, b)

static void *run(void *arg) {
    result *r = arg;
    /* bf16 pairs: 1.0 (0x3f80) times a tiny value, so the accumulators stay finite */
    __m512bh a = (__m512bh) _mm512_set1_epi32(0x3f803f80), b = (__m512bh) _mm512_set1_epi32(0x2f802f80);
    /* distinct starting values: identical chains would be merged by the compiler */
    __m512 c0 = _mm512_set1_ps(0), c1 = _mm512_set1_ps(1), c2 = _mm512_set1_ps(2), c3 = _mm512_set1_ps(3),
           c4 = _mm512_set1_ps(4), c5 = _mm512_set1_ps(5), c6 = _mm512_set1_ps(6), c7 = _mm512_set1_ps(7),
           c8 = _mm512_set1_ps(8), c9 = _mm512_set1_ps(9), c10 = _mm512_set1_ps(10), c11 = _mm512_set1_ps(11),
           c12 = _mm512_set1_ps(12), c13 = _mm512_set1_ps(13), c14 = _mm512_set1_ps(14), c15 = _mm512_set1_ps(15);
    long n = ITERS;
    double t0 = now();
    for (long i = 0; i < n; i++) {
        DOT(c0); DOT(c1); DOT(c2); DOT(c3); DOT(c4); DOT(c5); DOT(c6); DOT(c7);
        DOT(c8); DOT(c9); DOT(c10); DOT(c11); DOT(c12); DOT(c13); DOT(c14); DOT(c15);
    }
    r->seconds = now() - t0;
    r->gflops = (double) n * 16 * 16 * 2 * 2 / r->seconds / 1e9;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)),
                                       _mm512_add_ps(_mm512_add_ps(c12, c13), _mm512_add_ps(c14, c15))));
    r->sink = _mm512_reduce_add_ps(s);   /* keeps the chains alive */
    return NULL;
}

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 1;
    if (P < 1 || P > 1024) { fprintf(stderr, "bf16_peak: threads must be 1..1024, got %s\n", argv[1]); return 2; }
    pthread_t *th = malloc(sizeof(pthread_t) * P);
    result *rs = calloc(P, sizeof(result));
    for (int t = 0; t < P; t++) pthread_create(&th[t], NULL, run, &rs[t]);
    double sum = 0;
    for (int t = 0; t < P; t++) {
        pthread_join(th[t], NULL);
        printf("thread %d: %.1f GFLOP/s (%.2f s, VDPBF16PS, 16 lanes x 2 products, 16 chains; sink %g)\n", t,
               rs[t].gflops, rs[t].seconds, rs[t].sink);
        sum += rs[t].gflops;
    }
    printf("bf16_dot_peak_gflops=%.1f\n", sum);
    return 0;
}

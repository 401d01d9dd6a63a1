/* Memory read bandwidth probe: sums a 1 GiB buffer with 512-bit (or widest available) loads on 1..N threads.
   Build: gcc -O3 -march=native -fopenmp bandwidth.c -o /tmp/bandwidth; run: /tmp/bandwidth [threads] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>

#define SIZE (1UL << 30)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    uint64_t *buf = aligned_alloc(64, SIZE);
    size_t n = SIZE / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++) buf[i] = i;
    omp_set_num_threads(threads);
    double best = 0;
    uint64_t total = 0;
    for (int rep = 0; rep < 10; rep++) {
        double t0 = now();
        uint64_t s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
        for (size_t i = 0; i < n; i++) s += buf[i];
        double dt = now() - t0;
        total += s;
        double gbs = SIZE / dt * 1e-9;
        if (gbs > best) best = gbs;
    }
    printf("threads %d: best %.1f GB/s (checksum %lu)\n", threads, best, (unsigned long) total);
    return 0;
}

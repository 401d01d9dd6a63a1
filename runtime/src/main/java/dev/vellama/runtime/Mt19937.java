package dev.vellama.runtime;

/**
 * The 32-bit Mersenne Twister ({@code std::mt19937}) and the uniform draws that GCC's standard library makes from
 * it ({@code std::generate_canonical}, behind {@code std::uniform_real_distribution}): the random source of
 * llama.cpp's samplers, so that a seeded run draws what llama.cpp draws from the same candidates. Not thread-safe.
 */
final class Mt19937 {
    private static final int N = 624;
    private static final int M = 397;
    private static final double TWO_32 = 4294967296.0;

    private final int[] mt = new int[N];
    private int index;

    /** Seeded as {@code std::mt19937(seed)}: the seed's low 32 bits, as llama.cpp's {@code uint32_t} seeds. */
    Mt19937(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output, as an unsigned value. */
    long next() {
        if (index >= N) {
            twist();
        }
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xFFFF_FFFFL;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % N] & 0x7fff_ffff);
            int v = mt[(i + M) % N] ^ (y >>> 1);
            if ((y & 1) != 0) {
                v ^= 0x9908b0df;
            }
            mt[i] = v;
        }
        index = 0;
    }

    /**
     * {@code std::uniform_real_distribution<double>(0, 1)}: two outputs, the second the high half, summed in a
     * double and scaled by 2^-64 (a result that rounds up to 1 becomes the double just below it).
     */
    double nextDouble() {
        double sum = (double) next();
        sum += (double) next() * TWO_32;
        double r = sum / (TWO_32 * TWO_32);
        return r >= 1.0 ? Math.nextDown(1.0) : r;
    }

    /** {@code std::uniform_real_distribution<float>(0, 1)}: one output rounded to a float, scaled by 2^-32. */
    float nextFloat() {
        float r = (float) next() / (float) TWO_32;
        return r >= 1f ? Math.nextDown(1f) : r;
    }
}

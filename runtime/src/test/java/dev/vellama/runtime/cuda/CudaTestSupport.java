package dev.vellama.runtime.cuda;

import java.util.Random;

import org.junit.jupiter.api.Assumptions;

/** Opens the first CUDA device for a test, or skips the test saying why there is none. */
final class CudaTestSupport {
    private CudaTestSupport() {}

    private static String unavailable;

    /** The first device, or null when there is none ({@link #skipWithout} then skips each test). */
    static CudaContext openOrNull() {
        try {
            return CudaContext.open(0);
        } catch (CudaUnavailableException e) {
            unavailable = e.getMessage();
            return null;
        }
    }

    /** Skips the calling test, with the reason, when {@link #openOrNull} found no device. */
    static void skipWithout(CudaContext ctx) {
        Assumptions.assumeTrue(ctx != null, () -> "CUDA test skipped: " + unavailable);
    }

    /**
     * A shared model, or a skip when the data set at hand lacks it (the GPU bundle carries only some models to stay
     * within its size limit).
     */
    static java.nio.file.Path modelOrSkip(String name) {
        java.nio.file.Path p = dev.vellama.testdata.TestData.resolve("models/" + name);
        Assumptions.assumeTrue(java.nio.file.Files.isRegularFile(p), () -> "model " + p + " is not in this data set");
        return p;
    }

    static float[] randomFloats(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /**
     * The CUDA attention kernel's result computed on the host: n query tokens [n][heads][headDim] at positions
     * pos0.. over F16 caches [position][kvHeads·headDim], each token seeing its last {@code window} positions,
     * scores scaled and soft-capped when {@code softcap} is above 0, normalized with {@code cpu}'s softmax.
     */
    static float[] attentionOnHost(dev.vellama.quant.Kernels cpu, float[] q, short[] keys, short[] values, int n,
                                   int heads, int kvHeads, int headDim, int pos0, float scale, int window, float softcap) {
        float[] k = new float[keys.length];
        float[] v = new float[values.length];
        for (int i = 0; i < k.length; i++) {
            k[i] = Float.float16ToFloat(keys[i]);
            v[i] = Float.float16ToFloat(values[i]);
        }
        return attentionOnHost(cpu, q, k, v, n, heads, kvHeads, headDim, pos0, scale, window, softcap);
    }

    /** The same over caches already decoded to floats (the values a quantized cache holds). */
    static float[] attentionOnHost(dev.vellama.quant.Kernels cpu, float[] q, float[] keys, float[] values, int n,
                                   int heads, int kvHeads, int headDim, int pos0, float scale, int window, float softcap) {
        int width = kvHeads * headDim;
        float[] out = new float[q.length];
        float[] scores = new float[pos0 + n];
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                int len = pos0 + t + 1;
                int start = Math.max(0, len - window);
                int qOff = (t * heads + h) * headDim;
                int kvOff = (h / (heads / kvHeads)) * headDim;
                for (int p = start; p < len; p++) {
                    float dot = 0f;
                    for (int i = 0; i < headDim; i++) {
                        dot += keys[p * width + kvOff + i] * q[qOff + i];
                    }
                    float s = scale * dot;
                    scores[p] = softcap > 0 ? softcap * (float) Math.tanh(s / softcap) : s;
                }
                cpu.softmax(scores, start, len - start);
                for (int p = start; p < len; p++) {
                    for (int i = 0; i < headDim; i++) {
                        out[qOff + i] += scores[p] * values[p * width + kvOff + i];
                    }
                }
            }
        }
        return out;
    }

    /** Σ(got − want)² / Σ want². */
    static double nmse(float[] want, float[] got) {
        double err = 0;
        double ref = 0;
        for (int i = 0; i < want.length; i++) {
            double d = (double) got[i] - want[i];
            err += d * d;
            ref += (double) want[i] * want[i];
        }
        return ref == 0 ? err : err / ref;
    }

    static DeviceBuffer upload(CudaContext ctx, float[] a) {
        DeviceBuffer b = ctx.allocate(4L * a.length);
        ctx.upload(a, 0, a.length, b, 0);
        return b;
    }

    /** A device int32 holding a position, as the position-reading kernels take it. */
    static DeviceBuffer position(CudaContext ctx, int pos) {
        DeviceBuffer b = ctx.allocate(4);
        ctx.upload(new int[] {pos}, 0, 1, b);
        return b;
    }

    static float[] download(CudaContext ctx, DeviceBuffer b, int n) {
        float[] a = new float[n];
        ctx.download(b, 0, a, 0, n);
        return a;
    }
}

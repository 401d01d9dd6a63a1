package dev.vellama.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * One device's primary context with the kernel module loaded and one stream on which all work is queued in
 * order. Calls from another thread must first {@link #makeCurrent()}. Host transfers go through a pinned staging
 * buffer that grows as needed, so heap arrays can be copied with the async API.
 */
public final class CudaContext implements AutoCloseable {
    private static final int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;

    private final CudaDriver driver;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment module;
    private MemorySegment staging = MemorySegment.NULL;
    private boolean closed;

    private CudaContext(CudaDriver driver, int ordinal) {
        this.driver = driver;
        int count = driver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalArgumentException("CUDA device " + ordinal + " does not exist; " + count + " found");
        }
        this.device = driver.device(ordinal);
        this.context = driver.primaryContextRetain(device);
        driver.setCurrentContext(context);
        this.stream = driver.createStream(CudaDriver.STREAM_NON_BLOCKING);
        this.module = loadKernels(driver, KernelSources.ptx());
    }

    /** Opens device {@code ordinal}, loading the driver. */
    public static CudaContext open(int ordinal) throws CudaUnavailableException {
        return new CudaContext(CudaDriver.load(), ordinal);
    }

    public static CudaContext open(CudaDriver driver, int ordinal) {
        return new CudaContext(driver, ordinal);
    }

    /**
     * Loads the PTX. nvcc stamps its own PTX ISA version on the file; a driver older than the compiler refuses it
     * even when no newer instruction is used, so on that error the load is retried once with the newest ISA version
     * the driver knows.
     */
    private static MemorySegment loadKernels(CudaDriver driver, byte[] ptx) {
        try {
            return driver.loadModule(ptx);
        } catch (CudaException e) {
            if (e.code() != CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
                throw e;
            }
            String isa = PtxVersions.isaFor(driver.driverVersion());
            return driver.loadModule(PtxVersions.withIsa(ptx, isa));
        }
    }

    public CudaDriver driver() {
        return driver;
    }

    public String deviceName() {
        return driver.deviceName(device);
    }

    public int deviceAttribute(int attribute) {
        return driver.deviceAttribute(attribute, device);
    }

    public long totalMemory() {
        return driver.deviceTotalMemory(device);
    }

    public MemorySegment stream() {
        return stream;
    }

    /** Binds this context to the calling thread. */
    public void makeCurrent() {
        driver.setCurrentContext(context);
    }

    public MemorySegment function(String name) {
        return driver.function(module, name);
    }

    /** Waits for everything queued on the stream. */
    public void synchronize() {
        driver.synchronizeStream(stream);
    }

    public DeviceBuffer allocate(long bytes) {
        return new DeviceBuffer(driver, driver.malloc(Math.max(bytes, 1)), bytes);
    }

    /** Queues a copy of {@code count} floats of {@code src} into {@code dst} at float index {@code dstIndex}. */
    public void upload(float[] src, int srcOff, int count, DeviceBuffer dst, long dstIndex) {
        long bytes = 4L * count;
        MemorySegment s = staging(bytes);
        synchronize(); // the staging buffer may still feed an earlier copy
        MemorySegment.copy(src, srcOff, s, ValueLayout.JAVA_FLOAT, 0, count);
        driver.copyHostToDeviceAsync(dst.pointer() + 4 * dstIndex, s, bytes, stream);
    }

    public void upload(int[] src, int srcOff, int count, DeviceBuffer dst) {
        long bytes = 4L * count;
        MemorySegment s = staging(bytes);
        synchronize();
        MemorySegment.copy(src, srcOff, s, ValueLayout.JAVA_INT, 0, count);
        driver.copyHostToDeviceAsync(dst.pointer(), s, bytes, stream);
    }

    /**
     * Copies raw bytes (a native segment, pageable or pinned) to the device and waits for it. The copy goes on this
     * context's stream: a plain cuMemcpyHtoD would run on the legacy default stream, which the non-blocking stream
     * the kernels use does not wait for.
     */
    public void upload(MemorySegment src, DeviceBuffer dst, long dstOffset) {
        if (dstOffset + src.byteSize() > dst.byteSize()) {
            throw new IllegalArgumentException("copy of " + src.byteSize() + " bytes overflows a buffer of " + dst.byteSize());
        }
        driver.copyHostToDeviceAsync(dst.pointer() + dstOffset, src, src.byteSize(), stream);
        synchronize();
    }

    /** Waits for the stream, then copies {@code count} floats from float index {@code srcIndex} of {@code src}. */
    public void download(DeviceBuffer src, long srcIndex, float[] dst, int dstOff, int count) {
        long bytes = 4L * count;
        MemorySegment s = staging(bytes);
        driver.copyDeviceToHostAsync(s, src.pointer() + 4 * srcIndex, bytes, stream);
        synchronize();
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, 0, dst, dstOff, count);
    }

    /** Waits for the stream, then copies {@code count} halves (raw bits). */
    public void download(DeviceBuffer src, long srcIndex, short[] dst, int dstOff, int count) {
        long bytes = 2L * count;
        MemorySegment s = staging(bytes);
        driver.copyDeviceToHostAsync(s, src.pointer() + 2 * srcIndex, bytes, stream);
        synchronize();
        MemorySegment.copy(s, ValueLayout.JAVA_SHORT, 0, dst, dstOff, count);
    }

    /** Waits for the stream, then copies {@code count} raw bytes from byte {@code srcOffset} of {@code src}. */
    public void download(DeviceBuffer src, long srcOffset, byte[] dst, int dstOff, int count) {
        MemorySegment s = staging(count);
        driver.copyDeviceToHostAsync(s, src.pointer() + srcOffset, count, stream);
        synchronize();
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, dst, dstOff, count);
    }

    private MemorySegment staging(long bytes) {
        if (staging.byteSize() < bytes) {
            synchronize();
            if (!staging.equals(MemorySegment.NULL)) {
                driver.freeHost(staging);
            }
            staging = driver.hostAlloc(Math.max(bytes, 1 << 20), CudaDriver.HOST_ALLOC_PORTABLE);
        }
        return staging;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        makeCurrent();
        synchronize();
        if (!staging.equals(MemorySegment.NULL)) {
            driver.freeHost(staging);
        }
        driver.unloadModule(module);
        driver.destroyStream(stream);
        driver.primaryContextRelease(device);
    }

    /** PTX ISA versions by driver (CUDA) version, for {@link #loadKernels}. */
    static final class PtxVersions {
        private PtxVersions() {}

        /** The newest PTX ISA a driver of the given CUDA version accepts. */
        static String isaFor(int cudaVersion) {
            int major = cudaVersion / 1000;
            int minor = cudaVersion % 1000 / 10;
            if (major >= 13) {
                return "9.0";
            }
            if (major == 12) {
                // 12.0 to 12.5 map to 8.0 to 8.5; 12.6 kept 8.5; 12.8 is 8.7, 12.9 is 8.8
                return switch (minor) {
                    case 0, 1, 2, 3, 4, 5 -> "8." + minor;
                    case 6, 7 -> "8.5";
                    case 8 -> "8.7";
                    default -> "8.8";
                };
            }
            return "7.8";
        }

        /** The PTX text with its {@code .version} directive replaced. */
        static byte[] withIsa(byte[] ptx, String isa) {
            String text = new String(ptx, StandardCharsets.US_ASCII);
            return text.replaceFirst("(?m)^\\.version \\d+\\.\\d+$", ".version " + isa).getBytes(StandardCharsets.US_ASCII);
        }
    }
}

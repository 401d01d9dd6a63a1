package dev.vellama.runtime.cuda;

/** A block of device memory, freed by {@link #close()}. */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDriver driver;
    private final long pointer;
    private final long bytes;
    private boolean freed;

    DeviceBuffer(CudaDriver driver, long pointer, long bytes) {
        this.driver = driver;
        this.pointer = pointer;
        this.bytes = bytes;
    }

    /** The device address. */
    public long pointer() {
        if (freed) {
            throw new IllegalStateException("device buffer used after it was freed");
        }
        return pointer;
    }

    public long byteSize() {
        return bytes;
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            driver.free(pointer);
        }
    }
}

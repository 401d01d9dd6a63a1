package dev.vellama.runtime.cuda;

/** A block of device memory, freed by {@link #close()}; or a view of part of one, which frees nothing. */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDriver driver;
    private final long pointer;
    private final long bytes;
    private final DeviceBuffer owner; // null: this buffer owns its memory
    private boolean freed;

    DeviceBuffer(CudaDriver driver, long pointer, long bytes) {
        this(driver, pointer, bytes, null);
    }

    private DeviceBuffer(CudaDriver driver, long pointer, long bytes, DeviceBuffer owner) {
        this.driver = driver;
        this.pointer = pointer;
        this.bytes = bytes;
        this.owner = owner;
    }

    /** The {@code length} bytes from {@code offset}, valid while this buffer is. */
    public DeviceBuffer view(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > bytes) {
            throw new IllegalArgumentException("view of " + length + " bytes at " + offset + " in " + bytes);
        }
        return new DeviceBuffer(driver, pointer + offset, length, owner == null ? this : owner);
    }

    /** The device address. */
    public long pointer() {
        if (freed || (owner != null && owner.freed)) {
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
            if (owner == null) {
                driver.free(pointer);
            }
        }
    }
}

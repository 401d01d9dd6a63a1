package dev.vellama.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code void** kernelParams} of {@code cuLaunchKernel}: a pointer per parameter, each to an 8-byte slot
 * holding the value. One instance is reused for every launch (the driver copies the values at launch), so the
 * token loop allocates nothing. Not thread-safe.
 */
public final class KernelArgs {
    public static final int MAX_ARGS = 24;

    private final MemorySegment slots;
    private final MemorySegment pointers;
    private int count;

    public KernelArgs(Arena arena) {
        slots = arena.allocate(8L * MAX_ARGS, 8);
        pointers = arena.allocate(ADDRESS.byteSize() * MAX_ARGS, ADDRESS.byteAlignment());
        for (int i = 0; i < MAX_ARGS; i++) {
            pointers.setAtIndex(ADDRESS, i, slots.asSlice(8L * i, 8));
        }
    }

    /** Starts a new argument list. */
    public KernelArgs reset() {
        count = 0;
        return this;
    }

    /** A device pointer or a 64-bit integer parameter. */
    public KernelArgs ptr(long value) {
        slots.set(JAVA_LONG, 8L * next(), value);
        return this;
    }

    public KernelArgs i32(int value) {
        slots.set(JAVA_INT, 8L * next(), value);
        return this;
    }

    public KernelArgs f32(float value) {
        slots.set(JAVA_FLOAT, 8L * next(), value);
        return this;
    }

    public int count() {
        return count;
    }

    /** The {@code void**} to pass to the launch. */
    public MemorySegment pointers() {
        return pointers;
    }

    private int next() {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("more than " + MAX_ARGS + " kernel parameters");
        }
        return count++;
    }
}

package dev.vellama.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Off-heap memory for large copies of weights: an anonymous {@code mmap} on Linux (memory from {@link Arena} counts
 * against the JVM's direct-memory limit), {@link Arena#ofAuto()} elsewhere or if the calls are refused. Either way
 * it is freed when the segment is unreachable. With {@code -Dvellama.hugePages=true} the mapping is also marked
 * for transparent huge pages ({@code madvise(MADV_HUGEPAGE)}): a page fault then brings 2 MiB instead of 4 KiB.
 * That is off by default: on the 2-vCPU virtual machine of docs/performance.md it once made first touching 600 MiB
 * take 1.0 s instead of 1.6–1.7 s, and on another day 2 MiB faults ran at 0.5 GB/s against 3 GB/s for 4 KiB
 * ones (the kernel compacts memory for them at fault time), adding 0.8 s to a 1B model's first token while
 * decode ran the same either way.
 */
final class LargePageMemory {
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;
    private static final boolean HUGE_PAGES = Boolean.getBoolean("vellama.hugePages");
    private static final MethodHandle MMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle madvise = null;
        MethodHandle munmap = null;
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name", "").equals("Linux") && (arch.equals("amd64") || arch.equals("aarch64"))) {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                Optional<MemorySegment> m = libc.find("mmap");
                Optional<MemorySegment> a = libc.find("madvise");
                Optional<MemorySegment> u = libc.find("munmap");
                if (m.isPresent() && a.isPresent() && u.isPresent()) {
                    mmap = linker.downcallHandle(m.get(), FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                    madvise = linker.downcallHandle(a.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                    munmap = linker.downcallHandle(u.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                            ValueLayout.JAVA_LONG));
                }
            } catch (RuntimeException | LinkageError e) {
                mmap = null; // no native access: plain off-heap memory
            }
        }
        MMAP = mmap;
        MADVISE = madvise;
        MUNMAP = munmap;
    }

    private LargePageMemory() {
    }

    /** {@return {@code bytes} of zeroed memory, at least 64-byte aligned, freed when it is unreachable} */
    static MemorySegment allocate(long bytes) {
        // anonymous mappings for all but tiny copies: memory from Arena counts against the JVM's direct-memory
        // limit (a quarter of the machine by default), which the packed experts of a 30B mixture of experts, each
        // under a MiB but 18432 of them, ran out of
        if (MMAP != null && bytes >= 4096) {
            try {
                MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (p.address() != -1L) {
                    if (HUGE_PAGES) {
                        int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE); // a hint; refused is fine
                    }
                    long address = p.address();
                    return p.reinterpret(bytes, Arena.ofAuto(), s -> unmap(address, bytes));
                }
            } catch (Throwable e) {
                // fall through to the plain allocation
            }
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable e) {
            // nothing to do: the memory stays mapped until the process ends
        }
    }
}

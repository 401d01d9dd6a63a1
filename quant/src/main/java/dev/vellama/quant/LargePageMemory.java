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
 * Off-heap memory for large copies of weights, asked of Linux with transparent huge pages (an anonymous
 * {@code mmap} and {@code madvise(MADV_HUGEPAGE)}): a page fault then brings 2 MiB instead of 4 KiB. On the
 * virtual machine this was measured on, first touching 600 MiB took 1.0 s instead of 1.6–1.7 s. Elsewhere, or if
 * the calls are refused, memory comes from {@link Arena#ofAuto()}. Either way it is freed when the segment is
 * unreachable.
 */
final class LargePageMemory {
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;
    private static final MethodHandle MMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MUNMAP;

    static {
        MethodHandle mmap = null;
        MethodHandle madvise = null;
        MethodHandle munmap = null;
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name", "").equals("Linux") && (arch.equals("amd64") || arch.equals("aarch64"))
                && !Boolean.getBoolean("vellama.noHugePages")) {
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
                    int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE); // a hint; refused is fine
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

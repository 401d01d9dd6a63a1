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
 * it is freed when the segment is unreachable. Mappings of 2 MiB or more start on a 2 MiB boundary so that whole
 * transparent huge pages fit them. A large copy's 4 KiB pages are made present in one call when it is allocated
 * ({@code MADV_POPULATE_WRITE}): on a 2-vCPU virtual machine of docs/performance.md ("Packed copies made present
 * in one call") each page faulted in by the copy's first write cost about 10 µs, and the one call took a 1B model's
 * first token from 7.3–8.0 s to 6.6–7.0 s. A copy, once complete, is handed to {@link #collapseLater}, which gathers
 * it into huge pages ({@code madvise(MADV_COLLAPSE)}) on a background thread when packing has gone quiet: on the
 * 2-vCPU machine of docs/performance.md's earlier rounds, products streaming a layer's matrices from huge pages took 0.26–0.33 ms against 0.34–0.49 on small ones (fewer TLB misses; whole-model decode
 * gained 0–10%, inside that machine's noise), while faulting 2 MiB pages in directly ({@code MADV_HUGEPAGE}) cost
 * between nothing and 1.2 s of a 1B model's first token, depending on the machine's memory that day.
 * {@code -Dvellama.hugePages=fault} asks for that instead, {@code =collapse} for no populating call, {@code =off} for
 * small pages only and no call.
 */
final class LargePageMemory {
    private static final int PROT_READ_WRITE = 0x3;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final int MADV_HUGEPAGE = 14;
    private static final int MADV_POPULATE_WRITE = 23;
    private static final int MADV_COLLAPSE = 25;
    /** Bytes of a transparent huge page (x86-64, and arm64 with 4 KiB pages). */
    static final long HUGE_PAGE = 2L << 20;
    /** How long no new copy must have come before {@link #collapseLater} starts on the pending ones. */
    private static final long QUIET_NANOS = 1_000_000_000L;
    private static final String HUGE_PAGES = hugePagesMode(System.getProperty("vellama.hugePages", "populate"));
    private static final MethodHandle MMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MUNMAP;
    /** Whether complete copies are gathered into huge pages ({@link #collapseLater}): the mode, and the calls linked. */
    private static final boolean COLLAPSE;

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
        COLLAPSE = mmap != null && (HUGE_PAGES.equals("collapse") || HUGE_PAGES.equals("populate"));
    }

    private LargePageMemory() {
    }

    /** {@return {@code bytes} of zeroed memory, at least 64-byte aligned, freed when it is unreachable} */
    static MemorySegment allocate(long bytes) {
        long slack = bytes >= HUGE_PAGE ? HUGE_PAGE : 0;
        // anonymous mappings for all but tiny copies: memory from Arena counts against the JVM's direct-memory
        // limit (a quarter of the machine by default), which the packed experts of a 30B mixture of experts, each
        // under a MiB but 18432 of them, ran out of
        if (MMAP != null && bytes >= 4096) {
            try {
                MemorySegment m = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes + slack, PROT_READ_WRITE,
                        MAP_PRIVATE_ANONYMOUS, -1, 0L);
                if (m.address() != -1L) {
                    long mapped = m.address();
                    long start = slack == 0 ? mapped : (mapped + HUGE_PAGE - 1) & -HUGE_PAGE;
                    MemorySegment p = MemorySegment.ofAddress(start);
                    if (HUGE_PAGES.equals("fault")) {
                        int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_HUGEPAGE); // a hint; refused is fine
                    }
                    if (HUGE_PAGES.equals("populate") && slack != 0) {
                        // all small pages in one call instead of a fault per page as the copy is written (Linux
                        // 5.14 and later; refused is fine, the pages then fault in as before). Small pages: asking
                        // for huge ones here stalls on compaction when the machine's memory is fragmented
                        int ignored = (int) MADVISE.invokeExact(p, bytes, MADV_POPULATE_WRITE);
                    }
                    return p.reinterpret(bytes, Arena.ofAuto(), s -> unmap(mapped, bytes + slack));
                }
            } catch (Throwable e) {
                // fall through to the plain allocation
            }
        }
        return Arena.ofAuto().allocate(bytes, 64);
    }

    /**
     * Gathers {@code s}, a complete copy from {@link #allocate} that nobody writes any more, into transparent huge
     * pages on a background thread once no copy has been handed in for {@link #QUIET_NANOS} (so not while a model's
     * first products are still packing and compiling on every core), if the mode is "collapse" and the kernel
     * agrees ({@code MADV_COLLAPSE}, Linux 6.1 and later); otherwise nothing happens. The contents are unchanged,
     * and kernels may read the copy meanwhile.
     */
    static void collapseLater(MemorySegment s) {
        if (COLLAPSE && s.isNative() && s.byteSize() >= HUGE_PAGE) {
            Collapser.INSTANCE.add(s);
        }
    }

    /**
     * Gathers the copies {@link #collapseLater} holds now, without waiting for quiet, and returns when done, or at
     * once if the calling thread is interrupted (its interrupt status kept).
     */
    static void awaitCollapsed() {
        if (COLLAPSE) {
            try {
                Collapser.INSTANCE.awaitIdle();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The daemon thread behind {@link #collapseLater}; it holds each copy (so it stays mapped) until gathered. */
    private static final class Collapser implements Runnable {
        static final Collapser INSTANCE = start();
        private final java.util.ArrayDeque<MemorySegment> pending = new java.util.ArrayDeque<>();
        private long lastAdded;
        private boolean busy;
        private int hurry;

        private static Collapser start() {
            Collapser c = new Collapser();
            Thread t = new Thread(c, "vellama-huge-pages");
            t.setDaemon(true);
            t.start();
            return c;
        }

        synchronized void add(MemorySegment s) {
            pending.add(s);
            lastAdded = System.nanoTime();
            notifyAll();
        }

        synchronized void awaitIdle() throws InterruptedException {
            hurry++;
            notifyAll();
            try {
                while (!pending.isEmpty() || busy) {
                    wait();
                }
            } finally {
                hurry--;
            }
        }

        @Override
        public void run() {
            while (true) {
                MemorySegment next;
                synchronized (this) {
                    try {
                        while (pending.isEmpty() || hurry == 0 && System.nanoTime() - lastAdded < QUIET_NANOS) {
                            if (pending.isEmpty()) {
                                wait();
                            } else {
                                wait(Math.max(1, (QUIET_NANOS - (System.nanoTime() - lastAdded)) / 1_000_000));
                            }
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    next = pending.poll();
                    busy = true;
                }
                try {
                    collapse(next);
                } finally {
                    synchronized (this) {
                        busy = false;
                        notifyAll();
                    }
                }
            }
        }
    }

    /** {@link #collapseLater}'s work, now, on the calling thread. */
    static void collapse(MemorySegment s) {
        if (!COLLAPSE) {
            return;
        }
        long from = (s.address() + HUGE_PAGE - 1) & -HUGE_PAGE;
        long to = (s.address() + s.byteSize()) & -HUGE_PAGE;
        if (to > from) {
            try {
                int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(from), to - from, MADV_COLLAPSE);
            } catch (Throwable e) {
                // a hint: the copy stays on small pages
            }
        }
    }

    private static String hugePagesMode(String value) {
        return switch (value) {
            case "fault", "true" -> "fault";
            case "off", "false" -> "off";
            case "collapse" -> "collapse";
            default -> "populate";
        };
    }

    private static void unmap(long address, long bytes) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), bytes);
        } catch (Throwable e) {
            // nothing to do: the memory stays mapped until the process ends
        }
    }
}

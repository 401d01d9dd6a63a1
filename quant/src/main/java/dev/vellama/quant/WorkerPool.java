package dev.vellama.quant;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of platform threads that split a range [0, count) into contiguous parts, one per thread; the
 * calling thread runs part 0 itself. Threads spin briefly, then park, between jobs, so back-to-back kernels
 * (one per weight matrix per token) do not pay a wake-up each. Nothing is allocated per job.
 */
final class WorkerPool implements AutoCloseable {

    /** A part of a job; {@code part} (0..threads-1) indexes per-thread scratch. */
    @FunctionalInterface
    interface PartTask {
        void run(int part, int start, int end);
    }

    /**
     * Busy-wait iterations before a waiting thread yields, then parks (about 0.3 ms here): long enough to bridge
     * the kernels of one token and the gaps between them. At 256 some processes fell into a mode where the threads
     * kept parking and waking each other, and decoded a 1B Q4_0 model at 21–24 instead of 32 tokens/s (3 of 8
     * processes); at 4096 and above all ran fast. {@code -Dvellama.pool.spins} overrides it.
     */
    private static final int SPINS = Integer.getInteger("vellama.pool.spins", 16384);
    /** Thread.yield() calls after spinning and before parking. */
    private static final int YIELDS = 16;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicInteger remaining = new AtomicInteger();

    // Job fields: written by the caller before the volatile generation bump that publishes them.
    private PartTask partTask;
    private Kernels.RangeTask rangeTask;
    private int count;
    private int parts;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile int generation;
    private volatile boolean closed;

    WorkerPool(int threads, String namePrefix) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name(namePrefix + "-" + part).unstarted(() -> workLoop(part));
            workers[i].start();
        }
    }

    int threads() {
        return threads;
    }

    /** Runs task over [0, count) on at most {@code maxParts} of the threads (at least the caller's). */
    void run(int count, int maxParts, PartTask task) {
        dispatch(count, maxParts, task, null);
    }

    void run(int count, Kernels.RangeTask task) {
        dispatch(count, threads, null, task);
    }

    private void dispatch(int count, int maxParts, PartTask pt, Kernels.RangeTask rt) {
        if (count <= 0) {
            return;
        }
        int n = Math.max(1, Math.min(Math.min(threads, maxParts), count));
        // Single part, or a nested call from inside a running job: run inline rather than deadlock.
        if (n == 1 || lock.isHeldByCurrentThread() || isWorker(Thread.currentThread())) {
            invoke(pt, rt, 0, 0, count);
            return;
        }
        if (closed) {
            throw new IllegalStateException("kernels are closed");
        }
        lock.lock();
        try {
            this.partTask = pt;
            this.rangeTask = rt;
            this.count = count;
            this.parts = n;
            this.failure = null;
            this.caller = Thread.currentThread();
            remaining.set(threads - 1);
            generation = generation + 1;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            Throwable own = null;
            try {
                invoke(pt, rt, 0, 0, count / n);
            } catch (Throwable t) {
                own = t;
            }
            int spins = 0;
            while (remaining.get() != 0) {
                spins = pause(spins);
            }
            this.partTask = null;
            this.rangeTask = null;
            Throwable t = own != null ? own : failure;
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        } finally {
            lock.unlock();
        }
    }

    private static void invoke(PartTask pt, Kernels.RangeTask rt, int part, int start, int end) {
        if (start >= end) {
            return;
        }
        if (pt != null) {
            pt.run(part, start, end);
        } else {
            rt.run(start, end);
        }
    }

    private boolean isWorker(Thread t) {
        for (Thread w : workers) {
            if (w == t) {
                return true;
            }
        }
        return false;
    }

    private void workLoop(int part) {
        int seen = 0;
        while (true) {
            int spins = 0;
            int g;
            while ((g = generation) == seen) {
                if (closed) {
                    return;
                }
                spins = pause(spins);
            }
            seen = g;
            try {
                if (part < parts) {
                    long c = count;
                    invoke(partTask, rangeTask, part, (int) (c * part / parts), (int) (c * (part + 1) / parts));
                }
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                }
            }
            if (remaining.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    /** One step of waiting: spin, then yield, then park (woken by unpark or spuriously; callers re-check). */
    private int pause(int spins) {
        if (spins < SPINS) {
            Thread.onSpinWait();
        } else if (spins < SPINS + YIELDS) {
            Thread.yield();
        } else {
            LockSupport.park(this);
            return spins;
        }
        return spins + 1;
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}

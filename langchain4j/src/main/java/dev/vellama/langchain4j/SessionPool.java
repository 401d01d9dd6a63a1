package dev.vellama.langchain4j;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Function;

import dev.vellama.VellamaException;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;

/**
 * Sessions of one model lent to one call at a time: LangChain4j calls a model bean from any thread, and a Vellama
 * session is one conversation on one thread. A session kept between calls keeps its cache, so a chat whose next
 * request repeats the earlier turns only evaluates the new ones. Sessions are made when first needed, up to the
 * pool's size; a call beyond that waits for one.
 */
final class SessionPool implements AutoCloseable {
    private final Model model;
    private final SessionOptions options;
    private final BlockingQueue<Session> idle;
    private final int size;
    private int made;
    private boolean closed;

    SessionPool(Model model, SessionOptions options, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("a pool of " + size + " sessions");
        }
        this.model = model;
        this.options = options;
        this.size = size;
        this.idle = new ArrayBlockingQueue<>(size);
    }

    /** Runs {@code work} with a session of its own, returned to the pool afterwards. */
    <T> T with(Function<Session, T> work) {
        Session s = take();
        try {
            return work.apply(s);
        } finally {
            giveBack(s);
        }
    }

    /** Back to the pool, or closed when the pool closed while it was lent. */
    private synchronized void giveBack(Session s) {
        if (closed) {
            s.close();
        } else {
            idle.add(s);
        }
    }

    private Session take() {
        Session s = idle.poll();
        if (s != null) {
            return s;
        }
        synchronized (this) {
            if (closed) {
                throw new VellamaException("the model's sessions are closed");
            }
            if (made < size) {
                made++;
                return model.newSession(options);
            }
        }
        try {
            return idle.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VellamaException("interrupted while waiting for a free session", e);
        }
    }

    /**
     * Closes the idle sessions, and each lent one when it comes back (the model stays open: it belongs to whoever
     * loaded it).
     */
    @Override
    public synchronized void close() {
        closed = true;
        Session s;
        while ((s = idle.poll()) != null) {
            s.close();
        }
    }
}

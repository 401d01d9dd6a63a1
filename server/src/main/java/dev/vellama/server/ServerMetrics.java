package dev.vellama.server;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

/** HTTP requests answered, by status code; the engine keeps the token counters. */
final class ServerMetrics {
    private final Map<Integer, LongAdder> byStatus = new ConcurrentSkipListMap<>();

    void answered(int status) {
        byStatus.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    Map<Integer, LongAdder> byStatus() {
        return byStatus;
    }
}

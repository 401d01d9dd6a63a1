package dev.vellama.server;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.chat.ChatMessage;

/**
 * The Responses API's stored responses, in memory: each response with the conversation it ends (its inputs and its
 * reply, without instructions, which a follow-up does not inherit), so that {@code previous_response_id} can continue
 * it. Bounded: the least recently used go first. A replica knows only its own, so a load balancer keeps a
 * conversation on one replica (docs/scale-out.md).
 */
final class ResponseStore {
    /** A stored response and the conversation a follow-up continues. */
    record Stored(ObjectNode response, List<ChatMessage> conversation) {}

    private final Map<String, Stored> entries;

    ResponseStore(int capacity) {
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Stored> eldest) {
                return size() > capacity;
            }
        };
    }

    synchronized void put(String id, ObjectNode response, List<ChatMessage> conversation) {
        entries.put(id, new Stored(response.deepCopy(), List.copyOf(conversation)));
    }

    /** {@return the stored response, or null} */
    synchronized Stored get(String id) {
        return entries.get(id);
    }

    /** {@return whether there was one to remove} */
    synchronized boolean remove(String id) {
        return entries.remove(id) != null;
    }
}

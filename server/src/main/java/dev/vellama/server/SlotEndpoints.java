package dev.vellama.server;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.SessionFileException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * llama-server's slot routes: {@code GET /slots} (what each slot runs and holds; off with {@code --no-slots}) and
 * {@code POST /slots/{id}?action=save|restore|erase} (a slot's cache written to, or read from, a file under
 * {@code --slot-save-path}, or forgotten). Saving and restoring wait until the slot is free, as llama-server
 * defers them; the files are saved sessions ({@link dev.vellama.runtime.Session#save}).
 */
final class SlotEndpoints {
    /** A file name, not a path: no separators, no control characters, not a dot name. */
    private static final Pattern FILE_NAME = Pattern.compile("[^/\\\\\\x00-\\x1f\\x7f:]{1,255}");

    private final ServerState state;

    SlotEndpoints(ServerState state) {
        this.state = state;
    }

    /** {@code GET /slots}: one object per slot in llama-server's shape; 503 with {@code ?fail_on_no_slot=1} when all are busy. */
    void list(ServerRequest req, ServerResponse res) {
        if (!state.slotsEndpoint) {
            throw new ApiException(501, "not_supported_error", "not_supported", null,
                    "this server does not serve /slots (it was started with --no-slots)");
        }
        BatchEngine engine = state.engine();
        List<BatchEngine.SlotState> slots = engine.slotStates();
        if (req.query().contains("fail_on_no_slot") && !req.query().get("fail_on_no_slot").equals("0")
                && slots.stream().allMatch(BatchEngine.SlotState::processing)) {
            throw new ApiException(503, "unavailable_error", "no_slot_available", null, "no slot available: all "
                    + slots.size() + " are processing");
        }
        ArrayNode list = Json.MAPPER.createArrayNode();
        for (BatchEngine.SlotState s : slots) {
            ObjectNode o = list.addObject();
            o.put("id", s.slot());
            o.put("id_task", s.requestId());
            o.put("n_ctx", engine.slotContext());
            o.put("speculative", false);
            o.put("is_processing", s.processing());
            o.put("n_cached", s.cachedTokens());
            if (s.params() != null) {
                ObjectNode params = LlamaServerEndpoints.settings(s.params());
                ArrayNode lora = params.putArray("lora");
                for (int i = 0; i < s.adapterScales().size(); i++) {
                    lora.addObject().put("id", i).put("scale", s.adapterScales().get(i));
                }
                o.set("params", params);
            }
            ObjectNode next = o.putObject("next_token");
            next.put("has_next_token", s.processing());
            next.put("n_remain", s.processing() && s.params() != null && s.params().maxTokens() >= 0
                    ? s.params().maxTokens() - s.generatedTokens() : -1);
            next.put("n_decoded", s.generatedTokens());
        }
        Responses.sendJson(res, 200, list);
    }

    /** {@code POST /slots/{id}?action=save|restore|erase}. */
    void action(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        int slot = slotId(req.path().pathParameters().get("id"), engine.slotCount());
        String action = req.query().contains("action") ? req.query().get("action") : "";
        switch (action) {
            case "erase" -> {
                int n = engine.eraseSlot(slot);
                Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("id_slot", slot).put("n_erased", n));
            }
            case "save", "restore" -> transfer(req, res, engine, slot, action.equals("save"));
            default -> throw ApiException.badField("action", "'action' must be save, restore or erase, not '" + action + "'");
        }
    }

    private void transfer(ServerRequest req, ServerResponse res, BatchEngine engine, int slot, boolean save) {
        Path dir = state.slotSavePath;
        if (dir == null) {
            throw new ApiException(501, "not_supported_error", "not_supported", null,
                    "this server does not save or restore slots: start it with --slot-save-path DIR");
        }
        Json j = Json.parse(Json.body(req));
        String name = j.string("filename", null);
        if (name == null) {
            throw ApiException.badField("filename", "'filename' is required: a file name in the slot save directory");
        }
        if (!FILE_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw ApiException.badField("filename", "'filename' must be a plain file name (no path, no control characters)");
        }
        if (!engine.canSaveSlots()) {
            throw new ApiException(501, "not_supported_error", "not_supported", null,
                    "slots cannot be saved or restored on this server's device");
        }
        Path file = dir.resolve(name);
        BatchEngine.SlotFile done;
        try {
            done = save ? engine.saveSlot(slot, file) : engine.restoreSlot(slot, file);
        } catch (SessionFileException e) {
            // the message names the file; the client knows it by its name, not by the server's directory
            String message = e.getMessage().replace(file.toString(), name);
            boolean missing = !save && !java.nio.file.Files.exists(file);
            throw new ApiException(missing ? 404 : 400, "invalid_request_error", missing ? "not_found" : "invalid_value",
                    save ? null : "filename", message);
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id_slot", slot);
        o.put("filename", name);
        o.put(save ? "n_saved" : "n_restored", done.tokens());
        o.put(save ? "n_written" : "n_read", done.bytes());
        o.putObject("timings").put(save ? "save_ms" : "restore_ms", done.nanos() / 1e6);
        Responses.sendJson(res, 200, o);
    }

    private static int slotId(String text, int slots) {
        int id;
        try {
            id = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw ApiException.badField("id_slot", "the slot id must be a number, not '" + text + "'");
        }
        if (id < 0 || id >= slots) {
            throw ApiException.badField("id_slot", "there is no slot " + id + ": this server has " + slots
                    + " (0 to " + (slots - 1) + ")");
        }
        return id;
    }
}

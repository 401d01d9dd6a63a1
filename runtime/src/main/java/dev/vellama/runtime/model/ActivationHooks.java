package dev.vellama.runtime.model;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.vellama.runtime.ActivationHook;
import dev.vellama.runtime.ActivationPoint;

/**
 * The hooks a session has set, by point and layer, as the forward pass asks for them: {@link #at} is one array
 * lookup, and a pass with no hooks holds none of this (it checks one field per layer and point).
 */
public final class ActivationHooks {
    private static final ActivationHook[] NONE = new ActivationHook[0];

    private record Entry(ActivationPoint point, int layer, boolean first, ActivationHook hook) {
    }

    private final int layers;
    private final List<Entry> entries = new ArrayList<>();
    private final Map<ActivationPoint, ActivationHook[][]> table = new EnumMap<>(ActivationPoint.class);

    public ActivationHooks(int layers) {
        this.layers = layers;
        rebuild();
    }

    /**
     * Adds {@code hook} at {@code point} of {@code layer} (or every layer when {@code layer} is −1), after the
     * hooks already there, or before all of them when {@code first} (a control vector, which the residual's
     * readers see added, as llama.cpp's {@code l_out} includes it). Returns what removes it.
     */
    public Runnable add(ActivationPoint point, int layer, boolean first, ActivationHook hook) {
        if (layer < -1 || layer >= layers) {
            throw new IllegalArgumentException("layer " + layer + " of a model with " + layers + " layers");
        }
        Entry e = new Entry(point, layer, first, java.util.Objects.requireNonNull(hook, "hook"));
        entries.add(e);
        rebuild();
        return () -> {
            if (entries.remove(e)) {
                rebuild();
            }
        };
    }

    /** Removes every hook. */
    public void clear() {
        entries.clear();
        rebuild();
    }

    /** {@return whether no hook is set} */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /**
     * {@return the hooks at {@code point} of {@code layer}, in the order they run} The array is this table's own (a
     * pass reads it; nothing may change it).
     */
    public ActivationHook[] at(ActivationPoint point, int layer) {
        return table.get(point)[layer];
    }

    private void rebuild() {
        for (ActivationPoint p : ActivationPoint.values()) {
            ActivationHook[][] byLayer = new ActivationHook[layers][];
            for (int l = 0; l < layers; l++) {
                List<ActivationHook> hooks = new ArrayList<>();
                for (boolean first : new boolean[] {true, false}) {
                    for (Entry e : entries) {
                        if (e.point() == p && e.first() == first && (e.layer() == -1 || e.layer() == l)) {
                            hooks.add(e.hook());
                        }
                    }
                }
                byLayer[l] = hooks.isEmpty() ? NONE : hooks.toArray(NONE);
            }
            table.put(p, byLayer);
        }
    }
}

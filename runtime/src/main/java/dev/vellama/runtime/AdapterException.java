package dev.vellama.runtime;

import dev.vellama.VellamaException;

/** A LoRA adapter file that cannot serve this model: not an adapter, damaged, or made for another model. */
public final class AdapterException extends VellamaException {
    /**
     * Creates the exception.
     *
     * @param message what is wrong with the adapter
     */
    public AdapterException(String message) {
        super(message);
    }
}

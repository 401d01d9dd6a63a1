package dev.vellama.quant;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgmlType;

/** Thrown at load for a tensor whose type has no kernel, naming the type and the tensor. */
public final class UnsupportedTensorTypeException extends VellamaException {
    private final GgmlType type;
    private final String tensorName;

    public UnsupportedTensorTypeException(GgmlType type, String tensorName) {
        super("tensor type " + type + " is not supported yet (tensor " + tensorName + ")");
        this.type = type;
        this.tensorName = tensorName;
    }

    public GgmlType type() {
        return type;
    }

    public String tensorName() {
        return tensorName;
    }
}

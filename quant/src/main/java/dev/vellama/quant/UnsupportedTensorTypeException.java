package dev.vellama.quant;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgmlType;

/** Thrown at load for a tensor whose type has no kernel, naming the type and the tensor. */
public final class UnsupportedTensorTypeException extends VellamaException {
    /** The tensor's storage type, which has no kernel. */
    private final GgmlType type;
    /** The tensor's name in the GGUF file. */
    private final String tensorName;

    /**
     * Creates the exception with a message naming the type and the tensor.
     *
     * @param type the tensor's storage type, which has no kernel
     * @param tensorName the tensor's name in the GGUF file
     */
    public UnsupportedTensorTypeException(GgmlType type, String tensorName) {
        super("tensor type " + type + " is not supported yet (tensor " + tensorName + ")");
        this.type = type;
        this.tensorName = tensorName;
    }

    /** {@return the tensor's storage type, which has no kernel} */
    public GgmlType type() {
        return type;
    }

    /** {@return the tensor's name in the GGUF file} */
    public String tensorName() {
        return tensorName;
    }
}

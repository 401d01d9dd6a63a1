/** Tensor types and the kernels that compute with them (scalar and Vector API implementations). */
module dev.vellama.quant {
    requires transitive dev.vellama.gguf;
    requires jdk.incubator.vector;
    requires java.management; // the JVM flags, to tell whether C2 compiles the kernels

    exports dev.vellama.quant;
}

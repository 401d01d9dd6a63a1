/** The GGUF file format: reading (memory-mapped), writing, and the root of Vellama's exceptions. */
module dev.vellama.gguf {
    exports dev.vellama;
    exports dev.vellama.gguf;
}

package dev.vellama.quant;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicBoolean;

/** Picks the kernel implementation at startup from what the JVM offers and the system properties. */
final class KernelSelector {
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private KernelSelector() {}

    static Kernels create(int threads) {
        String forced = System.getProperty("vellama.kernels", "");
        if (forced.equalsIgnoreCase("scalar")) {
            return new ScalarKernels(threads);
        }
        if (!forced.isEmpty() && !forced.equalsIgnoreCase("vector")) {
            throw new IllegalArgumentException("-Dvellama.kernels must be 'scalar' or 'vector', got '" + forced + "'");
        }
        if (!vectorModulePresent()) {
            if (WARNED.compareAndSet(false, true)) {
                System.err.println("WARNING: module jdk.incubator.vector is not available; using slow scalar kernels."
                        + " Start the JVM with --add-modules jdk.incubator.vector.");
            }
            return new ScalarKernels(threads, "jdk.incubator.vector absent");
        }
        return VectorKernelsFactory.create(threads, System.getProperty("vellama.vector.bits"));
    }

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** "C2" when the optimizing compiler runs (it is what makes the Vector API fast), else what runs instead. */
    static String compilerDescription() {
        var args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        if (args.contains("-Xint")) {
            return "interpreter only (Vector API will be very slow)";
        }
        for (String a : args) {
            if (a.startsWith("-XX:TieredStopAtLevel=") && !a.endsWith("=4")) {
                return "C1 only (" + a + ", Vector API will be slow)";
            }
        }
        return "C2";
    }
}

package dev.vellama.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcalls into the CUDA driver API ({@code libcuda.so.1}) through the foreign function API, without JNI or the
 * CUDA toolkit. Only {@code cuGetProcAddress_v2} is looked up by symbol; every other entry point is resolved through
 * it for {@link #API_VERSION}, so the driver hands out the variant (e.g. {@code cuMemAlloc_v2}) whose signature
 * matches the CUDA 12 headers these bindings were written against.
 *
 * <p>Handles (contexts, modules, functions, streams, events) are opaque {@link MemorySegment} addresses; device
 * pointers are {@code long}s. Every failing call throws {@link CudaException}. Calls that set up or tear down
 * take a fresh confined arena for their out-parameters; the hot calls ({@link #launchKernel}, copies) take none.
 */
public final class CudaDriver {
    /** The CUDA version whose entry points and signatures are requested (12.0). */
    public static final int API_VERSION = 12000;
    public static final String LIBRARY = "libcuda.so.1";

    // CUdevice_attribute values used by this runtime (cuda.h)
    public static final int ATTR_MAX_THREADS_PER_BLOCK = 1;
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    /** CUfunction_attribute: the dynamic shared memory a launch may ask for. */
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    /** cuMemHostAlloc flag: memory pinned for all contexts. */
    public static final int HOST_ALLOC_PORTABLE = 1;
    /** cuStreamCreate flag: no implicit synchronisation with the legacy default stream. */
    public static final int STREAM_NON_BLOCKING = 1;
    /** cuEventCreate flag: the default, timing enabled. */
    public static final int EVENT_DEFAULT = 0;

    private static final int CUDA_SUCCESS = 0;
    private static final int CUDA_ERROR_NO_DEVICE = 100;
    private static final int PROC_ADDRESS_SUCCESS = 0;
    private static final int PROC_ADDRESS_VERSION_NOT_SUFFICIENT = 2;

    private final MethodHandle cuInit;
    private final MethodHandle getErrorName;
    private final MethodHandle getErrorString;
    private final MethodHandle driverGetVersion;
    private final MethodHandle deviceGetCount;
    private final MethodHandle deviceGet;
    private final MethodHandle deviceGetName;
    private final MethodHandle deviceGetAttribute;
    private final MethodHandle deviceTotalMem;
    private final MethodHandle primaryCtxRetain;
    private final MethodHandle primaryCtxRelease;
    private final MethodHandle ctxSetCurrent;
    private final MethodHandle ctxSynchronize;
    private final MethodHandle moduleLoadDataEx;
    private final MethodHandle moduleUnload;
    private final MethodHandle moduleGetFunction;
    private final MethodHandle funcSetAttribute;
    private final MethodHandle launchKernel;
    private final MethodHandle memAlloc;
    private final MethodHandle memFree;
    private final MethodHandle memGetInfo;
    private final MethodHandle memcpyHtoD;
    private final MethodHandle memcpyDtoH;
    private final MethodHandle memcpyDtoD;
    private final MethodHandle memcpyHtoDAsync;
    private final MethodHandle memcpyDtoHAsync;
    private final MethodHandle memsetD8;
    private final MethodHandle memHostAlloc;
    private final MethodHandle memFreeHost;
    private final MethodHandle streamCreate;
    private final MethodHandle streamSynchronize;
    private final MethodHandle streamDestroy;
    private final MethodHandle eventCreate;
    private final MethodHandle eventRecord;
    private final MethodHandle eventSynchronize;
    private final MethodHandle eventElapsedTime;
    private final MethodHandle eventDestroy;
    // CUDA graphs (stream capture); null where the driver lacks them, and then graphs are not used
    private final MethodHandle streamBeginCapture;
    private final MethodHandle streamEndCapture;
    private final MethodHandle graphInstantiate;
    private final MethodHandle graphLaunch;
    private final MethodHandle graphExecDestroy;
    private final MethodHandle graphDestroy;

    /** CUstreamCaptureMode: other threads' CUDA calls are not checked while this thread captures. */
    static final int STREAM_CAPTURE_MODE_RELAXED = 2;

    private CudaDriver(Resolver r) {
        cuInit = r.find("cuInit", JAVA_INT);
        getErrorName = r.find("cuGetErrorName", JAVA_INT, ADDRESS);
        getErrorString = r.find("cuGetErrorString", JAVA_INT, ADDRESS);
        driverGetVersion = r.find("cuDriverGetVersion", ADDRESS);
        deviceGetCount = r.find("cuDeviceGetCount", ADDRESS);
        deviceGet = r.find("cuDeviceGet", ADDRESS, JAVA_INT);
        deviceGetName = r.find("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        deviceGetAttribute = r.find("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        deviceTotalMem = r.find("cuDeviceTotalMem", ADDRESS, JAVA_INT);
        primaryCtxRetain = r.find("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        primaryCtxRelease = r.find("cuDevicePrimaryCtxRelease", JAVA_INT);
        ctxSetCurrent = r.find("cuCtxSetCurrent", ADDRESS);
        ctxSynchronize = r.find("cuCtxSynchronize");
        moduleLoadDataEx = r.find("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        moduleUnload = r.find("cuModuleUnload", ADDRESS);
        moduleGetFunction = r.find("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        funcSetAttribute = r.find("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        launchKernel = r.find("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        memAlloc = r.find("cuMemAlloc", ADDRESS, JAVA_LONG);
        memFree = r.find("cuMemFree", JAVA_LONG);
        memGetInfo = r.find("cuMemGetInfo", ADDRESS, ADDRESS);
        memcpyHtoD = r.find("cuMemcpyHtoD", JAVA_LONG, ADDRESS, JAVA_LONG);
        memcpyDtoH = r.find("cuMemcpyDtoH", ADDRESS, JAVA_LONG, JAVA_LONG);
        memcpyDtoD = r.find("cuMemcpyDtoD", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        memcpyHtoDAsync = r.find("cuMemcpyHtoDAsync", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        memcpyDtoHAsync = r.find("cuMemcpyDtoHAsync", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        memsetD8 = r.find("cuMemsetD8", JAVA_LONG, ValueLayout.JAVA_BYTE, JAVA_LONG);
        memHostAlloc = r.find("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
        memFreeHost = r.find("cuMemFreeHost", ADDRESS);
        streamCreate = r.find("cuStreamCreate", ADDRESS, JAVA_INT);
        streamSynchronize = r.find("cuStreamSynchronize", ADDRESS);
        streamDestroy = r.find("cuStreamDestroy", ADDRESS);
        eventCreate = r.find("cuEventCreate", ADDRESS, JAVA_INT);
        eventRecord = r.find("cuEventRecord", ADDRESS, ADDRESS);
        eventSynchronize = r.find("cuEventSynchronize", ADDRESS);
        eventElapsedTime = r.find("cuEventElapsedTime", ADDRESS, ADDRESS, ADDRESS);
        eventDestroy = r.find("cuEventDestroy", ADDRESS);
        streamBeginCapture = r.findOptional("cuStreamBeginCapture", ADDRESS, JAVA_INT);
        streamEndCapture = r.findOptional("cuStreamEndCapture", ADDRESS, ADDRESS);
        graphInstantiate = r.findOptional("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG);
        graphLaunch = r.findOptional("cuGraphLaunch", ADDRESS, ADDRESS);
        graphExecDestroy = r.findOptional("cuGraphExecDestroy", ADDRESS);
        graphDestroy = r.findOptional("cuGraphDestroy", ADDRESS);
    }

    /**
     * Opens the driver, initialises it and checks that there is at least one device.
     *
     * @throws CudaUnavailableException with a one-line reason when CUDA cannot be used here
     */
    public static CudaDriver load() throws CudaUnavailableException {
        return load(LIBRARY);
    }

    /** Like {@link #load()}, or empty when CUDA cannot be used (the reason is dropped). */
    public static Optional<CudaDriver> tryLoad() {
        try {
            return Optional.of(load());
        } catch (CudaUnavailableException e) {
            return Optional.empty();
        }
    }

    /** Loads a named driver library; {@link #load()} uses {@value #LIBRARY}. Visible for tests. */
    static CudaDriver load(String library) throws CudaUnavailableException {
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException("no NVIDIA driver found (" + library + ")", e);
        }
        MemorySegment getProc = lookup.find("cuGetProcAddress_v2").orElseThrow(() -> new CudaUnavailableException(
                "the NVIDIA driver in " + library + " is older than CUDA 12 (no cuGetProcAddress_v2)"));
        CudaDriver driver;
        try {
            driver = new CudaDriver(new Resolver(getProc));
        } catch (MissingEntryPointException e) {
            throw new CudaUnavailableException(e.getMessage(), e);
        }
        driver.initialise();
        return driver;
    }

    private void initialise() throws CudaUnavailableException {
        int rc;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(JAVA_INT);
            rc = init();
            if (rc == CUDA_SUCCESS) {
                rc = (int) deviceGetCount.invokeExact(count);
            }
            if (rc == CUDA_ERROR_NO_DEVICE || (rc == CUDA_SUCCESS && count.get(JAVA_INT, 0) == 0)) {
                throw new CudaUnavailableException("no CUDA device");
            }
        } catch (CudaUnavailableException e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaUnavailableException("CUDA driver call failed: " + t, t);
        }
        if (rc != CUDA_SUCCESS) {
            throw new CudaUnavailableException("the NVIDIA driver failed to initialise: " + errorName(rc) + ": " + errorString(rc));
        }
    }

    private int init() throws Throwable {
        return (int) cuInit.invokeExact(0);
    }

    // ---- errors

    /** The CUresult's name, e.g. {@code CUDA_ERROR_INVALID_VALUE}, or {@code CUresult <n>} when unknown. */
    public String errorName(int code) {
        return describe(getErrorName, code, "CUresult " + code);
    }

    /** The driver's description of a CUresult. */
    public String errorString(int code) {
        return describe(getErrorString, code, "unknown error");
    }

    private static String describe(MethodHandle h, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int rc = (int) h.invokeExact(code, out);
            MemorySegment s = out.get(ADDRESS, 0);
            if (rc != CUDA_SUCCESS || s.equals(MemorySegment.NULL)) {
                return fallback;
            }
            return s.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return fallback;
        }
    }

    private void check(int rc, String call) {
        if (rc != CUDA_SUCCESS) {
            throw new CudaException(rc, errorName(rc), errorString(rc), call);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ---- driver and devices

    /** The driver's CUDA version, e.g. 12040 for 12.4. */
    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) driverGetVersion.invokeExact(v), "cuDriverGetVersion");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) deviceGetCount.invokeExact(v), "cuDeviceGetCount");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The CUdevice handle of device {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) deviceGet.invokeExact(v, ordinal), "cuDeviceGet");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(256);
            check((int) deviceGetName.invokeExact(name, 256, device), "cuDeviceGetName");
            return name.getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A CUdevice_attribute value, e.g. {@link #ATTR_MULTIPROCESSOR_COUNT}. */
    public int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) deviceGetAttribute.invokeExact(v, attribute, device), "cuDeviceGetAttribute");
            return v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public long deviceTotalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            check((int) deviceTotalMem.invokeExact(v, device), "cuDeviceTotalMem");
            return v.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Free and total device memory of the current context's device, in bytes. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check((int) memGetInfo.invokeExact(free, total), "cuMemGetInfo");
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- contexts

    public MemorySegment primaryContextRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ctx = a.allocate(ADDRESS);
            check((int) primaryCtxRetain.invokeExact(ctx, device), "cuDevicePrimaryCtxRetain");
            return ctx.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void primaryContextRelease(int device) {
        try {
            check((int) primaryCtxRelease.invokeExact(device), "cuDevicePrimaryCtxRelease");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Binds a context to the calling thread; every other call acts on the thread's current context. */
    public void setCurrentContext(MemorySegment context) {
        try {
            check((int) ctxSetCurrent.invokeExact(context), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronizeContext() {
        try {
            check((int) ctxSynchronize.invokeExact(), "cuCtxSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- modules and launches

    /** JIT-compiles a NUL-terminated or plain PTX text for the current context's device. */
    public MemorySegment loadModule(byte[] ptx) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocate(ptx.length + 1L);
            MemorySegment.copy(ptx, 0, image, ValueLayout.JAVA_BYTE, 0, ptx.length);
            MemorySegment module = a.allocate(ADDRESS);
            check((int) moduleLoadDataEx.invokeExact(module, image, 0, MemorySegment.NULL, MemorySegment.NULL),
                    "cuModuleLoadDataEx");
            return module.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void unloadModule(MemorySegment module) {
        try {
            check((int) moduleUnload.invokeExact(module), "cuModuleUnload");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment function(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fn = a.allocate(ADDRESS);
            check((int) moduleGetFunction.invokeExact(fn, module, a.allocateFrom(name)), "cuModuleGetFunction " + name);
            return fn.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sets a CUfunction_attribute, e.g. {@link #FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    public void setFunctionAttribute(MemorySegment function, int attribute, int value) {
        try {
            check((int) funcSetAttribute.invokeExact(function, attribute, value), "cuFuncSetAttribute");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Launches a kernel. {@code params} is an array of pointers, one per kernel parameter, each pointing at the
     * parameter's value (see {@link KernelArgs}).
     */
    public void launchKernel(MemorySegment function, int gridX, int gridY, int gridZ, int blockX, int blockY,
                             int blockZ, int sharedBytes, MemorySegment stream, MemorySegment params) {
        try {
            check((int) launchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes,
                    stream, params, MemorySegment.NULL), "cuLaunchKernel");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- memory

    /** Allocates device memory; returns the device pointer. */
    public long malloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check((int) memAlloc.invokeExact(p, bytes), "cuMemAlloc of " + bytes + " bytes");
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void free(long devicePointer) {
        try {
            check((int) memFree.invokeExact(devicePointer), "cuMemFree");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyHostToDevice(long dst, MemorySegment src, long bytes) {
        try {
            check((int) memcpyHtoD.invokeExact(dst, src, bytes), "cuMemcpyHtoD");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyDeviceToHost(MemorySegment dst, long src, long bytes) {
        try {
            check((int) memcpyDtoH.invokeExact(dst, src, bytes), "cuMemcpyDtoH");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyDeviceToDevice(long dst, long src, long bytes) {
        try {
            check((int) memcpyDtoD.invokeExact(dst, src, bytes), "cuMemcpyDtoD");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Asynchronous on {@code stream}; {@code src} should be pinned ({@link #hostAlloc}) to overlap. */
    public void copyHostToDeviceAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            check((int) memcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void copyDeviceToHostAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) memcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void memset(long dst, byte value, long bytes) {
        try {
            check((int) memsetD8.invokeExact(dst, value, bytes), "cuMemsetD8");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Page-locked host memory, usable by async copies; free with {@link #freeHost}. */
    public MemorySegment hostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check((int) memHostAlloc.invokeExact(p, bytes, flags), "cuMemHostAlloc of " + bytes + " bytes");
            return p.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void freeHost(MemorySegment pinned) {
        try {
            check((int) memFreeHost.invokeExact(pinned), "cuMemFreeHost");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- streams and events

    public MemorySegment createStream(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(ADDRESS);
            check((int) streamCreate.invokeExact(s, flags), "cuStreamCreate");
            return s.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronizeStream(MemorySegment stream) {
        try {
            check((int) streamSynchronize.invokeExact(stream), "cuStreamSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyStream(MemorySegment stream) {
        try {
            check((int) streamDestroy.invokeExact(stream), "cuStreamDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public MemorySegment createEvent(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            check((int) eventCreate.invokeExact(e, flags), "cuEventCreate");
            return e.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void recordEvent(MemorySegment event, MemorySegment stream) {
        try {
            check((int) eventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void synchronizeEvent(MemorySegment event) {
        try {
            check((int) eventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Milliseconds between two recorded, completed events. */
    public float elapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ms = a.allocate(JAVA_FLOAT);
            check((int) eventElapsedTime.invokeExact(ms, start, end), "cuEventElapsedTime");
            return ms.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyEvent(MemorySegment event) {
        try {
            check((int) eventDestroy.invokeExact(event), "cuEventDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    // ---- graphs

    /** Whether the driver provides stream capture and graph launch. */
    public boolean supportsGraphs() {
        return streamBeginCapture != null && streamEndCapture != null && graphInstantiate != null
                && graphLaunch != null && graphExecDestroy != null && graphDestroy != null;
    }

    /** Starts recording the work queued on {@code stream} into a graph instead of running it. */
    public void beginCapture(MemorySegment stream) {
        try {
            check((int) streamBeginCapture.invokeExact(stream, STREAM_CAPTURE_MODE_RELAXED), "cuStreamBeginCapture");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Ends the capture begun by {@link #beginCapture}; returns the graph (a CUgraph). */
    public MemorySegment endCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocate(ADDRESS);
            check((int) streamEndCapture.invokeExact(stream, g), "cuStreamEndCapture");
            return g.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An executable instance (CUgraphExec) of a captured graph. */
    public MemorySegment instantiateGraph(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment e = a.allocate(ADDRESS);
            check((int) graphInstantiate.invokeExact(e, graph, 0L), "cuGraphInstantiateWithFlags");
            return e.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Queues one replay of an instantiated graph on {@code stream}. */
    public void launchGraph(MemorySegment graphExec, MemorySegment stream) {
        try {
            check((int) graphLaunch.invokeExact(graphExec, stream), "cuGraphLaunch");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyGraphExec(MemorySegment graphExec) {
        try {
            check((int) graphExecDestroy.invokeExact(graphExec), "cuGraphExecDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public void destroyGraph(MemorySegment graph) {
        try {
            check((int) graphDestroy.invokeExact(graph), "cuGraphDestroy");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** An entry point the driver does not provide for {@link #API_VERSION}. */
    private static final class MissingEntryPointException extends RuntimeException {
        MissingEntryPointException(String message) {
            super(message);
        }
    }

    /** Resolves driver entry points through {@code cuGetProcAddress_v2}. */
    private static final class Resolver {
        private final Linker linker = Linker.nativeLinker();
        private final MethodHandle getProcAddress;

        Resolver(MemorySegment getProc) {
            // CUresult cuGetProcAddress_v2(const char*, void**, int cudaVersion, cuuint64_t flags,
            //                              CUdriverProcAddressQueryResult*)
            getProcAddress = linker.downcallHandle(getProc,
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
        }

        /** Like {@link #find}, or null where the driver lacks the entry point. */
        MethodHandle findOptional(String symbol, java.lang.foreign.MemoryLayout... args) {
            try {
                return find(symbol, args);
            } catch (MissingEntryPointException e) {
                return null;
            }
        }

        /** A downcall returning CUresult with the given argument layouts. */
        MethodHandle find(String symbol, java.lang.foreign.MemoryLayout... args) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment fn = a.allocate(ADDRESS);
                MemorySegment status = a.allocate(JAVA_INT);
                int rc = (int) getProcAddress.invokeExact(a.allocateFrom(symbol), fn, API_VERSION, 0L, status);
                int found = status.get(JAVA_INT, 0);
                MemorySegment address = fn.get(ADDRESS, 0);
                if (rc != CUDA_SUCCESS || found != PROC_ADDRESS_SUCCESS || address.equals(MemorySegment.NULL)) {
                    String why = found == PROC_ADDRESS_VERSION_NOT_SUFFICIENT ? "needs a newer driver" : "not found";
                    throw new MissingEntryPointException("the NVIDIA driver does not provide " + symbol
                            + " for CUDA " + API_VERSION / 1000 + "." + API_VERSION % 1000 / 10 + " (" + why
                            + ", CUresult " + rc + ")");
                }
                return linker.downcallHandle(address, FunctionDescriptor.of(JAVA_INT, args));
            } catch (MissingEntryPointException e) {
                throw e;
            } catch (Throwable t) {
                throw new MissingEntryPointException("cuGetProcAddress failed for " + symbol + ": " + t);
            }
        }
    }
}

package org.varitune.transformer.kernels.cuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

import static org.varitune.transformer.kernels.cuda.CudaErrors.check;

/**
 * One CUDA device in use: its primary context, one stream, the PTX modules (loaded on first use with
 * {@code cuModuleLoadData}; the driver JITs the compute_80 PTX for the device), the kernel functions, and a
 * {@link DeviceMemoryPool} of device buffers. Every method makes the context current on the calling thread first; the
 * class is not thread-safe (callers serialise, as {@link CudaKernels} does).
 *
 * <p>Errors: every driver call's CUresult goes through {@link CudaErrors}; launches are asynchronous, so a fault inside a
 * kernel surfaces at the next {@link #synchronize}, whose message names the last kernel launched and its shape. With
 * {@code -Dvaritune.cuda.syncEachLaunch=true} every launch is synchronised, which pins a fault to its kernel.
 */
public final class CudaContext implements AutoCloseable {
    private static final boolean SYNC_EACH_LAUNCH = Boolean.getBoolean("varitune.cuda.syncEachLaunch");

    private final Device device;
    private final CUdevice cuDevice = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<PtxModule, CUmodule> modules = new EnumMap<>(PtxModule.class);
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final DeviceMemoryPool<CUdeviceptr> pool;
    private final String name;
    private final int computeMajor, computeMinor, driverVersion;
    private String lastLaunch = "(no kernel launched yet)";
    private boolean closed;

    private CudaContext(Device device) {
        this.device = device;
        int ordinal = device.index();
        check(JCudaDriver.cuDeviceGet(cuDevice, ordinal), () -> "cuDeviceGet(" + ordinal + ")");
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, cuDevice), () -> "cuDevicePrimaryCtxRetain(" + device + ")");
        check(JCudaDriver.cuCtxSetCurrent(context), () -> "cuCtxSetCurrent(" + device + ")");
        check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
        byte[] nameBytes = new byte[256];
        check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, cuDevice), "cuDeviceGetName");
        int len = 0;
        while (len < nameBytes.length && nameBytes[len] != 0) len++;
        this.name = new String(nameBytes, 0, len, StandardCharsets.US_ASCII);
        this.computeMajor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.computeMinor = attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        int[] v = new int[1];
        check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
        this.driverVersion = v[0];
        this.pool = new DeviceMemoryPool<>(new DeviceMemoryPool.Allocator<>() {
            @Override public CUdeviceptr allocate(long bytes) {
                CUdeviceptr p = new CUdeviceptr();
                check(JCudaDriver.cuMemAlloc(p, bytes), () -> "cuMemAlloc(" + bytes + " bytes) on " + device);
                return p;
            }
            @Override public void free(CUdeviceptr p) {
                check(JCudaDriver.cuMemFree(p), () -> "cuMemFree on " + device);
            }
        });
    }

    /**
     * Opens {@code device} (a {@code cuda:N}); fails with an {@link IllegalStateException} saying why when CUDA is
     * unavailable or N is beyond the device count.
     */
    public static CudaContext open(Device device) {
        device.requireCuda();
        return new CudaContext(device);
    }

    private int attribute(int attr) {
        int[] v = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(v, attr, cuDevice), () -> "cuDeviceGetAttribute(" + attr + ")");
        return v[0];
    }

    public Device device() { return device; }
    /** The device's name, e.g. {@code NVIDIA H100 80GB HBM3}. */
    public String deviceName() { return name; }
    /** Compute capability, e.g. {@code 9.0}. */
    public String computeCapability() { return computeMajor + "." + computeMinor; }
    public int computeMajor() { return computeMajor; }
    /** The driver's CUDA version as {@code cuDriverGetVersion} reports it, e.g. 13000. */
    public int driverVersion() { return driverVersion; }
    public DeviceMemoryPool<CUdeviceptr> pool() { return pool; }

    /** Makes this context current on the calling thread. */
    public void makeCurrent() {
        if (closed) throw new IllegalStateException("CUDA context of " + device + " is closed");
        check(JCudaDriver.cuCtxSetCurrent(context), () -> "cuCtxSetCurrent(" + device + ")");
    }

    /** The kernel {@code entry} of {@code module}, loading the module on first use. */
    public CUfunction function(PtxModule module, String entry) {
        String key = module.file() + "/" + entry;
        CUfunction f = functions.get(key);
        if (f != null) return f;
        CUmodule m = modules.get(module);
        if (m == null) {
            String ptx = module.readPtx();
            byte[] text = (ptx + "\0").getBytes(StandardCharsets.UTF_8);
            CUmodule loaded = new CUmodule();
            String header = ptx.substring(0, Math.max(0, ptx.indexOf('\n')));
            check(JCudaDriver.cuModuleLoadData(loaded, text), () -> "cuModuleLoadData(" + module.resource() + ", "
                    + header + ") on " + device + " (" + name + ", sm_" + computeMajor + computeMinor + ", driver CUDA "
                    + driverVersion + ")");
            modules.put(module, loaded);
            m = loaded;
        }
        f = new CUfunction();
        CUmodule mm = m;
        check(JCudaDriver.cuModuleGetFunction(f, mm, entry), () -> "cuModuleGetFunction(" + entry + ") in " + module.resource());
        functions.put(key, f);
        return f;
    }

    /**
     * Launches {@code entry} of {@code module} on this context's stream. Arguments, in the kernel's order: a
     * {@link DeviceMemoryPool.Buffer} or {@link CUdeviceptr} (a device pointer), {@code null} (a null pointer), or an
     * {@link Integer}, {@link Long}, {@link Float} or {@link Double} (by value; a Long is also how a 64-bit unsigned is
     * passed).
     */
    public void launch(PtxModule module, String entry, LaunchShape shape, Object... args) {
        CUfunction f = function(module, entry);
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) params[i] = param(args[i], entry, i);
        String what = CudaErrors.launch(module, entry, shape);
        lastLaunch = what;
        check(JCudaDriver.cuLaunchKernel(f, shape.gridX(), shape.gridY(), shape.gridZ(), shape.blockX(), shape.blockY(),
                shape.blockZ(), shape.sharedBytes(), stream, Pointer.to(params), null), () -> "launch of " + what);
        if (SYNC_EACH_LAUNCH) synchronize();
    }

    private static Pointer param(Object a, String entry, int i) {
        if (a == null) return Pointer.to(new CUdeviceptr());
        if (a instanceof DeviceMemoryPool.Buffer<?> b) return Pointer.to((CUdeviceptr) b.handle());
        if (a instanceof CUdeviceptr p) return Pointer.to(p);
        if (a instanceof Integer v) return Pointer.to(new int[] {v});
        if (a instanceof Long v) return Pointer.to(new long[] {v});
        if (a instanceof Float v) return Pointer.to(new float[] {v});
        if (a instanceof Double v) return Pointer.to(new double[] {v});
        throw new IllegalArgumentException("kernel " + entry + " argument " + i + ": unsupported type " + a.getClass().getName());
    }

    /** Waits for the stream; a failure names the last kernel launched (asynchronous errors surface here). */
    public void synchronize() {
        check(JCudaDriver.cuStreamSynchronize(stream), () -> "cuStreamSynchronize after " + lastLaunch);
    }

    /** A buffer holding a copy of {@code host[0, n)}. */
    public DeviceMemoryPool.Buffer<CUdeviceptr> upload(float[] host, int n, String tag) {
        var b = pool.acquire((long) n * Float.BYTES, tag);
        if (n > 0) check(JCudaDriver.cuMemcpyHtoD(b.handle(), Pointer.to(host), (long) n * Float.BYTES), () -> "upload of " + tag);
        return b;
    }

    /** A buffer holding a copy of {@code host[0, n)}. */
    public DeviceMemoryPool.Buffer<CUdeviceptr> upload(int[] host, int n, String tag) {
        var b = pool.acquire((long) n * Integer.BYTES, tag);
        if (n > 0) check(JCudaDriver.cuMemcpyHtoD(b.handle(), Pointer.to(host), (long) n * Integer.BYTES), () -> "upload of " + tag);
        return b;
    }

    /** A buffer holding a copy of {@code host[0, n)}. */
    public DeviceMemoryPool.Buffer<CUdeviceptr> upload(double[] host, int n, String tag) {
        var b = pool.acquire((long) n * Double.BYTES, tag);
        if (n > 0) check(JCudaDriver.cuMemcpyHtoD(b.handle(), Pointer.to(host), (long) n * Double.BYTES), () -> "upload of " + tag);
        return b;
    }

    /** An uninitialised buffer of {@code bytes}. */
    public DeviceMemoryPool.Buffer<CUdeviceptr> scratch(long bytes, String tag) { return pool.acquire(bytes, tag); }

    /** Copies {@code n} floats from {@code b} into {@code host[0, n)} (waits for the stream first). Modifies host. */
    public void download(DeviceMemoryPool.Buffer<CUdeviceptr> b, float[] host, int n) {
        synchronize();
        if (n > 0) check(JCudaDriver.cuMemcpyDtoH(Pointer.to(host), b.handle(), (long) n * Float.BYTES), () -> "download of " + b.tag());
    }

    /** Copies {@code n} doubles from {@code b} into {@code host[0, n)} (waits for the stream first). Modifies host. */
    public void download(DeviceMemoryPool.Buffer<CUdeviceptr> b, double[] host, int n) {
        synchronize();
        if (n > 0) check(JCudaDriver.cuMemcpyDtoH(Pointer.to(host), b.handle(), (long) n * Double.BYTES), () -> "download of " + b.tag());
    }

    /** Returns buffers to the pool (nulls ignored). */
    @SafeVarargs
    public final void release(DeviceMemoryPool.Buffer<CUdeviceptr>... buffers) {
        for (var b : buffers) pool.release(b);
    }

    /** Frees all device memory, unloads the modules, releases the context. A leak check failure is thrown last. */
    @Override
    public void close() {
        if (closed) return;
        makeCurrent();
        RuntimeException failure = null;
        try {
            synchronize();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            pool.close();
        } catch (RuntimeException e) {
            if (failure == null) failure = e; else failure.addSuppressed(e);
        }
        for (CUmodule m : modules.values()) JCudaDriver.cuModuleUnload(m);
        modules.clear();
        functions.clear();
        JCudaDriver.cuStreamDestroy(stream);
        JCudaDriver.cuDevicePrimaryCtxRelease(cuDevice);
        closed = true;
        if (failure != null) throw failure;
    }

    @Override
    public String toString() {
        return device + " (" + name + ", compute " + computeCapability() + ", driver CUDA " + driverVersion / 1000 + "."
                + (driverVersion % 1000) / 10 + ")";
    }
}

package org.varitune.transformer.kernels.cuda;

import jcuda.driver.CUresult;

import java.util.function.Supplier;

/**
 * Turns CUresult codes into {@link CudaException}s whose messages say what was called (kernel name and launch shape
 * for launches), the code's name and number, and what usually causes it. {@link CUresult#stringFor} is plain Java, so
 * this class works (and is tested) without a GPU or the native library.
 */
public final class CudaErrors {
    private CudaErrors() {}

    /** CUresult success. */
    public static final int SUCCESS = 0;

    /** {@code "CUDA_ERROR_OUT_OF_MEMORY (2)"}; unknown codes read {@code "unknown CUresult (n)"}. */
    public static String describe(int code) {
        String name = CUresult.stringFor(code);
        if (name == null || name.startsWith("INVALID CUresult")) name = "unknown CUresult";
        return name + " (" + code + ")";
    }

    /** What usually causes {@code code} in this backend, or an empty string. */
    public static String hint(int code) {
        switch (code) {
            case CUresult.CUDA_ERROR_OUT_OF_MEMORY:
                return "device memory exhausted: lower the batch size or sequence length, or free pooled buffers";
            case CUresult.CUDA_ERROR_NO_DEVICE:
                return "no CUDA-capable device is visible (check CUDA_VISIBLE_DEVICES and the driver)";
            case CUresult.CUDA_ERROR_INVALID_DEVICE:
                return "no device with this ordinal: use cuda:N with N below the device count";
            case CUresult.CUDA_ERROR_INVALID_PTX:
            case CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
            case CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU:
            case CUresult.CUDA_ERROR_JIT_COMPILER_NOT_FOUND:
                return "the driver cannot JIT this PTX: it needs a driver at least as new as the nvcc named in the "
                        + "PTX header (rebuild with tools/cuda/build_ptx.sh using an older nvcc, or update the driver)";
            case CUresult.CUDA_ERROR_NOT_FOUND:
                return "no kernel of that name in the module: the PTX is stale or the entry name is misspelt";
            case CUresult.CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES:
                return "the block needs more registers or shared memory than the device gives: use a smaller block";
            case CUresult.CUDA_ERROR_INVALID_VALUE:
                return "an argument is out of range (for a launch: grid, block or shared memory beyond the limits)";
            case CUresult.CUDA_ERROR_ILLEGAL_ADDRESS:
            case CUresult.CUDA_ERROR_LAUNCH_FAILED:
                return "a kernel read or wrote out of bounds; the context is now unusable: close it and open a new one";
            case CUresult.CUDA_ERROR_NOT_INITIALIZED:
            case CUresult.CUDA_ERROR_INVALID_CONTEXT:
                return "no current context on this thread: use the backend through its own methods";
            default:
                return "";
        }
    }

    /** The message for a failed call: {@code "<what> failed: <describe(code)>; <hint>"}. */
    public static String message(int code, String what) {
        String h = hint(code);
        return what + " failed: " + describe(code) + (h.isEmpty() ? "" : "; " + h);
    }

    /** Throws a {@link CudaException} when {@code code} is not success; {@code what} names the call. */
    public static void check(int code, String what) {
        if (code != SUCCESS) throw new CudaException(message(code, what), code);
    }

    /** As {@link #check(int, String)}, building the description only on failure. */
    public static void check(int code, Supplier<String> what) {
        if (code != SUCCESS) throw new CudaException(message(code, what.get()), code);
    }

    /** The description of a kernel launch in messages: {@code "kernel sgemm_nt_f32 (matmul.ptx) grid(...) ..."}. */
    public static String launch(PtxModule module, String kernel, LaunchShape shape) {
        return "kernel " + kernel + " (" + module.file() + ".ptx) " + shape;
    }
}

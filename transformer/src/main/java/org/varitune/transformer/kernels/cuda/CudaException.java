package org.varitune.transformer.kernels.cuda;

/**
 * A failed CUDA driver call or kernel launch. The message names the call or kernel, the launch shape where there is
 * one, the CUresult name and code, and a hint for the common causes; {@link #code()} is the raw CUresult (0 when the
 * failure is not a driver error code, e.g. the library did not load).
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.code = 0;
    }

    /** The CUresult code, 0 when not applicable. */
    public int code() { return code; }
}

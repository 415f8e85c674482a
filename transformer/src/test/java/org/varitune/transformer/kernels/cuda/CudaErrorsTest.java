package org.varitune.transformer.kernels.cuda;

import jcuda.driver.CUresult;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CUresult codes become exceptions that name the call, the code and a hint; no GPU or native library involved. */
class CudaErrorsTest {

    @Test
    void describesCodesByNameAndNumber() {
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY (2)", CudaErrors.describe(CUresult.CUDA_ERROR_OUT_OF_MEMORY));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS (700)", CudaErrors.describe(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS));
        assertEquals("unknown CUresult (123456)", CudaErrors.describe(123456));
    }

    @Test
    void successPassesAndFailureThrowsWithCallCodeAndHint() {
        assertDoesNotThrow(() -> CudaErrors.check(CudaErrors.SUCCESS, "cuMemAlloc"));
        var e = assertThrows(CudaException.class, () -> CudaErrors.check(CUresult.CUDA_ERROR_OUT_OF_MEMORY, "cuMemAlloc(1024 bytes) on cuda:0"));
        assertEquals(CUresult.CUDA_ERROR_OUT_OF_MEMORY, e.code());
        assertTrue(e.getMessage().startsWith("cuMemAlloc(1024 bytes) on cuda:0 failed: CUDA_ERROR_OUT_OF_MEMORY (2); "), e.getMessage());
        assertTrue(e.getMessage().contains("batch size"), e.getMessage());
    }

    @Test
    void launchFailuresNameKernelModuleAndShape() {
        LaunchShape shape = LaunchShape.tiles(100, 200, 64, 64, 16, 16);
        String what = "launch of " + CudaErrors.launch(PtxModule.MATMUL, "sgemm_nt_f32", shape);
        var e = assertThrows(CudaException.class, () -> CudaErrors.check(CUresult.CUDA_ERROR_INVALID_VALUE, () -> what));
        assertEquals("launch of kernel sgemm_nt_f32 (matmul.ptx) grid(4, 2, 1) block(16, 16, 1) smem 0 B failed: "
                + "CUDA_ERROR_INVALID_VALUE (1); " + CudaErrors.hint(CUresult.CUDA_ERROR_INVALID_VALUE), e.getMessage());
    }

    @Test
    void ptxJitFailuresPointAtTheBuildScriptAndDriver() {
        for (int code : new int[] {CUresult.CUDA_ERROR_INVALID_PTX, CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
                CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU}) {
            assertTrue(CudaErrors.hint(code).contains("build_ptx.sh"), CudaErrors.describe(code));
        }
        assertTrue(CudaErrors.hint(CUresult.CUDA_ERROR_ILLEGAL_ADDRESS).contains("unusable"));
        assertEquals("", CudaErrors.hint(CUresult.CUDA_ERROR_NOT_PERMITTED));
    }
}

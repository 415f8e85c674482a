/**
 * The GPU backend through JCuda's driver API: {@link org.varitune.transformer.kernels.cuda.CudaKernels} implements
 * {@link org.varitune.transformer.kernels.Kernels} with CUDA kernels of our own.
 *
 * <ul>
 *   <li>Sources: {@code transformer/src/main/cuda/*.cu}, one op per file, each with a header saying what it computes,
 *       its shapes, launch, and the CPU method it mirrors.</li>
 *   <li>PTX: {@code tools/cuda/build_ptx.sh} compiles them with nvcc to portable {@code compute_80} PTX under
 *       {@code src/main/resources/org/varitune/transformer/kernels/cuda/}, committed; line 1 of each holds the SHA-256 of
 *       its source, and {@code PtxFreshnessTest} fails when a source changed without a rebuild. At run time the driver
 *       JITs the PTX for the device ({@code cuModuleLoadData}); only {@code libcuda.so.1} is needed (no NVRTC, cuBLAS or
 *       CUDA runtime, whose JCuda 12 bindings would not load against a CUDA 13 driver install).</li>
 *   <li>Host side: {@link org.varitune.transformer.kernels.cuda.Device} ({@code cpu | cuda | cuda:N}, quiet probe),
 *       {@link org.varitune.transformer.kernels.cuda.CudaContext} (context, stream, modules, launches),
 *       {@link org.varitune.transformer.kernels.cuda.DeviceMemoryPool} (size-class reuse, leak check),
 *       {@link org.varitune.transformer.kernels.cuda.CudaErrors} (CUresult to exceptions naming kernel and shape),
 *       {@link org.varitune.transformer.kernels.cuda.LaunchShape} (limits checked on the host).</li>
 *   <li>Tests: host-side ones run everywhere; {@code CudaKernelsParityTest} is tagged {@code gpu} and skips with the
 *       reason without a device. {@code tools/cuda/gpu_check.sh} runs the device checks and {@code CudaBench} in one go.</li>
 * </ul>
 *
 * Status: compiled and host-tested without a GPU; the kernels themselves have not yet run on a device (see the
 * PROVISIONAL tolerances in the tests' {@code CudaTolerances}).
 */
package org.varitune.transformer.kernels.cuda;

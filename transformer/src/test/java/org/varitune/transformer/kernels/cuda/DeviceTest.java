package org.varitune.transformer.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --device} parsing and the quiet CUDA probe (which runs here, with or without a driver). */
class DeviceTest {

    @Test
    void parsesCpuCudaAndCudaWithOrdinal() {
        assertEquals(Device.CPU, Device.parse("cpu"));
        assertEquals(Device.cuda(0), Device.parse("cuda"));
        assertEquals(Device.cuda(0), Device.parse("cuda:0"));
        assertEquals(Device.cuda(3), Device.parse(" CUDA:3 "));
        assertEquals("cuda:3", Device.cuda(3).toString());
        assertEquals("cpu", Device.CPU.toString());
        assertEquals(Device.cuda(7), Device.parse(Device.cuda(7).toString()));
    }

    @Test
    void rejectsMalformedDevicesQuotingTheText() {
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1:2", "cuda0", "", "cpu:0", "cuda:99999"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'") && e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Device.parse(null));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.CUDA, -1));
        assertThrows(IllegalArgumentException.class, () -> new Device(Device.Kind.CPU, 1));
    }

    @Test
    void probeIsConsistentAndGivesAOneLineReasonWhenUnavailable() {
        boolean available = Device.cudaAvailable();
        String reason = Device.unavailableReason();
        if (available) {
            assertNull(reason);
            assertTrue(Device.deviceCount() >= 1);
        } else {
            assertNotNull(reason);
            assertFalse(reason.isBlank());
            assertFalse(reason.contains("\n"), "reason must be one line: " + reason);
            assertEquals(0, Device.deviceCount());
        }
    }

    @Test
    void openingCudaWithoutADriverFailsWithTheReason() {
        Assumptions.assumeFalse(Device.cudaAvailable(), "CUDA is available here");
        var e = assertThrows(IllegalStateException.class, () -> Device.parse("cuda:0").kernels());
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains(Device.unavailableReason()), e.getMessage());
        var e2 = assertThrows(IllegalStateException.class, () -> CudaContext.open(Device.cuda(1)));
        assertTrue(e2.getMessage().contains("cuda:1"), e2.getMessage());
    }

    @Test
    void ordinalBeyondTheDeviceCountIsRejected() {
        Assumptions.assumeTrue(Device.cudaAvailable(), () -> "no CUDA device: " + Device.unavailableReason());
        int n = Device.deviceCount();
        var e = assertThrows(IllegalStateException.class, () -> Device.cuda(n).requireCuda());
        assertTrue(e.getMessage().contains("only " + n), e.getMessage());
    }

    @Test
    void kernelsSystemPropertyAcceptsCudaAndSaysWhyItCannotOpen() {
        Assumptions.assumeFalse(Device.cudaAvailable(), "CUDA is available here");
        String saved = System.getProperty("kernels");
        try {
            System.setProperty("kernels", "cuda:0");
            var e = assertThrows(IllegalStateException.class, Kernels::fromSystemProperty);
            assertTrue(e.getMessage().contains(Device.unavailableReason()), e.getMessage());
            System.setProperty("kernels", "gpu");
            var e2 = assertThrows(IllegalArgumentException.class, Kernels::fromSystemProperty);
            assertTrue(e2.getMessage().contains("cuda:N"), e2.getMessage());
        } finally {
            if (saved == null) System.clearProperty("kernels"); else System.setProperty("kernels", saved);
        }
    }

    @Test
    void cpuDeviceOpensTheFastCpuKernels() {
        assertTrue(Device.CPU.kernels().name().startsWith("fast("));
        assertThrows(IllegalStateException.class, Device.CPU::requireCuda);
    }

    @Test
    void condensesJCudasMultiTraceLinkErrorToTheMissingLibrary() {
        String msg = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib\n"
                + "\tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2434)\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open "
                + "shared object file: No such file or directory\n\tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)\n";
        String r = Device.conciseReason(new UnsatisfiedLinkError(msg));
        assertEquals("JCuda's driver library did not load: libcuda.so.1: cannot open shared object file: No such file or "
                + "directory (no NVIDIA driver on this machine)", r);
        assertEquals("NoClassDefFoundError: Could not initialize class jcuda.driver.JCudaDriver",
                Device.conciseReason(new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver\nmore")));
    }
}

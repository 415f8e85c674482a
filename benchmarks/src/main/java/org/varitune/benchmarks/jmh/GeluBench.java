package org.varitune.benchmarks.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.varitune.transformer.kernels.Kernels;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Exact GELU on the FFN's hidden activations (rows × width, width = 4 × hidden): {@code forward} is
 * {@code y = 0.5·x·(1 + erf(x/√2))}, {@code backward} is {@code dX += dOut·(Φ(x) + x·φ(x))}. Rows = batch 32 × seq 128.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GeluBench {
    @Param({"1536", "3072"}) public int width;
    @Param("4096") public int rows;
    @Param("fast") public String kernels;

    private Kernels k;
    private int n;
    private float[] x, y, dOut, dX;

    @Setup
    public void setUp() {
        k = Inputs.kernels(kernels);
        n = rows * width;
        Random r = new Random(1);
        x = Inputs.uniform(r, n);
        dOut = Inputs.uniform(r, n);
        y = new float[n];
        dX = new float[n];
    }

    @Benchmark
    public float[] forward() {
        k.geluForward(y, x, n);
        return y;
    }

    @Benchmark
    public float[] backward() {
        k.geluBackward(dX, x, dOut, n);
        return dX;
    }
}

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
 * LayerNorm over rows of width C: {@code forward} is {@code out = (x − mean)·rstd·w + b} (saving mean and rstd),
 * {@code backward} is {@code dX += rstd·(dnorm − mean(dnorm) − norm·mean(dnorm⊙norm))}, {@code dW += Σ norm⊙dOut},
 * {@code dB += Σ dOut} with {@code dnorm = w⊙dOut}. Rows = batch 32 × seq 128.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LayerNormBench {
    @Param({"384", "768"}) public int width;
    @Param("4096") public int rows;
    @Param("fast") public String kernels;

    private Kernels k;
    private float[] x, w, b, out, mean, rstd, dOut, dX, dW, dB;

    @Setup
    public void setUp() {
        k = Inputs.kernels(kernels);
        Random r = new Random(1);
        x = Inputs.uniform(r, rows * width);
        w = Inputs.uniform(r, width);
        b = Inputs.uniform(r, width);
        dOut = Inputs.uniform(r, rows * width);
        out = new float[rows * width];
        mean = new float[rows];
        rstd = new float[rows];
        dX = new float[rows * width];
        dW = new float[width];
        dB = new float[width];
        k.layerNormForward(out, mean, rstd, x, w, b, rows, width, 1e-12f);    // backward reads the saved statistics
    }

    @Benchmark
    public float[] forward() {
        k.layerNormForward(out, mean, rstd, x, w, b, rows, width, 1e-12f);
        return out;
    }

    @Benchmark
    public float[] backward() {
        k.layerNormBackward(dX, dW, dB, dOut, x, mean, rstd, w, rows, width);
        return dX;
    }
}

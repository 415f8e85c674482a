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
 * The Linear layer's GEMMs at the encoder shapes: {@code forward} is {@code out = x·Wᵀ + b} (2·N·IC·OC FLOP),
 * {@code backward} is {@code dX += dOut·W; dW += dOutᵀ·x; dB += Σ dOut} (4·N·IC·OC FLOP). GFLOP/s = FLOP / (ms/op · 1e6).
 * Shapes IC×OC: attention projections, FFN up and FFN down of 384-wide (e5-small-v2, MiniLM) and 768-wide (BERT-base)
 * encoders; N = rows = batch 32 × seq 128.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GemmBench {
    @Param({"384x384", "384x1536", "1536x384", "768x768", "768x3072", "3072x768"}) public String shape;
    @Param("4096") public int rows;
    @Param("fast") public String kernels;

    private Kernels k;
    private int n, ic, oc;
    private float[] x, w, b, out, dOut, dX, dW, dB;

    @Setup
    public void setUp() {
        int[] s = Inputs.pair("shape", shape);
        n = rows;
        ic = s[0];
        oc = s[1];
        k = Inputs.kernels(kernels);
        Random r = new Random(1);
        x = Inputs.uniform(r, n * ic);
        w = Inputs.uniform(r, oc * ic);
        b = Inputs.uniform(r, oc);
        dOut = Inputs.uniform(r, n * oc);
        out = new float[n * oc];
        dX = new float[n * ic];
        dW = new float[oc * ic];
        dB = new float[oc];
    }

    @Benchmark
    public float[] forward() {
        k.matmulForward(out, x, w, b, n, ic, oc);
        return out;
    }

    @Benchmark
    public float[] backward() {
        k.matmulBackward(dX, dW, dB, dOut, x, w, n, ic, oc);
        return dW;
    }
}

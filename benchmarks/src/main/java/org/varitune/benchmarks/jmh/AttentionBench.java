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
 * Fused multi-head attention on projected Q/K/V: {@code forward} is {@code att = softmax(Q·Kᵀ/√D + mask)},
 * {@code out = att·V} (4·B·H·T²·D FLOP); {@code backward} is {@code dV += attᵀ·dO}, {@code dAtt = dO·Vᵀ},
 * {@code dPre = att⊙(dAtt − rowsum(att⊙dAtt))}, {@code dQ += dPre·K/√D}, {@code dK += dPreᵀ·Q/√D} (8·B·H·T²·D).
 * Heads H×D: 12×32 (e5-small-v2, MiniLM) and 12×64 (BERT-base); every odd sequence has its last quarter padded.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AttentionBench {
    @Param({"12x32", "12x64"}) public String heads;
    @Param("32") public int batch;
    @Param("128") public int seq;
    @Param("fast") public String kernels;

    private Kernels k;
    private int h, d;
    private float[] q, kk, v, out, att, dO, dQ, dK, dV;
    private int[] mask;

    @Setup
    public void setUp() {
        int[] hd = Inputs.pair("heads", heads);
        h = hd[0];
        d = hd[1];
        k = Inputs.kernels(kernels);
        int n = batch * seq * h * d;
        Random r = new Random(1);
        q = Inputs.uniform(r, n);
        kk = Inputs.uniform(r, n);
        v = Inputs.uniform(r, n);
        dO = Inputs.uniform(r, n);
        out = new float[n];
        dQ = new float[n];
        dK = new float[n];
        dV = new float[n];
        att = new float[batch * h * seq * seq];
        mask = new int[batch * seq];
        for (int i = 0; i < mask.length; i++) mask[i] = (i / seq) % 2 == 1 && i % seq >= seq - seq / 4 ? 0 : 1;
        k.attentionForward(out, att, q, kk, v, mask, batch, seq, h, d);      // backward reads real probabilities
    }

    @Benchmark
    public float[] forward() {
        k.attentionForward(out, att, q, kk, v, mask, batch, seq, h, d);
        return out;
    }

    @Benchmark
    public float[] backward() {
        k.attentionBackward(dQ, dK, dV, dO, q, kk, v, att, batch, seq, h, d);
        return dQ;
    }
}

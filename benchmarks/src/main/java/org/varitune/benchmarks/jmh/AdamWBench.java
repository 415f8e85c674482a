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
import org.varitune.training.AdamW;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One {@link AdamW#step} (torch semantics, weight decay 0.01 on the decay group) over the parameters of one encoder
 * layer of hidden size {@code hidden}: Q, K, V and output projections (hidden²) and the FFN (2·4·hidden²) with their
 * biases, and two LayerNorms; 12·hidden² + 13·hidden floats (7.1 M for BERT-base). Grads are random and fixed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class AdamWBench {
    @Param({"384", "768"}) public int hidden;

    private AdamW adamw;
    private List<Parameter> params;

    @Setup
    public void setUp() {
        int h = hidden, f = 4 * hidden;
        params = new ArrayList<>();
        Random r = new Random(1);
        String[] linears = {"attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "intermediate.dense", "output.dense"};
        int[][] outIn = {{h, h}, {h, h}, {h, h}, {h, h}, {f, h}, {h, f}};
        for (int i = 0; i < linears.length; i++) {
            int out = outIn[i][0], in = outIn[i][1];
            params.add(new Parameter(linears[i] + ".weight", true, Inputs.uniform(r, out * in), out, in));
            params.add(new Parameter(linears[i] + ".bias", false, Inputs.uniform(r, out), out));
        }
        for (String ln : new String[] {"attention.output.LayerNorm", "output.LayerNorm"}) {
            params.add(new Parameter(ln + ".weight", false, Inputs.uniform(r, h), h));
            params.add(new Parameter(ln + ".bias", false, Inputs.uniform(r, h), h));
        }
        for (Parameter p : params) System.arraycopy(Inputs.uniform(r, p.numel()), 0, p.grad(), 0, p.numel());
        adamw = AdamW.withDefaults(params, 0.01);
        adamw.step(2e-5);                              // allocates the moments: the benchmark times steady steps
    }

    @Benchmark
    public List<Parameter> step() {
        adamw.step(2e-5);
        return params;
    }
}

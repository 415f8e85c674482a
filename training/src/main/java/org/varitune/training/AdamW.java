package org.varitune.training;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.varitune.transformer.kernels.NativeAdamW;
import org.varitune.transformer.tensor.Parameter;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with torch's ({@code torch.optim.AdamW}, 1.13) semantics and HF Trainer's two parameter groups. Per element,
 * at a parameter's step t = 1, 2, ...:
 * <pre>
 *   p ← p·(1 − lr·wd)                                  // decoupled decay first, on the pre-update value
 *   m ← β1·m + (1 − β1)·g ;  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr/(1 − β1ᵗ))·m / (√v/√(1 − β2ᵗ) + eps)    // eps after the bias correction of √v
 * </pre>
 * {@code wd} is {@code weightDecay} for parameters in HF Trainer's decay group ({@link Parameter#weightDecay()}: all
 * but biases and LayerNorm parameters, as the module that made each parameter says) and 0 otherwise. A
 * parameter is stepped only when it is trainable and has a grad buffer (torch skips {@code grad is None}); its state
 * (m, v, t) is created at its first step and keyed by its HF name, so it can be checkpointed ({@link #state()},
 * {@link #loadState}).
 */
public final class AdamW {
    private final List<Parameter> params;
    private final double beta1, beta2, eps, weightDecay;
    private final Map<String, ParamState> state = new LinkedHashMap<>();
    private long steps;
    /** Whether {@link #step} runs the AVX-512 C update ({@link NativeAdamW}; same bits as the Java one). */
    private final boolean nativeUpdate;

    /**
     * One parameter's optimizer state: torch's {@code exp_avg}, {@code exp_avg_sq} and {@code step}. The arrays are
     * live (modified by {@link #step}).
     */
    public record ParamState(float[] expAvg, float[] expAvgSq, long step) {}

    /**
     * @param params      all model parameters (frozen ones are skipped at each step); names must be unique
     * @param weightDecay for the decay group; HF Trainer's default is 0, the paper-era recipes use 0.01
     */
    public AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay) {
        this(params, beta1, beta2, eps, weightDecay, NativeAdamW.available());
    }

    /** As above; {@code nativeUpdate} false forces the Java update (tests compare the two). */
    AdamW(List<Parameter> params, double beta1, double beta2, double eps, double weightDecay, boolean nativeUpdate) {
        this.nativeUpdate = nativeUpdate;
        this.params = List.copyOf(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        if (params.stream().map(Parameter::name).distinct().count() != params.size()) {
            throw new IllegalArgumentException("AdamW: parameter names are not unique");
        }
    }

    /** torch's defaults: betas (0.9, 0.999), eps 1e-8. */
    public static AdamW withDefaults(List<Parameter> params, double weightDecay) {
        return new AdamW(params, 0.9, 0.999, 1e-8, weightDecay);
    }

    /** Number of {@link #step} calls so far. */
    public long steps() { return steps; }

    /**
     * One update of every trainable parameter that has a grad, with learning rate {@code lr} (from the schedule).
     * Modifies the parameters' data and this optimizer's state; grads are read, not cleared.
     */
    public void step(double lr) {
        for (Parameter p : params) {
            if (!p.trainable() || !p.hasGrad()) continue;
            ParamState s = state.get(p.name());
            if (s == null) s = new ParamState(new float[p.numel()], new float[p.numel()], 0);
            long t = s.step() + 1;
            double wd = p.weightDecay() ? weightDecay : 0.0;
            double bc1 = 1.0 - Math.pow(beta1, t), bc2Sqrt = Math.sqrt(1.0 - Math.pow(beta2, t));
            double stepSize = lr / bc1;
            float[] w = p.data(), g = p.grad(), m = s.expAvg(), v = s.expAvgSq();
            // elementwise and independent: chunks in parallel give the same bits as one loop
            org.varitune.transformer.kernels.Parallel.parallelForRange(w.length, 1 << 15, (lo, hi) ->
                    update(w, g, m, v, lo, hi, 1.0 - lr * wd, stepSize, bc2Sqrt));
            state.put(p.name(), new ParamState(m, v, t));
        }
        steps++;
    }

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Elements per block of the double buffers. */
    private static final int BLOCK = 1024;
    /** Per-thread double copies of one block of w, g, m, v. */
    private static final ThreadLocal<double[][]> BUFFERS = ThreadLocal.withInitial(() -> new double[4][BLOCK]);

    /**
     * The update of elements [lo, hi), in double, block by block: the floats are widened into double buffers, updated
     * D.length() lanes at a time, and rounded back. Every operation is the scalar formula's IEEE operation in the same
     * order (no fused multiply-add), so the bits equal the scalar loop's ({@code AdamWTest} checks it); this runs
     * about 3x faster than that loop, which the double division and square root kept at ~24 ns per element. With
     * {@code nativeUpdate}, {@link NativeAdamW} does the same in C (the same bits again). Modifies w, m, v.
     */
    private void update(float[] w, float[] g, float[] m, float[] v, int lo, int hi, double decay, double stepSize,
                        double bc2Sqrt) {
        if (nativeUpdate) {
            NativeAdamW.update(w, g, m, v, lo, hi, decay, stepSize, bc2Sqrt, beta1, beta2, 1.0 - beta1, 1.0 - beta2, eps);
            return;
        }
        double[][] buf = BUFFERS.get();
        double[] bw = buf[0], bg = buf[1], bm = buf[2], bv = buf[3];
        double b1 = beta1, b2 = beta2, c1 = 1.0 - beta1, c2 = 1.0 - beta2, e = eps;
        int L = D.length();
        for (int c0 = lo; c0 < hi; c0 += BLOCK) {
            int n = Math.min(BLOCK, hi - c0);
            for (int j = 0; j < n; j++) {
                bw[j] = w[c0 + j];
                bg[j] = g[c0 + j];
                bm[j] = m[c0 + j];
                bv[j] = v[c0 + j];
            }
            int j = 0;
            for (; j + L <= n; j += L) {
                DoubleVector gj = DoubleVector.fromArray(D, bg, j);
                DoubleVector wj = DoubleVector.fromArray(D, bw, j).mul(decay);              // w·(1 − lr·wd)
                DoubleVector mj = DoubleVector.fromArray(D, bm, j).mul(b1).add(gj.mul(c1));   // β1·m + (1 − β1)·g
                DoubleVector vj = DoubleVector.fromArray(D, bv, j).mul(b2).add(gj.mul(c2).mul(gj)); // β2·v + (1 − β2)·g·g
                DoubleVector den = vj.lanewise(VectorOperators.SQRT).div(bc2Sqrt).add(e);     // √v/√(1 − β2ᵗ) + eps
                mj.intoArray(bm, j);
                vj.intoArray(bv, j);
                wj.sub(mj.mul(stepSize).div(den)).intoArray(bw, j);
            }
            for (; j < n; j++) {
                double wj = bw[j] * decay, mj = b1 * bm[j] + c1 * bg[j], vj = b2 * bv[j] + c2 * bg[j] * bg[j];
                bm[j] = mj;
                bv[j] = vj;
                bw[j] = wj - stepSize * mj / (Math.sqrt(vj) / bc2Sqrt + e);
            }
            for (j = 0; j < n; j++) {
                w[c0 + j] = (float) bw[j];
                m[c0 + j] = (float) bm[j];
                v[c0 + j] = (float) bv[j];
            }
        }
    }

    /** The per-parameter state by HF name (read-only map of live arrays), for checkpoints. */
    public Map<String, ParamState> state() { return Collections.unmodifiableMap(state); }

    /**
     * Restores a checkpointed state: {@code steps} and each named parameter's (m, v, t), copied. Every name must be
     * a parameter of this optimizer with matching size. Modifies this optimizer.
     */
    public void loadState(long steps, Map<String, ParamState> saved) {
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : params) byName.put(p.name(), p);
        for (var e : saved.entrySet()) {
            Parameter p = byName.get(e.getKey());
            if (p == null) throw new IllegalArgumentException("optimizer state for unknown parameter " + e.getKey());
            ParamState s = e.getValue();
            if (s.expAvg().length != p.numel() || s.expAvgSq().length != p.numel()) {
                throw new IllegalArgumentException("optimizer state for " + e.getKey() + " has " + s.expAvg().length + "/"
                        + s.expAvgSq().length + " values, the parameter " + Arrays.toString(p.shape()) + " has " + p.numel());
            }
        }
        state.clear();
        for (var e : saved.entrySet()) {
            ParamState s = e.getValue();
            state.put(e.getKey(), new ParamState(s.expAvg().clone(), s.expAvgSq().clone(), s.step()));
        }
        this.steps = steps;
    }
}

package org.varitune.transformer.kernels;

/**
 * The plain kernels: single-threaded scalar loops, written to be obviously right. They are the oracle every fast
 * backend is tested against ({@code -Dkernels=cpu} runs the whole suite on them). Accumulations that span a
 * reduction axis run in double; outputs are float.
 */
public class CpuKernels implements Kernels {

    @Override public String name() { return "cpu"; }

    @Override
    public void matmulForward(float[] out, float[] x, float[] weight, float[] bias, int N, int IC, int OC) {
        // out: (N, OC)  x: (N, IC)  weight: (OC, IC)  bias: (OC)
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < OC; o++) {
                double acc = bias == null ? 0.0 : bias[o];
                int xi = n * IC, wi = o * IC;
                for (int i = 0; i < IC; i++) acc += (double) x[xi + i] * weight[wi + i];
                out[n * OC + o] = (float) acc;
            }
        }
    }

    @Override
    public void matmulBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] weight,
                               int N, int IC, int OC) {
        // forward was: out[n,o] = bias[o] + Σ_i x[n,i]·weight[o,i]
        if (dX != null) {                      // dX[n,i] += Σ_o dOut[n,o]·weight[o,i]
            for (int n = 0; n < N; n++) {
                for (int i = 0; i < IC; i++) {
                    double acc = 0.0;
                    for (int o = 0; o < OC; o++) acc += (double) dOut[n * OC + o] * weight[o * IC + i];
                    dX[n * IC + i] += (float) acc;
                }
            }
        }
        if (dWeight != null) {                 // dWeight[o,i] += Σ_n dOut[n,o]·x[n,i]
            for (int o = 0; o < OC; o++) {
                for (int i = 0; i < IC; i++) {
                    double acc = 0.0;
                    for (int n = 0; n < N; n++) acc += (double) dOut[n * OC + o] * x[n * IC + i];
                    dWeight[o * IC + i] += (float) acc;
                }
            }
        }
        if (dBias != null) {                   // dBias[o] += Σ_n dOut[n,o]
            for (int o = 0; o < OC; o++) {
                double acc = 0.0;
                for (int n = 0; n < N; n++) acc += dOut[n * OC + o];
                dBias[o] += (float) acc;
            }
        }
    }

    @Override
    public void layerNormForward(float[] out, float[] mean, float[] rstd, float[] x, float[] weight, float[] bias,
                                 int N, int C, float eps) {
        // out: (N, C)  mean, rstd: (N)  x: (N, C)  weight, bias: (C)
        for (int n = 0; n < N; n++) {
            int off = n * C;
            double m = 0.0;
            for (int c = 0; c < C; c++) m += x[off + c];
            m /= C;
            double v = 0.0;
            for (int c = 0; c < C; c++) {
                double d = x[off + c] - m;
                v += d * d;
            }
            v /= C;
            double s = 1.0 / Math.sqrt(v + eps);
            for (int c = 0; c < C; c++) out[off + c] = (float) ((x[off + c] - m) * s * weight[c] + bias[c]);
            if (mean != null) mean[n] = (float) m;
            if (rstd != null) rstd[n] = (float) s;
        }
    }

    @Override
    public void layerNormBackward(float[] dX, float[] dWeight, float[] dBias, float[] dOut, float[] x, float[] mean,
                                  float[] rstd, float[] weight, int N, int C) {
        // dWeight and dBias sum over the rows: in double, added to the float buffers once at the end
        double[] dw = dWeight == null ? null : new double[C], db = dBias == null ? null : new double[C];
        for (int n = 0; n < N; n++) {
            int off = n * C;
            double m = mean[n], s = rstd[n];
            // forward was: out = norm·weight + bias, norm = (x − mean)·rstd
            double meanDnorm = 0.0, meanDnormNorm = 0.0;
            for (int c = 0; c < C; c++) {
                double norm = (x[off + c] - m) * s;
                double dnorm = (double) weight[c] * dOut[off + c];
                meanDnorm += dnorm;
                meanDnormNorm += dnorm * norm;
            }
            meanDnorm /= C;
            meanDnormNorm /= C;
            for (int c = 0; c < C; c++) {
                double norm = (x[off + c] - m) * s;
                double dnorm = (double) weight[c] * dOut[off + c];
                if (dX != null) dX[off + c] += (float) (s * (dnorm - meanDnorm - norm * meanDnormNorm));
                if (dw != null) dw[c] += norm * dOut[off + c];
                if (db != null) db[c] += dOut[off + c];
            }
        }
        for (int c = 0; c < C; c++) {
            if (dw != null) dWeight[c] += (float) dw[c];
            if (db != null) dBias[c] += (float) db[c];
        }
    }

    @Override
    public void geluForward(float[] out, float[] x, int n) {
        for (int i = 0; i < n; i++) out[i] = (float) MathUtil.gelu(x[i]);
    }

    @Override
    public void geluBackward(float[] dX, float[] x, float[] dOut, int n) {
        // forward was: out = 0.5·x·(1 + erf(x/√2))
        for (int i = 0; i < n; i++) dX[i] += (float) (dOut[i] * MathUtil.geluGrad(x[i]));
    }

    @Override
    public void attentionForward(float[] out, float[] att, float[] q, float[] k, float[] v, int[] attentionMask,
                                 int B, int T, int H, int D) {
        // out, q, k, v: (B, T, C)  att: (B, H, T, T)  attentionMask: (B, T)
        // the two halves of SplitAttention, with the probabilities kept in att (or a scratch buffer)
        float[] p = att != null ? att : new float[B * H * T * T];
        SplitAttention.probs(p, q, k, attentionMask, B, T, H, D);
        SplitAttention.values(out, p, v, B, T, H, D);
    }

    @Override
    public void attentionBackward(float[] dQ, float[] dK, float[] dV, float[] dOut, float[] q, float[] k, float[] v,
                                  float[] att, int B, int T, int H, int D) {
        // forward was: out = att·V, att = softmax(Q·Kᵀ/√D + mask); differentiate the halves in reverse order
        float[] dAtt = new float[B * H * T * T];                          // dAtt: (B, H, T, T)
        SplitAttention.valuesBackward(dAtt, dV, dOut, att, v, B, T, H, D);
        SplitAttention.probsBackward(dQ, dK, dAtt, att, q, k, B, T, H, D);
    }

    @Override
    public void add(float[] out, float[] a, float[] b, int n) {
        for (int i = 0; i < n; i++) out[i] = a[i] + b[i];
    }
}

package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.Arrays;

/**
 * {@code y = (x − mean)·rstd·weight + bias} over the last axis (C), two-pass statistics, {@code eps} from the
 * config ({@code layer_norm_eps}). Parameters {@code <prefix>.weight} (init 1) and {@code <prefix>.bias} (init 0).
 */
public final class LayerNorm {
    private final Kernels kernels;
    private final Parameter weight, bias;
    private final int c;
    private final float eps;

    /** What backward needs: the input and the per-row statistics; {@code norm} is recomputed. */
    public record Saved(float[] x, float[] mean, float[] rstd, int n) {}   // x: (N, C)  mean, rstd: (N)

    public LayerNorm(Kernels kernels, String prefix, int c, double eps) {
        this.kernels = kernels;
        this.c = c;
        this.eps = (float) eps;
        this.weight = Parameter.zerosNoDecay(prefix + ".weight", c);
        this.bias = Parameter.zerosNoDecay(prefix + ".bias", c);
        Arrays.fill(weight.data(), 1f);
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }

    public Fwd<Saved> forward(float[] x, int n, boolean keep) { return forward(x, n, keep, null); }

    /** As {@link #forward(float[], int, boolean)}, y taken from {@code scratch} when non-null. */
    Fwd<Saved> forward(float[] x, int n, boolean keep, Scratch scratch) {
        float[] y = Scratch.floats(scratch, n * c);                        // y: (N, C), overwritten
        float[] mean = keep ? new float[n] : null, rstd = keep ? new float[n] : null;
        kernels.layerNormForward(y, mean, rstd, x, weight.data(), bias.data(), n, c, eps);
        return new Fwd<>(y, keep ? new Saved(x, mean, rstd, n) : null);
    }

    /**
     * Differentiates {@code y = norm·weight + bias}: accumulates weight/bias grads when trainable and returns dX
     * (N, C) when {@code needInputGrad}, else null.
     */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) { return backward(dY, s, needInputGrad, null); }

    /** As {@link #backward(float[], Saved, boolean)}, dX taken from {@code grads} when non-null. */
    float[] backward(float[] dY, Saved s, boolean needInputGrad, Scratch grads) {
        float[] dWeight = weight.trainable() ? weight.grad() : null, dBias = bias.trainable() ? bias.grad() : null;
        if (needInputGrad) {
            float[] dX = Scratch.floats(grads, s.n() * c);                    // dX: (N, C), overwritten
            kernels.layerNormBackwardInto(dX, dWeight, dBias, dY, s.x(), s.mean(), s.rstd(), weight.data(), s.n(), c);
            return dX;
        }
        if (dWeight == null && dBias == null) return null;
        kernels.layerNormBackward(null, dWeight, dBias, dY, s.x(), s.mean(), s.rstd(), weight.data(), s.n(), c);
        return null;
    }
}

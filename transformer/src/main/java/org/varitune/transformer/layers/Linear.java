package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

/**
 * {@code y = x·Wᵀ + b}. x: (N, in), W: (out, in) = HF {@code nn.Linear} layout (loaded without transpose), b: (out).
 * Parameters are named {@code <prefix>.weight} and {@code <prefix>.bias}.
 */
public final class Linear {
    private final Kernels kernels;
    private final Parameter weight, bias;
    private final int in, out;

    /** What backward needs: the input rows. */
    public record Saved(float[] x, int n) {}

    public Linear(Kernels kernels, String prefix, int in, int out) {
        this.kernels = kernels;
        this.in = in;
        this.out = out;
        this.weight = Parameter.zeros(prefix + ".weight", out, in);
        this.bias = Parameter.zerosNoDecay(prefix + ".bias", out);
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }
    public int in() { return in; }
    public int out() { return out; }

    /** y: (N, out), a new array. With {@code keep} the input is saved for backward (not copied: do not modify it). */
    public Fwd<Saved> forward(float[] x, int n, boolean keep) {
        float[] y = new float[n * out];                                    // y: (N, out)
        kernels.matmulForward(y, x, weight.data(), bias.data(), n, in, out);
        return new Fwd<>(y, keep ? new Saved(x, n) : null);
    }

    /**
     * Differentiates {@code y = x·Wᵀ + b}: {@code dW += dYᵀ·x}, {@code db += Σ_rows dY} when trainable, and returns
     * {@code dX = dY·W} (a new (N, in) array) when {@code needInputGrad}, else null.
     */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) {
        float[] dX = needInputGrad ? new float[s.n() * in] : null;         // dX: (N, in)
        boolean train = weight.trainable();
        if (dX == null && !train && !bias.trainable()) return null;
        kernels.matmulBackward(dX, train ? weight.grad() : null, bias.trainable() ? bias.grad() : null,
                dY, s.x(), weight.data(), s.n(), in, out);
        return dX;
    }
}

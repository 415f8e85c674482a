package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code y = x·Wᵀ + b + delta(x)}. x: (N, in), W: (out, in) = HF {@code nn.Linear} layout (loaded without
 * transpose), b: (out). Parameters are named {@code <prefix>.weight} and {@code <prefix>.bias}. {@code delta} is a
 * hook point for tuning methods ({@link Delta}, e.g. LoRA's low-rank update); absent, the term is 0.
 */
public final class Linear {
    private final Kernels kernels;
    private final Parameter weight, bias;
    private final int in, out;
    private Delta delta;

    /** What backward needs: the input rows and what the delta saved (null without one). */
    public record Saved(float[] x, int n, Object delta) {}

    /**
     * A trainable term added to a Linear's output, {@code y += delta(x)}, installed by a tuning method
     * ({@link #setDelta}). Its parameters are named under the Linear's prefix and listed by {@link #parameters()}.
     */
    public interface Delta {
        /**
         * Adds {@code delta(x)} into {@code y}.
         *
         * @param y (N, out), modified; x: (N, in), not modified
         * @return what backward needs (null when {@code !keep})
         */
        Object forwardAdd(float[] y, float[] x, int n, boolean keep, DropoutContext drop);

        /**
         * Differentiates {@code y += delta(x)}: accumulates its trainable parameters' grads and, when {@code dX} is
         * non-null, adds its input gradient into dX (N, in).
         */
        void backward(float[] dY, float[] x, Object saved, float[] dX);

        /** Its parameters, HF-style names under the Linear's prefix. */
        List<Parameter> parameters();

        /** {@code W'} (out, in), a new array, with {@code x·W'ᵀ = x·Wᵀ + delta(x)} for every x (dropout off), when the delta is linear. */
        float[] merged(float[] weight);
    }

    public Linear(Kernels kernels, String prefix, int in, int out) {
        this.kernels = kernels;
        this.in = in;
        this.out = out;
        this.weight = Parameter.zeros(prefix + ".weight", out, in);
        this.bias = Parameter.zerosNoDecay(prefix + ".bias", out);
    }

    /** Installs {@code delta} (a tuning method's module); fails if one is installed. Modifies this Linear. */
    public void setDelta(Delta delta) {
        if (this.delta != null) throw new IllegalStateException(weight.name() + ": a delta is already installed");
        this.delta = java.util.Objects.requireNonNull(delta, "delta");
    }

    /** The installed delta, or null. */
    public Delta delta() { return delta; }

    /** weight, bias, then the delta's parameters. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(List.of(weight, bias));
        if (delta != null) ps.addAll(delta.parameters());
        return ps;
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }
    public int in() { return in; }
    public int out() { return out; }

    /** Dropout off. */
    public Fwd<Saved> forward(float[] x, int n, boolean keep) { return forward(x, n, keep, DropoutContext.OFF); }

    /**
     * y: (N, out), a new array. With {@code keep} the input is saved for backward (not copied: do not modify it).
     * {@code drop} reaches the delta (LoRA's dropout on its input).
     */
    public Fwd<Saved> forward(float[] x, int n, boolean keep, DropoutContext drop) {
        return forward(x, n, keep, drop, null);
    }

    /** As {@link #forward(float[], int, boolean, DropoutContext)}, y taken from {@code scratch} when non-null. */
    Fwd<Saved> forward(float[] x, int n, boolean keep, DropoutContext drop, Scratch scratch) {
        float[] y = Scratch.floats(scratch, n * out);                      // y: (N, out), overwritten by the matmul
        kernels.matmulForward(y, x, weight.data(), bias.data(), n, in, out);
        Object d = delta == null ? null : delta.forwardAdd(y, x, n, keep, drop);   // y += delta(x)
        return new Fwd<>(y, keep ? new Saved(x, n, d) : null);
    }

    /**
     * Differentiates {@code y = x·Wᵀ + b}: {@code dW += dYᵀ·x}, {@code db += Σ_rows dY} when trainable, and returns
     * {@code dX = dY·W} (a new (N, in) array) when {@code needInputGrad}, else null.
     */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) { return backward(dY, s, needInputGrad, null); }

    /** As {@link #backward(float[], Saved, boolean)}, dX taken from {@code grads} when non-null. */
    float[] backward(float[] dY, Saved s, boolean needInputGrad, Scratch grads) {
        boolean train = weight.trainable();
        float[] dWeight = train ? weight.grad() : null, dBias = bias.trainable() ? bias.grad() : null;
        if (delta == null && needInputGrad) {
            // forward was: y = x·Wᵀ + b; dX = dY·W overwrites the buffer (no zeroing)
            float[] dX = Scratch.floats(grads, s.n() * in);                   // dX: (N, in)
            kernels.matmulBackwardInto(dX, dWeight, dBias, dY, s.x(), weight.data(), s.n(), in, out);
            return dX;
        }
        float[] dX = needInputGrad ? Scratch.zeros(grads, s.n() * in) : null;   // dX: (N, in), accumulated into
        // forward was: y += delta(x)
        if (delta != null) delta.backward(dY, s.x(), s.delta(), dX);
        if (dX == null && !train && !bias.trainable()) return null;
        kernels.matmulBackward(dX, dWeight, dBias, dY, s.x(), weight.data(), s.n(), in, out);
        return dX;
    }
}

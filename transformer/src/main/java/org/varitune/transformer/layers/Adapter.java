package org.varitune.transformer.layers;

import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A Houlsby bottleneck adapter: {@code y = x + up(act(down(x)))}, with {@code down: C → R} and {@code up: R → C} two
 * {@link Linear}s named {@code <prefix>.down} and {@code <prefix>.up} ({@code prefix} is e.g.
 * {@code encoder.layer.3.output.adapter}). {@link EncoderLayer#addAdapters} inserts one after each of
 * {@code attention.output.dense} and {@code output.dense} (after their dropout, before the residual + LayerNorm).
 *
 * <p>Initialisation ({@link #initNearIdentity}): {@code down.weight ~ N(0, 0.02²)}, {@code up.weight = 0}, biases 0,
 * so a fresh adapter is exactly the identity and the pretrained model's function is unchanged at step 0; the first
 * step moves {@code up} (whose gradient {@code dY·act(down(x))ᵀ} is nonzero) and from then on {@code down} too.
 */
public final class Adapter {
    /** The bottleneck non-linearity: {@code relu} as in the authors' code (default), or exact {@code gelu}. */
    public enum Activation implements Spelled {
        RELU("relu"), GELU("gelu");

        private final String spelling;

        Activation(String spelling) { this.spelling = spelling; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /** Standard deviation of {@code down.weight} at initialisation. */
    public static final double DOWN_INIT_STD = 0.02;

    private final Kernels kernels;
    private final Linear down, up;
    private final Activation activation;
    private final int hidden, bottleneck;

    /** Saved for backward: the two Linears' inputs and the pre-activation z = down(x). */
    public record Saved(Linear.Saved down, float[] z, Linear.Saved up, int n) {}   // z: (N, R)

    public Adapter(Kernels kernels, String prefix, int hidden, int bottleneck, Activation activation) {
        if (bottleneck <= 0) throw new IllegalArgumentException(prefix + ": adapter bottleneck " + bottleneck + " must be positive");
        this.kernels = kernels;
        this.hidden = hidden;
        this.bottleneck = bottleneck;
        this.activation = activation;
        this.down = new Linear(kernels, prefix + ".down", hidden, bottleneck);
        this.up = new Linear(kernels, prefix + ".up", bottleneck, hidden);
    }

    /** down.weight, down.bias, up.weight, up.bias. */
    public List<Parameter> parameters() { return List.of(down.weight(), down.bias(), up.weight(), up.bias()); }
    public int bottleneck() { return bottleneck; }
    public Activation activation() { return activation; }

    /** Near-identity init (see the class doc): down.weight ~ N(0, DOWN_INIT_STD²), everything else 0. Modifies all four. */
    public void initNearIdentity(Random rng) {
        float[] w = down.weight().data();
        for (int i = 0; i < w.length; i++) w[i] = (float) (DOWN_INIT_STD * rng.nextGaussian());
        Arrays.fill(down.bias().data(), 0f);
        Arrays.fill(up.weight().data(), 0f);
        Arrays.fill(up.bias().data(), 0f);
    }

    /** x: (N, C), not modified (saved by reference with {@code keep}). Returns y: (N, C), a new array. */
    public Fwd<Saved> forward(float[] x, int n, boolean keep) {
        var z = down.forward(x, n, keep);                                  // z: (N, R)
        float[] a = keep ? new float[n * bottleneck] : z.out();           // a: (N, R) = act(z); in place when not kept
        activate(a, z.out(), n * bottleneck);
        var u = up.forward(a, n, keep);                                    // u: (N, C)
        float[] y = u.out();
        kernels.add(y, y, x, n * hidden);                                  // y = x + u (skip connection)
        return new Fwd<>(y, keep ? new Saved(z.saved(), z.out(), u.saved(), n) : null);
    }

    /**
     * Differentiates {@code y = x + up(act(down(x)))}, accumulating into the trainable adapter parameters' grads;
     * returns dX (N, C) when {@code needInputGrad}, else null.
     */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) {
        int n = s.n();
        if (!needInputGrad && parameters().stream().noneMatch(Parameter::trainable)) return null;
        // forward was: u = up(a)
        float[] dA = up.backward(dY, s.up(), true);
        // forward was: a = act(z)
        float[] dZ = new float[n * bottleneck];
        if (activation == Activation.GELU) {
            kernels.geluBackward(dZ, s.z(), dA, n * bottleneck);
        } else {
            for (int i = 0; i < dZ.length; i++) dZ[i] = s.z()[i] > 0f ? dA[i] : 0f;
        }
        // forward was: z = down(x); and x also feeds y (skip)
        float[] dX = down.backward(dZ, s.down(), needInputGrad);
        if (dX == null) return null;
        kernels.add(dX, dX, dY, n * hidden);
        return dX;
    }

    private void activate(float[] out, float[] z, int len) {
        if (activation == Activation.GELU) {
            kernels.geluForward(out, z, len);
        } else {
            for (int i = 0; i < len; i++) out[i] = Math.max(0f, z[i]);
        }
    }
}

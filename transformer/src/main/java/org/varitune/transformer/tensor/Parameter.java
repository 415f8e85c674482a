package org.varitune.transformer.tensor;

import java.util.Arrays;

/**
 * A named, trainable array: weights in {@code data}, their gradient in {@code grad}.
 *
 * <p>{@code name} is the Hugging Face key, verbatim ({@code encoder.layer.0.attention.self.query.weight}); loading,
 * freezing, optimizer state, checkpoints and test messages all use that one string. Data is row-major and
 * contiguous; a Linear weight is {@code (out, in)} as in {@code nn.Linear}. The gradient is allocated on first use,
 * so frozen parameters of an inference-only model cost no extra memory. Backward passes <b>add</b> into
 * {@link #grad()}; {@link #zeroGrad()} clears it.
 *
 * <p>Whether AdamW's weight decay applies ({@link #weightDecay()}) is decided by the module that creates the
 * parameter, as HF Trainer decides it by module type ({@code get_parameter_names(model, ALL_LAYERNORM_LAYERS)} minus
 * names containing {@code bias}): every LayerNorm parameter and every bias is exempt, whatever the family calls it
 * ({@code LayerNorm}, {@code sa_layer_norm}, ...). Nothing parses names to find out.
 */
public final class Parameter {
    private final String name;
    private final int[] shape;
    private final float[] data;
    private float[] grad;
    private final boolean weightDecay;
    private boolean trainable = true;

    /** A parameter in AdamW's decay group. */
    public Parameter(String name, float[] data, int... shape) { this(name, true, data, shape); }

    /** @param weightDecay whether AdamW's weight decay applies (false for biases and LayerNorm parameters) */
    public Parameter(String name, boolean weightDecay, float[] data, int... shape) {
        long n = Shapes.numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("parameter " + name + ": shape " + Arrays.toString(shape) + " holds "
                    + n + " elements but data has " + data.length);
        }
        this.name = name;
        this.shape = shape.clone();
        this.data = data;
        this.weightDecay = weightDecay;
    }

    /** A zero-initialised parameter of the given shape, in AdamW's decay group (a weight matrix or an embedding). */
    public static Parameter zeros(String name, int... shape) {
        return new Parameter(name, true, new float[Math.toIntExact(Shapes.numel(shape))], shape);
    }

    /** A zero-initialised parameter exempt from weight decay: a bias or a LayerNorm parameter. */
    public static Parameter zerosNoDecay(String name, int... shape) {
        return new Parameter(name, false, new float[Math.toIntExact(Shapes.numel(shape))], shape);
    }

    public String name() { return name; }
    public int[] shape() { return shape.clone(); }
    public int dim(int i) { return shape[i]; }
    public int numel() { return data.length; }
    /** The weights, row-major. Modified in place by loaders and optimizers. */
    public float[] data() { return data; }

    /** The gradient buffer (same shape as data), allocated zeroed on first call. */
    public float[] grad() {
        if (grad == null) grad = new float[data.length];
        return grad;
    }

    public boolean hasGrad() { return grad != null; }
    public void zeroGrad() {
        if (grad == null) return;
        float[] g = grad;                                    // in parallel chunks: 110 M floats for a bert-base
        org.varitune.transformer.kernels.Parallel.parallelForRange(g.length, 1 << 16, (lo, hi) -> Arrays.fill(g, lo, hi, 0f));
    }
    public boolean trainable() { return trainable; }
    /** Whether AdamW applies weight decay to this parameter (false for biases and LayerNorm parameters). */
    public boolean weightDecay() { return weightDecay; }
    public void setTrainable(boolean trainable) { this.trainable = trainable; }

    /** Copies {@code src} into data after checking the length; the message names this parameter. */
    public void copyFrom(float[] src, int[] srcShape) {
        if (!Arrays.equals(srcShape, shape)) {
            throw new IllegalArgumentException("parameter " + name + ": expected shape " + Arrays.toString(shape)
                    + " but got " + Arrays.toString(srcShape));
        }
        System.arraycopy(src, 0, data, 0, data.length);
    }

    @Override public String toString() { return name + Arrays.toString(shape); }
}

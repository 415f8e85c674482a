package org.varitune.transformer.layers;

import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * A Houlsby bottleneck adapter: {@code y = x + up(drop(act(down(x))))}, with {@code down: C → R} and
 * {@code up: R → C} two {@link Linear}s named {@code <prefix>.down} and {@code <prefix>.up} ({@code prefix} is e.g.
 * {@code encoder.layer.3.output.adapter}) and {@code drop} a dropout on the bottleneck activation (rate
 * {@link Site#dropout()}, off by default). {@link EncoderLayer#addAdapters} inserts one after
 * {@code attention.output.dense} and/or after {@code output.dense}, before or after that dense's dropout
 * ({@link Position}), always before the residual + LayerNorm.
 *
 * <p>Initialisation ({@link Init}): {@link Init#NEAR_IDENTITY} (ours, the default) draws {@code down.weight ~
 * N(0, 0.02²)} and sets {@code up.weight = 0} and both biases 0, so a fresh adapter is exactly the identity and the
 * pretrained function is unchanged at step 0; {@link Init#BERT} draws both weights from {@code N(0, 0.02²)} with zero
 * biases (BERT's {@code init_bert_weights} applied to the adapter's Linears, as the {@code init_option="bert"} of
 * jxhe/unify-parameter-efficient-tuning {@code petl/petl_factory.py} {@code Adapter_Layer} does), so a fresh adapter
 * is not the identity. The backward is the composition of {@link Linear}'s, the activation's and {@link Dropout}'s.
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

    /** How a fresh adapter's weights are drawn (see the class doc). */
    public enum Init implements Spelled {
        NEAR_IDENTITY("near-identity"), BERT("bert");

        private final String spelling;

        Init(String spelling) { this.spelling = spelling; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /**
     * Where an adapter sits relative to the dropout of the dense it follows: {@code AFTER_DROPOUT} computes
     * {@code adapter(drop(dense(x)))} (Houlsby et al.; the authors' FFN adapter), {@code BEFORE_DROPOUT}
     * {@code drop(adapter(dense(x)))} (the authors' attention adapter, in {@code RobertaSelfOutput.forward}).
     */
    public enum Position implements Spelled {
        AFTER_DROPOUT("after-dropout"), BEFORE_DROPOUT("before-dropout");

        private final String spelling;

        Position(String spelling) { this.spelling = spelling; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /** Standard deviation of the randomly drawn weights at initialisation (HF {@code initializer_range}). */
    public static final double INIT_STD = 0.02;
    /** Kept for callers of the near-identity init: the standard deviation of {@code down.weight}. */
    public static final double DOWN_INIT_STD = INIT_STD;

    /**
     * One adapter site's settings.
     *
     * @param bottleneck R, the bottleneck width (&gt;= 1)
     * @param init       how the weights are drawn
     * @param position   before or after the dense's dropout
     * @param dropout    dropout rate on the bottleneck activation, in [0, 1); 0 = none
     */
    public record Site(int bottleneck, Init init, Position position, double dropout) {
        public Site {
            Objects.requireNonNull(init, "init");
            Objects.requireNonNull(position, "position");
            if (bottleneck < 1) throw new IllegalArgumentException("adapter bottleneck " + bottleneck + " must be >= 1");
            if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("adapter dropout " + dropout + " outside [0, 1)");
        }

        /** Our default site: near-identity, after the dropout, no bottleneck dropout. */
        public static Site houlsby(int bottleneck) { return new Site(bottleneck, Init.NEAR_IDENTITY, Position.AFTER_DROPOUT, 0); }

        /** {@code size=R,init=bert|near-identity,position=after-dropout|before-dropout,dropout=p}: the CLI spelling. */
        public String spec() {
            return "size=" + bottleneck + ",init=" + init.spelling() + ",position=" + position.spelling() + ",dropout=" + dropout;
        }

        /**
         * Parses a {@link #spec()}; keys may come in any order and each defaults to {@link #houlsby}'s value except
         * {@code size}, which is required. An unknown key or value is an error naming it.
         */
        public static Site parse(String spec) {
            Integer size = null;
            Init init = Init.NEAR_IDENTITY;
            Position position = Position.AFTER_DROPOUT;
            double dropout = 0;
            for (String part : spec.split(",")) {
                String[] kv = part.trim().split("=", 2);
                if (kv.length != 2) throw new IllegalArgumentException("adapter spec '" + spec + "': '" + part + "' is not key=value");
                String v = kv[1].trim();
                switch (kv[0].trim()) {
                    case "size" -> size = Integer.parseInt(v);
                    case "init" -> init = Spelled.parse(Init.class, v, "adapter init");
                    case "position" -> position = Spelled.parse(Position.class, v, "adapter position");
                    case "dropout" -> dropout = Double.parseDouble(v);
                    default -> throw new IllegalArgumentException("adapter spec '" + spec + "': unknown key '" + kv[0].trim()
                            + "' (expected size, init, position, dropout)");
                }
            }
            if (size == null) throw new IllegalArgumentException("adapter spec '" + spec + "' has no size=R");
            return new Site(size, init, position, dropout);
        }
    }

    private final Kernels kernels;
    private final Linear down, up;
    private final Activation activation;
    private final Site site;
    private final Dropout dropout;
    private final int hidden;

    /** Saved for backward: the two Linears' inputs, the pre-activation z = down(x) and the bottleneck mask. */
    public record Saved(Linear.Saved down, float[] z, Dropout.Mask mask, Linear.Saved up, int n) {}   // z: (N, R)

    /** A near-identity site of width {@code bottleneck} without bottleneck dropout ({@link Site#houlsby}). */
    public Adapter(Kernels kernels, String prefix, int hidden, int bottleneck, Activation activation) {
        this(kernels, prefix, hidden, Site.houlsby(bottleneck), activation, Dropout.site(0, Dropout.OUTPUT_ADAPTER));
    }

    /**
     * @param dropoutSite where its bottleneck dropout sits ({@link Dropout#site}); distinct adapters need distinct sites
     */
    public Adapter(Kernels kernels, String prefix, int hidden, Site site, Activation activation, long dropoutSite) {
        this.kernels = kernels;
        this.hidden = hidden;
        this.site = Objects.requireNonNull(site, prefix + ": site");
        this.activation = Objects.requireNonNull(activation, prefix + ": activation");
        this.dropout = new Dropout(site.dropout(), dropoutSite);
        this.down = new Linear(kernels, prefix + ".down", hidden, site.bottleneck());
        this.up = new Linear(kernels, prefix + ".up", site.bottleneck(), hidden);
    }

    /** down.weight, down.bias, up.weight, up.bias. */
    public List<Parameter> parameters() { return List.of(down.weight(), down.bias(), up.weight(), up.bias()); }
    public int bottleneck() { return site.bottleneck(); }
    public Activation activation() { return activation; }
    public Site site() { return site; }

    /** Draws the weights per {@link Site#init()} from {@code rng} (down.weight first). Modifies all four parameters. */
    public void initialize(Random rng) {
        fillGaussian(down.weight().data(), rng);
        if (site.init() == Init.BERT) fillGaussian(up.weight().data(), rng);
        else Arrays.fill(up.weight().data(), 0f);
        Arrays.fill(down.bias().data(), 0f);
        Arrays.fill(up.bias().data(), 0f);
    }

    /** Near-identity init (see the class doc), whatever the site's {@link Init}. Modifies all four parameters. */
    public void initNearIdentity(Random rng) {
        fillGaussian(down.weight().data(), rng);
        Arrays.fill(down.bias().data(), 0f);
        Arrays.fill(up.weight().data(), 0f);
        Arrays.fill(up.bias().data(), 0f);
    }

    private static void fillGaussian(float[] w, Random rng) {
        for (int i = 0; i < w.length; i++) w[i] = (float) (INIT_STD * rng.nextGaussian());
    }

    /** Dropout off. x: (N, C), not modified (saved by reference with {@code keep}). Returns y: (N, C), a new array. */
    public Fwd<Saved> forward(float[] x, int n, boolean keep) { return forward(x, n, keep, DropoutContext.OFF); }

    /** As {@link #forward(float[], int, boolean)} with the bottleneck dropout per {@code drop}. */
    public Fwd<Saved> forward(float[] x, int n, boolean keep, DropoutContext drop) {
        int r = site.bottleneck();
        var z = down.forward(x, n, keep);                                  // z: (N, R)
        float[] a = keep ? new float[n * r] : z.out();                    // a: (N, R) = drop(act(z)); in place when not kept
        activate(a, z.out(), n * r);
        Dropout.Mask mask = dropout.forwardInPlace(a, n * r, drop);
        var u = up.forward(a, n, keep);                                    // u: (N, C)
        float[] y = u.out();
        kernels.add(y, y, x, n * hidden);                                  // y = x + u (skip connection)
        return new Fwd<>(y, keep ? new Saved(z.saved(), z.out(), mask, u.saved(), n) : null);
    }

    /**
     * Differentiates {@code y = x + up(drop(act(down(x))))}, accumulating into the trainable adapter parameters'
     * grads; returns dX (N, C) when {@code needInputGrad}, else null. dY is not modified.
     */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) {
        int n = s.n(), r = site.bottleneck();
        if (!needInputGrad && parameters().stream().noneMatch(Parameter::trainable)) return null;
        // forward was: u = up(a)
        float[] dA = up.backward(dY, s.up(), true);
        // forward was: a = drop(act(z))
        Dropout.applyInPlace(dA, s.mask());
        float[] dZ = new float[n * r];
        if (activation == Activation.GELU) {
            kernels.geluBackward(dZ, s.z(), dA, n * r);
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

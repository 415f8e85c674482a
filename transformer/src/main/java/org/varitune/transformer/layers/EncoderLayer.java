package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.model.LayerWiring;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One post-LN transformer encoder layer, HF {@code BertLayer} / {@code RobertaLayer} / DistilBERT's
 * {@code TransformerBlock}, parameters named by its family's {@link LayerWiring} (BERT: under
 * {@code encoder.layer.<i>.}):
 * <pre>
 *   ctx = attention.self(x)                                              // SelfAttention (dropout on the probabilities)
 *   h1  = attention.output.LayerNorm(adapter₁(dropout(attention.output.dense(ctx))) + x)
 *   g   = gelu(intermediate.dense(h1))
 *   y   = output.LayerNorm(adapter₂(dropout(output.dense(g))) + h1)
 * </pre>
 * The dropouts are HF's {@code hidden_dropout_prob} ones (identity when off). The adapters
 * ({@code attention.output.adapter}, {@code output.adapter}) are the identity until {@link #addAdapters} inserts
 * them, each optionally; an adapter placed {@link Adapter.Position#BEFORE_DROPOUT} swaps the order:
 * {@code dropout(adapter(dense(·)))}.
 */
public final class EncoderLayer {
    private final Kernels kernels;
    private final LayerWiring wiring;
    private final SelfAttention attention;
    private final Linear attentionOutput, intermediate, output;
    private final LayerNorm attentionNorm, outputNorm;
    private final Dropout attentionOutputDropout, outputDropout;
    private Adapter attentionAdapter, outputAdapter;
    private final int index, hidden, inter;

    /** Saved for backward; the masks are null when dropout was off, the adapters' entries when there are none. */
    public record Saved(SelfAttention.Saved att, Linear.Saved attOut, Dropout.Mask attOutMask,
                        Adapter.Saved attAdapter, LayerNorm.Saved attNorm,
                        Linear.Saved inter, float[] preGelu,      // preGelu: (N, I)
                        Linear.Saved out, Dropout.Mask outMask, Adapter.Saved outAdapter,
                        LayerNorm.Saved outNorm, int n) {}

    /** A layer without dropout. */
    public EncoderLayer(Kernels kernels, int index, int hidden, int heads, int intermediateSize, double eps) {
        this(kernels, index, hidden, heads, intermediateSize, eps, 0, 0);
    }

    /**
     * A layer with BERT's names ({@link LayerWiring#bert}).
     *
     * @param hiddenDropoutProb         HF {@code hidden_dropout_prob}: after both dense outputs
     * @param attentionProbsDropoutProb HF {@code attention_probs_dropout_prob}: on the attention probabilities
     */
    public EncoderLayer(Kernels kernels, int index, int hidden, int heads, int intermediateSize, double eps,
                        double hiddenDropoutProb, double attentionProbsDropoutProb) {
        this(kernels, index, LayerWiring.bert(index), hidden, heads, intermediateSize, eps, hiddenDropoutProb,
                attentionProbsDropoutProb);
    }

    /**
     * A layer named and wired per {@code wiring} (its family's).
     *
     * @param hiddenDropoutProb         HF {@code hidden_dropout_prob}: after {@code output} and, when the wiring says
     *                                  so, after {@code attentionOutput}
     * @param attentionProbsDropoutProb HF {@code attention_probs_dropout_prob}: on the attention probabilities
     */
    public EncoderLayer(Kernels kernels, int index, LayerWiring wiring, int hidden, int heads, int intermediateSize,
                        double eps, double hiddenDropoutProb, double attentionProbsDropoutProb) {
        this.kernels = kernels;
        this.index = index;
        this.hidden = hidden;
        this.inter = intermediateSize;
        this.wiring = wiring;
        this.attention = new SelfAttention(kernels, wiring.query(), wiring.key(), wiring.value(), hidden, heads,
                new Dropout(attentionProbsDropoutProb, Dropout.site(index, Dropout.ATTENTION_PROBS)));
        this.attentionOutput = new Linear(kernels, wiring.attentionOutput(), hidden, hidden);
        this.attentionOutputDropout = new Dropout(wiring.attentionOutputDropout() ? hiddenDropoutProb : 0,
                Dropout.site(index, Dropout.ATTENTION_OUTPUT));
        this.attentionNorm = new LayerNorm(kernels, wiring.attentionNorm(), hidden, eps);
        this.intermediate = new Linear(kernels, wiring.intermediate(), hidden, intermediateSize);
        this.output = new Linear(kernels, wiring.output(), intermediateSize, hidden);
        this.outputDropout = new Dropout(hiddenDropoutProb, Dropout.site(index, Dropout.OUTPUT));
        this.outputNorm = new LayerNorm(kernels, wiring.outputNorm(), hidden, eps);
    }

    /** The names and wiring of this layer. */
    public LayerWiring wiring() { return wiring; }

    /**
     * Inserts Houlsby adapters {@code encoder.layer.<i>.attention.output.adapter} and
     * {@code encoder.layer.<i>.output.adapter}, near identity, after the dropouts, initialised from {@code rng}.
     * Modifies this layer; fails if it already has adapters.
     */
    public void addAdapters(int bottleneck, Adapter.Activation activation, Random rng) {
        addAdapters(Adapter.Site.houlsby(bottleneck), Adapter.Site.houlsby(bottleneck), activation, rng);
    }

    /** {@link #addAdapters(int, Adapter.Activation, Random)} with a fixed seed per layer index (reproducible). */
    public void addAdapters(int bottleneck, Adapter.Activation activation) {
        addAdapters(bottleneck, activation, new Random(("encoder.layer." + index + ".").hashCode()));
    }

    /**
     * Inserts an adapter {@code encoder.layer.<i>.attention.output.adapter} when {@code attention} is non-null and
     * {@code encoder.layer.<i>.output.adapter} when {@code output} is non-null, each shaped and placed by its site and
     * initialised per {@link Adapter#initialize} from {@code rng} (attention first). Modifies this layer; fails if
     * it already has adapters or both sites are null.
     */
    public void addAdapters(Adapter.Site attention, Adapter.Site output, Adapter.Activation activation, Random rng) {
        if (hasAdapters()) throw new IllegalStateException("layer " + index + " already has adapters");
        if (attention == null && output == null) throw new IllegalArgumentException("layer " + index + ": no adapter site given");
        if (attention != null) {
            attentionAdapter = new Adapter(kernels, wiring.attentionAdapter(), hidden, attention, activation,
                    Dropout.site(index, Dropout.ATTENTION_ADAPTER));
            attentionAdapter.initialize(rng);
        }
        if (output != null) {
            outputAdapter = new Adapter(kernels, wiring.outputAdapter(), hidden, output, activation,
                    Dropout.site(index, Dropout.OUTPUT_ADAPTER));
            outputAdapter.initialize(rng);
        }
    }

    /** Whether this layer holds an adapter at either site. */
    public boolean hasAdapters() { return attentionAdapter != null || outputAdapter != null; }

    /** The adapter after {@code attention.output.dense}, or null when there is none. */
    public Adapter attentionAdapter() { return attentionAdapter; }

    /** The adapter after {@code output.dense}, or null when there is none. */
    public Adapter outputAdapter() { return outputAdapter; }

    /**
     * The Linear playing {@code role}: the hook point where a tuning method installs a {@link Linear.Delta} (LoRA).
     */
    public Linear linear(org.varitune.transformer.model.LinearRole role) {
        return switch (role) {
            case QUERY, KEY, VALUE -> attention.linear(role);
            case ATTENTION_OUTPUT -> attentionOutput;
            case INTERMEDIATE -> intermediate;
            case OUTPUT -> output;
        };
    }

    /** All parameters in HF order, each Linear's delta after its bias, adapters after the dense they follow. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(attention.parameters());
        ps.addAll(attentionOutput.parameters());
        if (attentionAdapter != null) ps.addAll(attentionAdapter.parameters());
        ps.add(attentionNorm.weight());
        ps.add(attentionNorm.bias());
        ps.addAll(intermediate.parameters());
        ps.addAll(output.parameters());
        if (outputAdapter != null) ps.addAll(outputAdapter.parameters());
        ps.add(outputNorm.weight());
        ps.add(outputNorm.bias());
        return ps;
    }

    /** Dropout off. x: (B, T, C), attentionMask: (B, T). Returns y: (B, T, C), a new array. */
    public Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep) {
        return forward(x, attentionMask, B, T, keep, DropoutContext.OFF);
    }

    /** x: (B, T, C), attentionMask: (B, T). Returns y: (B, T, C), a new array; dropout per {@code drop}. */
    public Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep, DropoutContext drop) {
        int n = B * T;
        // intermediates reused: for this call when nothing is kept, else for the step when one is open (else new)
        Scratch sc = keep ? StepActivations.current() : Scratch.begin();
        var ctx = attention.forward(x, attentionMask, B, T, keep, drop, sc);
        var a = attentionOutput.forward(ctx.out(), n, keep, drop, sc);
        Sublayer s1 = dropoutAndAdapter(a.out(), attentionOutputDropout, attentionAdapter, n, keep, drop);
        float[] sum1 = s1.out();                                           // sum1: (N, C) = adapter(drop(a)) + x
        kernels.add(sum1, sum1, x, n * hidden);
        var h1 = attentionNorm.forward(sum1, n, keep, sc);
        var pre = intermediate.forward(h1.out(), n, keep, drop, sc);       // pre: (N, I)
        float[] g = keep ? Scratch.floats(sc, n * inter) : pre.out();     // g: (N, I); in place when not kept
        kernels.geluForward(g, pre.out(), n * inter);
        var o = output.forward(g, n, keep, drop, sc);
        Sublayer s2 = dropoutAndAdapter(o.out(), outputDropout, outputAdapter, n, keep, drop);
        float[] sum2 = s2.out();                                           // sum2: (N, C) = adapter(drop(o)) + h1
        kernels.add(sum2, sum2, h1.out(), n * hidden);
        var y = outputNorm.forward(sum2, n, keep);                        // y: (B, T, C), new (the caller keeps it)
        Saved s = keep ? new Saved(ctx.saved(), a.saved(), s1.mask(), s1.adapter(), h1.saved(),
                pre.saved(), pre.out(), o.saved(), s2.mask(), s2.adapter(), y.saved(), n) : null;
        return new Fwd<>(y.out(), s);
    }

    /** Differentiates the forward in reverse order; returns dX (B, T, C) when {@code needInputGrad}, else null. */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) {
        int n = s.n();
        // the gradients below die in this call (all but the returned dX): the step's reused buffers when one is open
        Scratch g = StepActivations.layerGradients();
        // forward was: y = output.LayerNorm(sum2), sum2 = adapter₂(drop(o)) + h1
        float[] dSum2 = outputNorm.backward(dY, s.outNorm(), true, g);
        float[] dO = beforeResidual(dSum2, outputAdapter, s.outAdapter(), s.outMask(), g);
        // forward was: o = output.dense(g)
        float[] dG = output.backward(dO, s.out(), true, g);
        // forward was: g = gelu(pre)
        float[] dPre = Scratch.floats(g, n * inter);                       // dPre: (N, I), overwritten
        kernels.geluBackwardInto(dPre, s.preGelu(), dG, n * inter);
        // forward was: pre = intermediate.dense(h1); and h1 also feeds sum2 (residual)
        float[] dH1 = intermediate.backward(dPre, s.inter(), true, g);
        kernels.add(dH1, dH1, dSum2, n * hidden);
        // forward was: h1 = attention.output.LayerNorm(sum1), sum1 = adapter₁(drop(a)) + x
        float[] dSum1 = attentionNorm.backward(dH1, s.attNorm(), true, g);
        float[] dA = beforeResidual(dSum1, attentionAdapter, s.attAdapter(), s.attOutMask(), g);
        // forward was: a = attention.output.dense(ctx)
        boolean attentionTrains = attention.parameters().stream().anyMatch(Parameter::trainable);
        if (!needInputGrad && !attentionTrains) {
            attentionOutput.backward(dA, s.attOut(), false, g);            // only its own grads are needed
            return null;
        }
        float[] dCtx = attentionOutput.backward(dA, s.attOut(), true, g);
        // forward was: ctx = attention.self(x); and x also feeds sum1 (residual)
        float[] dX = attention.backward(dCtx, s.att(), needInputGrad, g);  // new (query's dX)
        if (!needInputGrad) return null;
        kernels.add(dX, dX, dSum1, n * hidden);
        return dX;
    }

    /** A dense output after its dropout and adapter: out (N, C), the mask and the adapter's saved state (or nulls). */
    private record Sublayer(float[] out, Dropout.Mask mask, Adapter.Saved adapter) {}

    /**
     * {@code adapter(drop(d))} ({@link Adapter.Position#AFTER_DROPOUT}, or no adapter) or {@code drop(adapter(d))}
     * ({@link Adapter.Position#BEFORE_DROPOUT}). d: (N, C), modified (dropped in place when the dropout comes first).
     */
    private Sublayer dropoutAndAdapter(float[] d, Dropout dropout, Adapter adapter, int n, boolean keep, DropoutContext drop) {
        if (adapter == null || adapter.site().position() == Adapter.Position.AFTER_DROPOUT) {
            Dropout.Mask m = dropout.forwardInPlace(d, n * hidden, drop);
            var ad = adapter == null ? null : adapter.forward(d, n, keep, drop);
            return new Sublayer(ad == null ? d : ad.out(), m, ad == null ? null : ad.saved());
        }
        var ad = adapter.forward(d, n, keep, drop);
        Dropout.Mask m = dropout.forwardInPlace(ad.out(), n * hidden, drop);
        return new Sublayer(ad.out(), m, ad.saved());
    }

    /**
     * From d(sum) to d(dense output), differentiating {@code sum = adapter(drop(dense)) + residual} (or
     * {@code drop(adapter(dense)) + residual} for an adapter placed before the dropout): through the adapter when
     * present and the dropout mask, in reverse forward order. Returns dSum itself when there is neither, else another
     * array (dSum is still needed for the residual); copies come from {@code grads} when non-null.
     */
    private static float[] beforeResidual(float[] dSum, Adapter adapter, Adapter.Saved as, Dropout.Mask mask,
                                          Scratch grads) {
        if (adapter != null && adapter.site().position() == Adapter.Position.BEFORE_DROPOUT) {
            float[] d = Scratch.copy(grads, dSum);
            Dropout.applyInPlace(d, mask);                                 // forward was: sum = drop(adapter(dense)) + ...
            return adapter.backward(d, as, true);
        }
        float[] d = adapter == null ? (mask == null ? dSum : Scratch.copy(grads, dSum)) : adapter.backward(dSum, as, true);
        Dropout.applyInPlace(d, mask);
        return d;
    }
}

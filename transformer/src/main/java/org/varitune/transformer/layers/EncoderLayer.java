package org.varitune.transformer.layers;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.List;

/**
 * One post-LN transformer encoder layer, HF {@code BertLayer} / {@code RobertaLayer}, parameters under
 * {@code encoder.layer.<i>.}:
 * <pre>
 *   ctx = attention.self(x)                      // SelfAttention
 *   h1  = attention.output.LayerNorm(attention.output.dense(ctx) + x)
 *   g   = gelu(intermediate.dense(h1))
 *   y   = output.LayerNorm(output.dense(g) + h1)
 * </pre>
 */
public final class EncoderLayer {
    private final Kernels kernels;
    private final SelfAttention attention;
    private final Linear attentionOutput, intermediate, output;
    private final LayerNorm attentionNorm, outputNorm;
    private final int hidden, inter;

    /** Saved for backward. */
    public record Saved(SelfAttention.Saved att, Linear.Saved attOut, LayerNorm.Saved attNorm,
                        Linear.Saved inter, float[] preGelu,      // preGelu: (N, I)
                        Linear.Saved out, LayerNorm.Saved outNorm, int n) {}

    public EncoderLayer(Kernels kernels, int index, int hidden, int heads, int intermediateSize, double eps) {
        this.kernels = kernels;
        this.hidden = hidden;
        this.inter = intermediateSize;
        String p = "encoder.layer." + index + ".";
        this.attention = new SelfAttention(kernels, p + "attention.self", hidden, heads);
        this.attentionOutput = new Linear(kernels, p + "attention.output.dense", hidden, hidden);
        this.attentionNorm = new LayerNorm(kernels, p + "attention.output.LayerNorm", hidden, eps);
        this.intermediate = new Linear(kernels, p + "intermediate.dense", hidden, intermediateSize);
        this.output = new Linear(kernels, p + "output.dense", intermediateSize, hidden);
        this.outputNorm = new LayerNorm(kernels, p + "output.LayerNorm", hidden, eps);
    }

    /** All parameters in HF order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(attention.parameters());
        for (Parameter q : List.of(attentionOutput.weight(), attentionOutput.bias(), attentionNorm.weight(),
                attentionNorm.bias(), intermediate.weight(), intermediate.bias(), output.weight(), output.bias(),
                outputNorm.weight(), outputNorm.bias())) {
            ps.add(q);
        }
        return ps;
    }

    /** x: (B, T, C), attentionMask: (B, T). Returns y: (B, T, C), a new array. */
    public Fwd<Saved> forward(float[] x, int[] attentionMask, int B, int T, boolean keep) {
        int n = B * T;
        var ctx = attention.forward(x, attentionMask, B, T, keep);
        var a = attentionOutput.forward(ctx.out(), n, keep);
        float[] sum1 = a.out();                                            // sum1: (N, C) = a + x
        kernels.add(sum1, sum1, x, n * hidden);
        var h1 = attentionNorm.forward(sum1, n, keep);
        var pre = intermediate.forward(h1.out(), n, keep);                 // pre: (N, I)
        float[] g = keep ? new float[n * inter] : pre.out();              // g: (N, I); in place when not kept
        kernels.geluForward(g, pre.out(), n * inter);
        var o = output.forward(g, n, keep);
        float[] sum2 = o.out();                                            // sum2: (N, C) = o + h1
        kernels.add(sum2, sum2, h1.out(), n * hidden);
        var y = outputNorm.forward(sum2, n, keep);
        Saved s = keep ? new Saved(ctx.saved(), a.saved(), h1.saved(), pre.saved(), pre.out(), o.saved(),
                y.saved(), n) : null;
        return new Fwd<>(y.out(), s);
    }

    /** Differentiates the forward in reverse order; returns dX (B, T, C) when {@code needInputGrad}, else null. */
    public float[] backward(float[] dY, Saved s, boolean needInputGrad) {
        int n = s.n();
        // forward was: y = output.LayerNorm(sum2), sum2 = o + h1
        float[] dSum2 = outputNorm.backward(dY, s.outNorm(), true);
        // forward was: o = output.dense(g)
        float[] dG = output.backward(dSum2, s.out(), true);
        // forward was: g = gelu(pre)
        float[] dPre = new float[n * inter];                               // dPre: (N, I)
        kernels.geluBackward(dPre, s.preGelu(), dG, n * inter);
        // forward was: pre = intermediate.dense(h1); and h1 also feeds sum2 (residual)
        float[] dH1 = intermediate.backward(dPre, s.inter(), true);
        kernels.add(dH1, dH1, dSum2, n * hidden);
        // forward was: h1 = attention.output.LayerNorm(sum1), sum1 = a + x
        float[] dSum1 = attentionNorm.backward(dH1, s.attNorm(), true);
        // forward was: a = attention.output.dense(ctx)
        float[] dCtx = attentionOutput.backward(dSum1, s.attOut(), true);
        // forward was: ctx = attention.self(x); and x also feeds sum1 (residual)
        float[] dX = attention.backward(dCtx, s.att(), needInputGrad);
        if (!needInputGrad) return null;
        kernels.add(dX, dX, dSum1, n * hidden);
        return dX;
    }
}

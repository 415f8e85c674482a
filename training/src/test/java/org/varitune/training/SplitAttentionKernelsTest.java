package org.varitune.training;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.testing.AllClose;
import org.varitune.transformer.testing.TestBase;

import java.util.stream.Stream;

/**
 * The split attention kernels (probabilities; ·V; and their backwards), used when dropout sits on the
 * probabilities, compute what the fused {@code attentionForward}/{@code attentionBackward} compute, including a fully
 * masked row.
 */
class SplitAttentionKernelsTest extends TestBase {
    /** Same double-accumulated arithmetic in another order. Observed at most 1.3e-7 (out: att rounded to float before ·V). */
    static final double SPLIT = 1e-6;

    static Stream<Arguments> kernels() {
        return Stream.of(Arguments.of(new CpuKernels()), Arguments.of(Kernels.fromSystemProperty()));
    }

    @ParameterizedTest
    @MethodSource("kernels")
    void splitAttentionEqualsTheFusedKernels(Kernels k) {
        int B = 3, T = 5, H = 2, D = 3, C = H * D;
        int[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};       // row 2 fully masked
        float[] q = randn(B * T * C), kk = randn(B * T * C), v = randn(B * T * C), dOut = randn(B * T * C);
        float[] out = new float[B * T * C], att = new float[B * H * T * T];
        k.attentionForward(out, att, q, kk, v, mask, B, T, H, D);
        float[] att2 = new float[att.length], out2 = new float[out.length];
        k.attentionProbs(att2, q, kk, mask, B, T, H, D);
        k.attentionValues(out2, att2, v, B, T, H, D);
        AllClose.assertAllClose("att", att2, att, SPLIT, B, H, T, T);
        AllClose.assertAllClose("out", out2, out, SPLIT, B, T, C);
        float[] dQ = new float[out.length], dK = new float[out.length], dV = new float[out.length];
        k.attentionBackward(dQ, dK, dV, dOut, q, kk, v, att, B, T, H, D);
        float[] dQ2 = new float[out.length], dK2 = new float[out.length], dV2 = new float[out.length];
        float[] dAtt = new float[att.length];
        k.attentionValuesBackward(dAtt, dV2, dOut, att, v, B, T, H, D);
        k.attentionProbsBackward(dQ2, dK2, dAtt, att, q, kk, B, T, H, D);
        AllClose.assertAllClose("dQ", dQ2, dQ, SPLIT, B, T, C);
        AllClose.assertAllClose("dK", dK2, dK, SPLIT, B, T, C);
        AllClose.assertAllClose("dV", dV2, dV, SPLIT, B, T, C);
    }
}

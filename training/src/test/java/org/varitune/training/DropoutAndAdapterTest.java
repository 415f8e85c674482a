package org.varitune.training;

import org.junit.jupiter.api.Test;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dropout masks (reproducible, rate, scale, off = identity) and adapters (names, identity at initialisation). */
class DropoutAndAdapterTest extends TestBase {
    private final Kernels kernels = Kernels.fromSystemProperty();

    @Test
    void masksAreReproducibleFromSeedAndStepAndDifferBetweenSitesAndSteps() {
        Dropout a = new Dropout(0.1, Dropout.site(0, Dropout.OUTPUT)), b = new Dropout(0.1, Dropout.site(1, Dropout.OUTPUT));
        float[] m1 = a.mask(DropoutContext.training(5, 3), 2000).multipliers();
        assertArrayEquals(m1, a.mask(DropoutContext.training(5, 3), 2000).multipliers(), "same (seed, step, site)");
        assertFalse(java.util.Arrays.equals(m1, a.mask(DropoutContext.training(5, 4), 2000).multipliers()), "next step");
        assertFalse(java.util.Arrays.equals(m1, a.mask(DropoutContext.training(6, 3), 2000).multipliers()), "other seed");
        assertFalse(java.util.Arrays.equals(m1, b.mask(DropoutContext.training(5, 3), 2000).multipliers()), "other site");
    }

    @Test
    void dropsAboutAFractionPAndScalesKeptElementsByTheInverse() {
        int n = 200_000;
        float[] x = uniform(n, 0.5, 1.5), y = x.clone();
        Dropout d = new Dropout(0.1, Dropout.site(2, Dropout.ATTENTION_OUTPUT));
        Dropout.Mask m = d.forwardInPlace(y, n, DropoutContext.training(1, 1));
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] == 0f) { dropped++; assertFalse(m.keep(i)); }
            else assertEquals(x[i] / 0.9f, y[i], 1e-6f, "kept element " + i + " is scaled by 1/(1-p)");
        }
        // binomial: sd = sqrt(p(1-p)/n) = 6.7e-4, so ±5 sd = 0.0034
        assertEquals(0.1, dropped / (double) n, 0.0034, "dropped fraction");
        float[] back = randn(n), expected = back.clone();
        Dropout.applyInPlace(back, m);
        for (int i = 0; i < n; i++) assertEquals(m.keep(i) ? expected[i] / 0.9f : 0f, back[i], 1e-6f, "backward " + i);
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, 0));
    }

    @Test
    void dropoutOffIsTheIdentityAndOnChangesTheHiddenStates() {
        Encoder e = TinyModels.random(TinyModels.bert(), kernels, false, rand);
        var b = TinyClassifiers.batch(false);
        int B = TinyClassifiers.B, T = TinyClassifiers.T;
        EncoderOutput inference = e.forward(b.ids(), b.types(), b.mask(), B, T, 3);
        var off = e.forwardTrain(b.ids(), b.types(), b.mask(), B, T, 3, DropoutContext.OFF);
        var old = e.forwardTrain(b.ids(), b.types(), b.mask(), B, T, 3);
        var on = e.forwardTrain(b.ids(), b.types(), b.mask(), B, T, 3, DropoutContext.training(9, 0));
        var again = e.forwardTrain(b.ids(), b.types(), b.mask(), B, T, 3, DropoutContext.training(9, 0));
        assertArrayEquals(inference.last(), off.output().last(), "dropout off");
        assertArrayEquals(inference.last(), old.output().last(), "the old training signature has dropout off");
        assertFalse(java.util.Arrays.equals(inference.last(), on.output().last()), "dropout on changes the states");
        assertArrayEquals(on.output().last(), again.output().last(), "same seed and step, same states");
    }

    @Test
    void adaptersHaveHfNamesAndStartAsTheIdentity() {
        Encoder plain = TinyModels.random(TinyModels.roberta(), kernels, false, new Random(3));
        Encoder adapted = TinyModels.random(TinyModels.roberta(), kernels, false, new Random(3));
        adapted.layers().get(1).addAdapters(8, Adapter.Activation.RELU);
        List<String> names = adapted.layers().get(1).parameters().stream().map(Parameter::name)
                .filter(n -> n.contains("adapter")).toList();
        assertEquals(List.of("encoder.layer.1.attention.output.adapter.down.weight",
                "encoder.layer.1.attention.output.adapter.down.bias", "encoder.layer.1.attention.output.adapter.up.weight",
                "encoder.layer.1.attention.output.adapter.up.bias", "encoder.layer.1.output.adapter.down.weight",
                "encoder.layer.1.output.adapter.down.bias", "encoder.layer.1.output.adapter.up.weight",
                "encoder.layer.1.output.adapter.up.bias"), names);
        assertArrayEquals(new int[] {8, 16}, adapted.parameterMap().get("encoder.layer.1.output.adapter.down.weight").shape());
        var b = TinyClassifiers.batch(true);
        assertArrayEquals(plain.forward(b.ids(), null, b.mask(), 3, 7, 3).last(),
                adapted.forward(b.ids(), null, b.mask(), 3, 7, 3).last(), "near-identity init (up = 0) is exact");
        float[] down = adapted.parameterMap().get("encoder.layer.1.output.adapter.down.weight").data();
        assertTrue(java.util.Arrays.stream(toDouble(down)).anyMatch(v -> v != 0), "down projection is random");
        assertThrows(IllegalStateException.class, () -> adapted.layers().get(1).addAdapters(8, Adapter.Activation.RELU));
    }

    @Test
    void bertInitDrawsBothWeightsFromTheInitializerRangeSoTheAdapterIsNotTheIdentity() {
        Encoder plain = TinyModels.random(TinyModels.roberta(), kernels, false, new Random(3));
        Encoder adapted = TinyModels.random(TinyModels.roberta(), kernels, false, new Random(3));
        Adapter.Site bert = new Adapter.Site(200, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0);
        adapted.layers().get(1).addAdapters(bert, bert, Adapter.Activation.RELU, new Random(4));
        for (String w : List.of("down.weight", "up.weight")) {
            float[] d = adapted.parameterMap().get("encoder.layer.1.output.adapter." + w).data();   // 3200 draws
            double mean = java.util.Arrays.stream(toDouble(d)).average().orElseThrow();
            double sd = Math.sqrt(java.util.Arrays.stream(toDouble(d)).map(v -> (v - mean) * (v - mean)).sum() / d.length);
            // sd of the sample sd of 3200 normal draws: 0.02/sqrt(2·3200) = 2.5e-4; ±5 of them
            assertEquals(Adapter.INIT_STD, sd, 1.25e-3, w + " standard deviation");
            assertEquals(0, mean, 5 * Adapter.INIT_STD / Math.sqrt(d.length), w + " mean");
        }
        for (String b : List.of("down.bias", "up.bias")) {
            for (float v : adapted.parameterMap().get("encoder.layer.1.attention.output.adapter." + b).data()) assertEquals(0f, v, b);
        }
        var batch = TinyClassifiers.batch(true);
        assertFalse(java.util.Arrays.equals(plain.forward(batch.ids(), null, batch.mask(), 3, 7, 3).last(),
                adapted.forward(batch.ids(), null, batch.mask(), 3, 7, 3).last()), "BERT init is not the identity");
    }

    @Test
    void aSingleSiteAdapterHasOnlyItsParametersAndItsOwnDropoutSite() {
        Encoder e = TinyModels.random(TinyModels.bert(), kernels, false, new Random(3));
        e.layers().get(2).addAdapters(new Adapter.Site(3, Adapter.Init.NEAR_IDENTITY, Adapter.Position.BEFORE_DROPOUT, 0.1),
                null, Adapter.Activation.RELU, new Random(1));
        assertEquals(List.of("encoder.layer.2.attention.output.adapter.down.weight",
                "encoder.layer.2.attention.output.adapter.down.bias", "encoder.layer.2.attention.output.adapter.up.weight",
                "encoder.layer.2.attention.output.adapter.up.bias"), e.layers().get(2).parameters().stream()
                .map(Parameter::name).filter(n -> n.contains("adapter")).toList());
        assertTrue(e.layers().get(2).hasAdapters());
        assertThrows(IllegalStateException.class, () -> e.layers().get(2).addAdapters(null, Adapter.Site.houlsby(3),
                Adapter.Activation.RELU, new Random(1)), "adapters are added once per layer");
        assertThrows(IllegalArgumentException.class, () -> e.layers().get(1).addAdapters(null, null,
                Adapter.Activation.RELU, new Random(1)));
        assertThrows(IllegalArgumentException.class, () -> new Adapter.Site(0, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 0));
        assertThrows(IllegalArgumentException.class, () -> new Adapter.Site(4, Adapter.Init.BERT, Adapter.Position.AFTER_DROPOUT, 1));
    }
}

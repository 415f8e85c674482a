package org.varitune.training;

import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.Dropout;
import org.varitune.transformer.layers.DropoutContext;
import org.varitune.transformer.layers.Pooling;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.TinyModels;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.reference.DoubleEncoder;
import org.varitune.transformer.reference.DoubleLayers;
import org.varitune.training.reference.DoubleClassifier;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

/** Tiny random classifiers (TinyModels' 3-layer configs, hidden 16), their batches, and their double oracles. */
public final class TinyClassifiers {
    private TinyClassifiers() {}

    public static final int B = 3, T = 7, LABELS = 3;
    /** 1 = attend; rows have 0, 2 and 4 pad positions. */
    public static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0};
    public static final int[] LABELS_OF_ROWS = {0, 2, 1};

    /** A padded batch: repeated ids within and across rows, BERT's pad id 0 at an attended position (b=0, t=2). */
    public record Batch(int[] ids, int[] types, int[] mask, int[] special, int[] labels) {}

    public static Batch batch(boolean roberta) {
        int[] ids = roberta
                ? new int[] {0, 17, 23, 17, 2, 44, 2, 0, 5, 5, 9, 2, 1, 1, 0, 11, 2, 1, 1, 1, 1}
                : new int[] {2, 17, 0, 17, 3, 42, 3, 2, 5, 5, 3, 9, 0, 0, 2, 11, 11, 0, 0, 0, 0};
        int[] types = roberta ? new int[B * T]
                : new int[] {0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0};
        int[] special = new int[B * T];
        for (int i = 0; i < ids.length; i++) {
            boolean sp = roberta ? ids[i] <= 2 : ids[i] == 2 || ids[i] == 3;
            special[i] = (sp && MASK[i] == 1) || MASK[i] == 0 ? 1 : 0;
        }
        return new Batch(ids, types, MASK.clone(), special, LABELS_OF_ROWS.clone());
    }

    public static EncoderConfig config(boolean roberta) { return roberta ? TinyModels.roberta() : TinyModels.bert(); }

    /**
     * A random classifier: encoder weights ~ N(0, 0.3²) (LayerNorm weights 1 + noise), the head likewise, adapters
     * (when {@code adapters}) with random rather than near-identity weights so that every gradient is exercised.
     */
    public static SequenceClassifier model(boolean roberta, Kernels k, int headLayer, Pooling pooling,
                                           boolean adapters, Random rand) {
        Adapter.Site site = adapters ? Adapter.Site.houlsby(5) : null;
        return model(roberta, k, headLayer, pooling, site, site, rand);
    }

    /** As above with GELU adapters at the given sites (null = none there) in every layer up to the head. */
    public static SequenceClassifier model(boolean roberta, Kernels k, int headLayer, Pooling pooling,
                                           Adapter.Site attention, Adapter.Site output, Random rand) {
        EncoderConfig c = config(roberta);
        Encoder enc = TinyModels.random(c, k, false, rand);
        if (attention != null || output != null) {
            for (int l = 0; l < headLayer; l++) enc.layers().get(l).addAdapters(attention, output, Adapter.Activation.GELU, rand);
        }
        Pooling p = pooling;
        ClassificationHead head = new ClassificationHead(k, c.family(), c.hiddenSize(), LABELS, c.hiddenDropoutProb(), p);
        SequenceClassifier m = new SequenceClassifier(enc, head, headLayer);
        for (Parameter q : m.parameters()) {
            if (q.name().startsWith("embeddings.") || (q.name().startsWith("encoder.") && !q.name().contains(".adapter."))) {
                continue;
            }
            float[] d = q.data();
            for (int i = 0; i < d.length; i++) d[i] = (float) (0.3 * rand.nextGaussian());
        }
        return m;
    }

    /** The double oracle of a model, with the masks that {@code drop} draws (none when off). */
    public static DoubleClassifier oracle(SequenceClassifier m, DropoutContext drop, DoubleLayers.Act adapterAct) {
        EncoderConfig c = m.encoder().config();
        DoubleEncoder.Masks masks = drop == null || !drop.enabled() ? DoubleEncoder.Masks.NONE : masks(m.encoder(), drop);
        Set<String> before = new HashSet<>();
        for (int l = 0; l < m.headLayer(); l++) {
            var layer = m.encoder().layers().get(l);
            String pr = "encoder.layer." + l + ".";
            if (isBefore(layer.attentionAdapter())) before.add(pr + "attention.output.adapter");
            if (isBefore(layer.outputAdapter())) before.add(pr + "output.adapter");
        }
        DoubleEncoder enc = new DoubleEncoder(c, m.headLayer(), DoubleEncoder.params(m.parameters()), masks, adapterAct, before);
        return new DoubleClassifier(enc, m.headLayer(), m.head().pooling().name());
    }

    private static boolean isBefore(Adapter a) { return a != null && a.site().position() == Adapter.Position.BEFORE_DROPOUT; }

    /** The masks our Dropouts (the adapters' bottleneck ones included) draw in {@code enc} under {@code drop}, by site. */
    public static DoubleEncoder.Masks masks(Encoder enc, DropoutContext drop) {
        DoubleEncoder.Masks base = masks(enc.config(), drop);
        return (site, n) -> {
            int slot = (int) (site & 0xFF);
            if (slot != Dropout.ATTENTION_ADAPTER && slot != Dropout.OUTPUT_ADAPTER) return base.get(site, n);
            var layer = enc.layers().get((int) (site >> 8));
            Adapter a = slot == Dropout.ATTENTION_ADAPTER ? layer.attentionAdapter() : layer.outputAdapter();
            Dropout.Mask mk = new Dropout(a.site().dropout(), site).mask(drop, n);
            return mk == null ? null : toDouble(mk.multipliers());
        };
    }

    private static double[] toDouble(float[] m) {
        double[] d = new double[m.length];
        for (int i = 0; i < m.length; i++) d[i] = m[i];
        return d;
    }

    /** The masks our Dropouts draw under {@code drop}, as multipliers, by site. */
    public static DoubleEncoder.Masks masks(EncoderConfig c, DropoutContext drop) {
        return (site, n) -> {
            int slot = (int) (site & 0xFF);
            double p = slot == Dropout.ATTENTION_PROBS ? c.attentionProbsDropoutProb() : c.hiddenDropoutProb();
            float[] m = new Dropout(p, site).mask(drop, n).multipliers();
            double[] d = new double[n];
            for (int i = 0; i < n; i++) d[i] = m[i];
            return d;
        };
    }
}

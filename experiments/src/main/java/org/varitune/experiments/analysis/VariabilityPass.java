package org.varitune.experiments.analysis;

import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.experiments.data.TaskData;
import org.varitune.transformer.layers.Pooling;
import org.varitune.metrics.VariabilityAccumulator;
import org.varitune.metrics.Variant;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderOutput;
import org.varitune.transformer.tokenize.Batch;
import org.varitune.transformer.tokenize.Encoding;
import org.varitune.transformer.tokenize.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * One streaming pass of the encoder over a training set, filling a {@link VariabilityAccumulator} with the pooled
 * hidden states of every layer (hidden_states[0..L]); pooled vectors are never kept beyond the accumulator's bounded
 * reservoir. Examples are processed in file order, in batches padded to their longest member. With a checkpoint
 * file the accumulator is saved atomically every {@code checkpointEvery} batches and a killed pass resumes where it
 * stopped ({@link VariabilityAccumulator#examplesSeen()}), giving the same statistics bit for bit; the settings that
 * shape the statistics (pooling, max length, variant, reservoir, seed) are written beside it ({@code <checkpoint>.settings})
 * and a checkpoint written under other settings is refused rather than silently reused.
 *
 * <h2>Reservoir</h2>
 * The accumulator keeps {@code k = min(reservoirPerClass, ⌊RESERVOIR_BUDGET_BYTES / (4 (L+1) d C)⌋)} pooled vectors per
 * class and layer, so the reservoir takes at most {@code 4 (L+1) d Σ_y min(n_y, k)} ≤ {@link #RESERVOIR_BUDGET_BYTES}
 * bytes. With the defaults every built-in task and any task of up to 5,000 examples per class on a 6-layer, 384-dim
 * encoder (103 MiB for 10,000 examples) is held whole, so the bootstrap uses the same examples as the exact nu.
 */
public final class VariabilityPass {
    /** Default cap of pooled vectors kept per class and layer. */
    public static final int DEFAULT_RESERVOIR_PER_CLASS = 5_000;
    /** Memory bound of the reservoir: 256 MiB of float32 vectors over all layers and classes. */
    public static final long RESERVOIR_BUDGET_BYTES = 256L << 20;

    /**
     * Settings of a pass. {@code maxLength} truncates (longest_first) including special tokens. {@code variant} is the
     * scatter definition the statistics will be read with: {@link Variant#PAPYAN_SAMPLE_WEIGHTED} needs the plain
     * second moment, which the accumulator then keeps (twice the d² memory).
     */
    public record Options(int maxLength, int batchSize, Pooling pooling, Variant variant, int reservoirPerClass, long seed,
                          Path checkpoint, int checkpointEvery) {
        public static Options defaults() {
            return new Options(128, 32, Pooling.MEAN_NON_SPECIAL, Variant.PAPER_CLASS_BALANCED, DEFAULT_RESERVOIR_PER_CLASS,
                    17L, null, 20);
        }

        public Options withCheckpoint(Path file) {
            return new Options(maxLength, batchSize, pooling, variant, reservoirPerClass, seed, file, checkpointEvery);
        }
    }

    /** The reservoir size per class actually used: the cap, lowered to fit {@link #RESERVOIR_BUDGET_BYTES}. */
    public static int reservoirPerClass(int cap, int layers, int dim, int classes) {
        long perExample = 4L * layers * dim * classes;
        return (int) Math.max(1, Math.min(cap, RESERVOIR_BUDGET_BYTES / perExample));
    }

    private VariabilityPass() {}

    /**
     * Runs the pass. Class labels come from the dataset (STS-B scores are binned, see {@link TaskData#metricClasses}).
     *
     * @param progress receives the number of examples done so far (may be null)
     */
    public static VariabilityAccumulator run(Encoder encoder, Tokenizer tokenizer, Dataset train, Options o,
                                             LongConsumer progress) throws IOException {
        int[] labels = TaskData.metricClasses(train);
        int numClasses = TaskData.metricClassCount(train);
        int[] counts = new int[numClasses];
        for (int y : labels) counts[y]++;
        if (train.regression()) {
            // score bins are a device of the metric, not classes of the task: drop the empty ones (renumbering the
            // rest in order) instead of failing; a classification task with an empty class is still an error
            int[] remap = new int[numClasses];
            int kept = 0;
            for (int c = 0; c < numClasses; c++) remap[c] = counts[c] > 0 ? kept++ : -1;
            if (kept < numClasses) {
                labels = labels.clone();
                for (int i = 0; i < labels.length; i++) labels[i] = remap[labels[i]];
                int[] kc = new int[kept];
                for (int c = 0; c < numClasses; c++) if (remap[c] >= 0) kc[remap[c]] = counts[c];
                counts = kc;
                numClasses = kept;
            }
        }
        for (int c = 0; c < numClasses; c++) {
            if (counts[c] == 0) {
                throw new IllegalArgumentException(train.source() + ": class " + c + " ("
                        + (c < train.labelNames().size() ? train.labelNames().get(c) : "bin " + c)
                        + ") has no training example: the variability ratio needs every class");
            }
        }
        int layers = encoder.numLayers() + 1, C = encoder.config().hiddenSize();
        int reservoir = o.reservoirPerClass() == 0 ? 0 : reservoirPerClass(o.reservoirPerClass(), layers, C, numClasses);
        VariabilityAccumulator.Options accOptions = new VariabilityAccumulator.Options(
                o.variant() == Variant.PAPYAN_SAMPLE_WEIGHTED, reservoir, o.seed(), 0);
        String settings = String.format(Locale.ROOT, "pooling=%s max_length=%d variant=%s reservoir_per_class=%d seed=%d%n",
                o.pooling(), o.maxLength(), o.variant(), reservoir, o.seed());
        Path settingsFile = o.checkpoint() == null ? null : o.checkpoint().resolveSibling(o.checkpoint().getFileName() + ".settings");
        VariabilityAccumulator acc = null;
        if (o.checkpoint() != null && Files.exists(o.checkpoint())) {
            String saved = Files.exists(settingsFile) ? Files.readString(settingsFile) : "(no settings file)";
            if (!saved.equals(settings)) {
                throw new IOException(o.checkpoint() + ": checkpoint was written with " + saved.strip() + " (" + settingsFile
                        + ") but this pass uses " + settings.strip() + "; delete it to start over or use another output directory");
            }
            acc = VariabilityAccumulator.load(o.checkpoint());
            if (acc.layers() != layers || acc.dim() != C || !java.util.Arrays.equals(acc.classCounts(), counts)
                    || !acc.options().equals(accOptions)) {
                throw new IOException(o.checkpoint() + ": checkpoint is for another model or data set (layers "
                        + acc.layers() + ", dim " + acc.dim() + ", options " + acc.options() + "); delete it to start over");
            }
        }
        if (acc == null) {
            acc = new VariabilityAccumulator(layers, C, counts, null, accOptions);
            if (settingsFile != null) AtomicFiles.writeString(settingsFile, settings);
        }
        List<Example> ex = train.examples();
        int start = Math.toIntExact(acc.examplesSeen());
        if (progress != null) progress.accept(start);
        int batches = 0;
        for (int i = start; i < ex.size(); i += o.batchSize()) {
            int end = Math.min(ex.size(), i + o.batchSize());
            List<Encoding> encs = new ArrayList<>(end - i);
            int[] y = new int[end - i];
            for (int j = i; j < end; j++) {
                Example e = ex.get(j);
                encs.add(tokenizer.encode(e.textA(), e.textB(), o.maxLength()));
                y[j - i] = labels[j];
            }
            Batch b = Batch.pad(encs, tokenizer.padTokenId(), 1);
            EncoderOutput out = encoder.forward(b);
            float[][] pooled = new float[layers][];
            for (int l = 0; l < layers; l++) {
                pooled[l] = new float[b.B() * C];                          // pooled[l]: (B, C)
                o.pooling().pool(out.hiddenStates().get(l), b.attentionMask(), b.specialTokensMask(), b.B(), b.T(), C,
                        pooled[l]);
            }
            acc.addAll(pooled, y, b.B());
            if (progress != null) progress.accept(end);
            if (o.checkpoint() != null && ++batches % o.checkpointEvery() == 0) acc.save(o.checkpoint());
        }
        acc.checkComplete();
        if (o.checkpoint() != null) acc.save(o.checkpoint());
        return acc;
    }
}

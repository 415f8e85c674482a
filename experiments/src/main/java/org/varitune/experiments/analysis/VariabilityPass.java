package org.varitune.experiments.analysis;

import org.varitune.experiments.data.Dataset;
import org.varitune.experiments.data.Example;
import org.varitune.experiments.data.TaskData;
import org.varitune.metrics.Pooling;
import org.varitune.metrics.VariabilityAccumulator;
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
import java.util.function.LongConsumer;

/**
 * One streaming pass of the encoder over a training set, filling a {@link VariabilityAccumulator} with the pooled
 * hidden states of every layer (hidden_states[0..L]); pooled vectors are never kept beyond the accumulator's bounded
 * reservoir. Examples are processed in file order, in batches padded to their longest member. With a checkpoint
 * file the accumulator is saved atomically every {@code checkpointEvery} batches and a killed pass resumes where it
 * stopped ({@link VariabilityAccumulator#examplesSeen()}), giving the same statistics bit for bit.
 */
public final class VariabilityPass {
    /** Settings of a pass. {@code maxLength} truncates (longest_first) including special tokens. */
    public record Options(int maxLength, int batchSize, Pooling pooling, int reservoirPerClass, long seed,
                          Path checkpoint, int checkpointEvery) {
        public static Options defaults() {
            return new Options(128, 32, Pooling.MEAN_NON_SPECIAL, 500, 17L, null, 20);
        }
    }

    private VariabilityPass() {}

    /**
     * Runs the pass. Class labels come from the dataset (STS-B scores are binned, see {@link TaskData#metricClasses}).
     *
     * @param sampleWeighted also accumulate the plain second moment, which the {@code papyan} variant needs
     *                       ({@link VariabilityAccumulator.Options#sampleWeighted()})
     * @param progress       receives the number of examples done so far (may be null)
     */
    public static VariabilityAccumulator run(Encoder encoder, Tokenizer tokenizer, Dataset train, Options o,
                                             boolean sampleWeighted, LongConsumer progress) throws IOException {
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
        VariabilityAccumulator acc = null;
        if (o.checkpoint() != null && Files.exists(o.checkpoint())) {
            acc = VariabilityAccumulator.load(o.checkpoint());
            if (acc.layers() != layers || acc.dim() != C || !java.util.Arrays.equals(acc.classCounts(), counts)) {
                throw new IOException(o.checkpoint() + ": checkpoint is for another model or data set (layers "
                        + acc.layers() + ", dim " + acc.dim() + "); delete it to start over");
            }
        }
        if (acc == null) {
            acc = new VariabilityAccumulator(layers, C, counts, null,
                    new VariabilityAccumulator.Options(sampleWeighted, o.reservoirPerClass(), o.seed(), 0));
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

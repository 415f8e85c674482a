package org.varitune.training.trainer;

import org.varitune.metrics.task.TaskMetrics;
import org.varitune.training.CrossEntropyLoss;
import org.varitune.training.MseLoss;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.tokenize.Batch;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Evaluation of a classifier on a labelled split, dropout off: predictions are the arg-max of the logits
 * (classification; ties to the lower class) or the single output (regression), scored with
 * {@link TaskMetrics#forTask} (a regression task that is not {@code stsb} gets STS-B's Pearson and Spearman), plus
 * {@code loss}, the mean evaluation loss.
 */
public final class Evaluator {
    private Evaluator() {}

    /**
     * @param task      GLUE task id or built-in name, for {@link TaskMetrics#forTask}
     * @param cache     cached prefix of {@code ds} (hidden state {@link PrefixCache#layer()}, the plan's
     *                  {@link org.varitune.training.LayerPlan#prefixEnd()}), or null to run the whole model
     * @return metric name → value, in {@link TaskMetrics#forTask}'s order, then {@code loss}
     */
    public static Map<String, Double> evaluate(SequenceClassifier model, TokenizedDataset ds, String task, int batchSize,
                                               PrefixCache cache) {
        int n = ds.size(), K = ds.numLabels();
        int[] predLabels = ds.regression() ? null : new int[n];
        double[] predScores = ds.regression() ? new double[n] : null;
        double lossSum = 0;
        for (int[] idx : BatchPlan.sortedByLength(ds.lengths(), batchSize)) {
            Batch b = ds.batch(idx);
            float[] logits = cache == null ? model.logits(b)                 // logits: (B, K)
                    : model.logitsFrom(cache.gather(idx, b.T()), b.attentionMask(), b.specialTokensMask(), b.B(), b.T(),
                            cache.layer());
            if (ds.regression()) {
                lossSum += MseLoss.forward(logits, ds.scoresOf(idx), b.B()).loss() * b.B();
                for (int r = 0; r < idx.length; r++) predScores[idx[r]] = logits[r];
            } else {
                lossSum += CrossEntropyLoss.forward(logits, ds.labelsOf(idx), b.B(), K).loss() * b.B();
                for (int r = 0; r < idx.length; r++) {
                    int best = 0;
                    for (int k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
                    predLabels[idx[r]] = best;
                }
            }
        }
        Map<String, Double> m;
        if (ds.regression()) {
            double[] gold = new double[n];
            for (int i = 0; i < n; i++) gold[i] = ds.scores()[i];
            m = TaskMetrics.forTask("stsb", null, null, predScores, gold);
        } else {
            m = TaskMetrics.forTask(task, predLabels, ds.labels(), null, null);
        }
        Map<String, Double> out = new LinkedHashMap<>(m);
        out.put("loss", lossSum / n);
        return out;
    }
}

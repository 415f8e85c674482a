package org.varitune.metrics.task;

import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Evaluation metrics of the GLUE tasks, computed exactly as HF's {@code glue_compute_metrics} / scikit-learn do.
 * All inputs are read only.
 */
public final class TaskMetrics {
    private TaskMetrics() {}

    /** Fraction of {@code predicted[i] == gold[i]}. */
    public static double accuracy(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        int ok = 0;
        for (int i = 0; i < gold.length; i++) if (predicted[i] == gold[i]) ok++;
        return (double) ok / gold.length;
    }

    /**
     * Binary F1 of the positive class 1: {@code 2·tp / (2·tp + fp + fn)}; 0 when there is no positive prediction nor
     * gold positive (scikit-learn's {@code zero_division=0}).
     */
    public static double f1(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        long tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < gold.length; i++) {
            if (predicted[i] == 1 && gold[i] == 1) tp++;
            else if (predicted[i] == 1) fp++;
            else if (gold[i] == 1) fn++;
        }
        long den = 2 * tp + fp + fn;
        return den == 0 ? 0.0 : 2.0 * tp / den;
    }

    /**
     * Matthews correlation coefficient (CoLA), multi-class form of scikit-learn ({@code matthews_corrcoef}):
     * {@code (c·s − Σ_k p_k·t_k) / sqrt((s² − Σ p_k²)(s² − Σ t_k²))} with c correct, s samples, p_k predicted and
     * t_k true counts of class k; 0 when the denominator is 0.
     */
    public static double matthews(int[] predicted, int[] gold) {
        check(predicted.length, gold.length);
        int k = 0;
        for (int i = 0; i < gold.length; i++) k = Math.max(k, Math.max(predicted[i], gold[i]) + 1);
        double[] p = new double[k], t = new double[k];
        double c = 0, s = gold.length;
        for (int i = 0; i < gold.length; i++) {
            p[predicted[i]]++;
            t[gold[i]]++;
            if (predicted[i] == gold[i]) c++;
        }
        double pt = 0, pp = 0, tt = 0;
        for (int j = 0; j < k; j++) { pt += p[j] * t[j]; pp += p[j] * p[j]; tt += t[j] * t[j]; }
        double den = Math.sqrt((s * s - pp) * (s * s - tt));
        return den == 0 ? 0.0 : (c * s - pt) / den;
    }

    /** Pearson correlation (commons-math3). */
    public static double pearson(double[] predicted, double[] gold) {
        check(predicted.length, gold.length);
        return new PearsonsCorrelation().correlation(predicted, gold);
    }

    /** Spearman rank correlation with average ranks for ties (commons-math3). */
    public static double spearman(double[] predicted, double[] gold) {
        check(predicted.length, gold.length);
        return new SpearmansCorrelation().correlation(predicted, gold);
    }

    /**
     * The metrics GLUE reports for a task (HF names): cola {@code mcc}; sst2, qnli, rte, wnli, mnli {@code accuracy};
     * mrpc, qqp {@code accuracy}, {@code f1}; stsb {@code pearson}, {@code spearman}. Classification tasks also get
     * accuracy. Regression uses {@code scores}, classification {@code labels}.
     */
    public static Map<String, Double> forTask(String task, int[] predictedLabels, int[] goldLabels,
                                              double[] predictedScores, double[] goldScores) {
        Map<String, Double> m = new LinkedHashMap<>();
        switch (task) {
            case "stsb" -> {
                m.put("pearson", pearson(predictedScores, goldScores));
                m.put("spearman", spearman(predictedScores, goldScores));
            }
            case "cola" -> {
                m.put("mcc", matthews(predictedLabels, goldLabels));
                m.put("accuracy", accuracy(predictedLabels, goldLabels));
            }
            case "mrpc", "qqp" -> {
                m.put("accuracy", accuracy(predictedLabels, goldLabels));
                m.put("f1", f1(predictedLabels, goldLabels));
            }
            default -> m.put("accuracy", accuracy(predictedLabels, goldLabels));
        }
        return m;
    }

    private static void check(int a, int b) {
        if (a != b) throw new IllegalArgumentException("predictions have " + a + " entries but gold has " + b);
        if (a == 0) throw new IllegalArgumentException("no examples to evaluate");
    }
}

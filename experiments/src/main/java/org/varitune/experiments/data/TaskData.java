package org.varitune.experiments.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of one run: a train set, the dev sets evaluated during and after training (GLUE: {@code dev}; MNLI:
 * {@code dev_matched} then {@code dev_mismatched}; built-in tasks: {@code dev}), and a labeled test set where one
 * exists (built-in tasks; GLUE test labels are not public, so null there).
 *
 * @param name       task id ({@code "mrpc"}, {@code "wordnet-supersense"}, ...)
 * @param train      training split
 * @param devs       dev splits, the first is the one used for model selection (immutable, non-empty)
 * @param test       labeled test split, or null
 * @param mainMetric the metric that selects checkpoints ({@link GlueTask#mainMetric()}; {@code accuracy} for
 *                   built-in tasks; for data files {@code accuracy}, or {@code pearson} for regression)
 */
public record TaskData(String name, Dataset train, List<Dataset> devs, Dataset test, String mainMetric) {

    /** Default number of bins of STS-B scores for the variability metric. */
    public static final int STSB_BINS = 5;

    public TaskData {
        devs = List.copyOf(devs);
        if (devs.isEmpty()) throw new IllegalArgumentException(name + ": no dev split");
        for (Dataset d : devs) checkCompatible(train, d);
        if (test != null) checkCompatible(train, test);
    }

    private static void checkCompatible(Dataset train, Dataset other) {
        if (!train.labelNames().equals(other.labelNames()) || train.regression() != other.regression()
                || train.pair() != other.pair())
            throw new IllegalArgumentException(other.name() + "/" + other.split() + " (" + other.labelNames()
                    + ", pair=" + other.pair() + ") does not match " + train.name() + "/" + train.split() + " ("
                    + train.labelNames() + ", pair=" + train.pair() + ")");
    }

    /**
     * A GLUE task: train (its first {@code maxTrain} examples in file order; 0 = all) and every dev split in full.
     *
     * @param dataDir the GLUE root holding {@code CoLA/}, {@code SST-2/}, ..., or the task's own folder (any name)
     *                holding {@code train.tsv}, {@code dev.tsv} ({@link GlueReader#locate}). Not modified.
     * @throws IOException as {@link GlueReader#read}
     */
    public static TaskData glue(GlueTask task, Path dataDir, int maxTrain) throws IOException {
        Dataset train = GlueReader.read(task, dataDir, "train", maxTrain);
        List<Dataset> devs = new ArrayList<>();
        for (String split : task.devSplits()) devs.add(GlueReader.read(task, dataDir, split, 0));
        return new TaskData(task.id(), train, devs, null, task.mainMetric());
    }

    /**
     * A user's task from data files (CSV, TSV or JSON Lines), read by {@link DataFileReader#read}: the train file
     * decides the text columns, the task type and the label list ({@link #labelNames()}, the id2label to save with a
     * model); the validation file is the one dev split; the test file, when given, may be unlabeled.
     *
     * @param test     test file, or null
     * @param maxTrain 0 = all; otherwise the first {@code maxTrain} train examples in file order
     * @throws MalformedDataException naming the file, line and column of a format error
     */
    public static TaskData files(Path train, Path validation, Path test, DataFileOptions options, int maxTrain)
            throws IOException {
        return DataFileReader.read(train, validation, test, options, maxTrain);
    }

    /** A built-in task with its default sizes (train, dev, test). See {@link BuiltinTasks}. */
    public static TaskData builtin(String name) {
        return builtin(name, BuiltinTasks.info(name).defaultSizes());
    }

    /** A built-in task with the given sizes per class. */
    public static TaskData builtin(String name, BuiltinTasks.Sizes sizes) {
        return new TaskData(name, BuiltinTasks.load(name, "train", sizes), List.of(BuiltinTasks.load(name, "dev", sizes)),
                BuiltinTasks.load(name, "test", sizes), "accuracy");
    }

    /**
     * The same task with only the first {@code n} training examples (file order for GLUE; the built-in order, which is
     * class-shuffled with a fixed seed, for built-ins). Dev and test are unchanged.
     */
    public TaskData truncateTrain(int n) {
        if (n <= 0 || n >= train.examples().size()) return this;
        Dataset t = new Dataset(train.name(), train.task(), train.split(), List.copyOf(train.examples().subList(0, n)),
                train.labelNames(), train.regression(), train.pair(), train.source(), train.malformedLines(),
                train.malformedSamples(), train.emptyTexts());
        return new TaskData(name, t, devs, test, mainMetric);
    }

    /** The dev split used for model selection. */
    public Dataset dev() { return devs.get(0); }

    /** True for a sentence-pair task. */
    public boolean isPair() { return train.pair(); }

    /** True for a regression task (STS-B). */
    public boolean isRegression() { return train.regression(); }

    /** Number of head outputs ({@link Dataset#numLabels()}). */
    public int numLabels() { return train.numLabels(); }

    /** Class names; empty for regression. */
    public List<String> labelNames() { return train.labelNames(); }

    /**
     * Equal-width binning of regression scores into classes, for the variability metric only (training and
     * evaluation use the scores): {@code bin = min(numBins - 1, floor((s - min) / (max - min) * numBins))}, so with
     * STS-B's {@code [0, 5]} and 5 bins the classes are [0,1), [1,2), [2,3), [3,4), [4,5] (a score of exactly 5 falls
     * in the last bin).
     *
     * @param scores  (N) scores in {@code [min, max]}. Not modified.
     * @return (N) bin ids in {@code [0, numBins)}
     * @throws IllegalArgumentException for a score outside {@code [min, max]} or NaN (naming its index), or
     *                                  {@code numBins < 1}, or {@code min >= max}
     */
    public static int[] binScores(double[] scores, double min, double max, int numBins) {
        if (numBins < 1) throw new IllegalArgumentException("numBins " + numBins + " < 1");
        if (!(min < max)) throw new IllegalArgumentException("empty score range [" + min + ", " + max + "]");
        int[] bins = new int[scores.length];
        for (int i = 0; i < scores.length; i++) {
            double s = scores[i];
            if (!(s >= min && s <= max))
                throw new IllegalArgumentException("score[" + i + "] = " + s + " outside [" + min + ", " + max + "]");
            bins[i] = Math.min(numBins - 1, (int) Math.floor((s - min) / (max - min) * numBins));
        }
        return bins;
    }

    /**
     * Class ids for the variability metric: the labels of a classification dataset, or the scores of a regression
     * dataset binned with {@link #binScores} into {@link #STSB_BINS} bins, over {@code [0, 5]} for STS-B and over the
     * dataset's own {@code [min, max]} for other regression tasks (a user's data file).
     *
     * @return (N) class ids; {@code classes} of them: {@link #metricClassCount(Dataset)}
     * @throws IllegalArgumentException for a regression dataset (not STS-B) whose scores are all equal
     */
    public static int[] metricClasses(Dataset d) {
        if (!d.regression()) return d.labels();
        double[] s = d.scores();
        if (d.task().equals(GlueTask.STSB.id()))
            return binScores(s, GlueReader.STSB_MIN_SCORE, GlueReader.STSB_MAX_SCORE, STSB_BINS);
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (double x : s) { min = Math.min(min, x); max = Math.max(max, x); }
        if (!(min < max))
            throw new IllegalArgumentException(d + ": every score is " + min + "; nothing to bin into classes");
        return binScores(s, min, max, STSB_BINS);
    }

    /** Number of classes of {@link #metricClasses(Dataset)}: {@link #STSB_BINS} for regression, else numLabels. */
    public static int metricClassCount(Dataset d) {
        return d.regression() ? STSB_BINS : d.numLabels();
    }
}

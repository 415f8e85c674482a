package org.varitune.experiments.data;

import java.util.List;

/**
 * One split of one task, in memory, with what the reader noticed about its source.
 *
 * <p><b>numLabels</b> is the number of outputs of the task head, as HF's {@code num_labels}: the number of classes
 * for classification ({@code labelNames.size()}, at least 2), and 1 for regression (STS-B: one output, the score;
 * {@code labelNames} is empty).
 *
 * @param name             display name of the task, e.g. {@code "MRPC"}, {@code "wordnet-supersense"}
 * @param task             canonical lower-case task id, e.g. {@code "mrpc"}, {@code "stsb"}, {@code "wordnet-supersense"}
 * @param split            split name, e.g. {@code "train"}, {@code "dev"}, {@code "dev_mismatched"}, {@code "test"}
 * @param examples         the examples in source order (immutable)
 * @param labelNames       class names, index = label id (immutable; empty for regression)
 * @param regression       true for a regression task (targets in {@link Example#score()})
 * @param pair             true for a sentence-pair task (every example has a {@code textB})
 * @param source           where the examples came from: a file path, or a classpath resource for built-in tasks
 * @param malformedLines   number of source lines skipped as malformed (only QQP tolerates them; 0 elsewhere)
 * @param malformedSamples the first {@link #MAX_SAMPLES} skipped lines with their reasons (immutable)
 * @param emptyTexts       number of examples whose {@code textA} or {@code textB} is empty (kept, not skipped)
 */
public record Dataset(String name, String task, String split, List<Example> examples, List<String> labelNames,
                      boolean regression, boolean pair, String source, int malformedLines,
                      List<LineIssue> malformedSamples, int emptyTexts) {

    /** How many malformed lines a dataset keeps as samples in {@link #malformedSamples()}. */
    public static final int MAX_SAMPLES = 10;

    /** A skipped source line: its 1-based number and why it was skipped. */
    public record LineIssue(int line, String reason) {
        @Override public String toString() { return "line " + line + ": " + reason; }
    }

    public Dataset {
        examples = List.copyOf(examples);
        labelNames = List.copyOf(labelNames);
        malformedSamples = List.copyOf(malformedSamples);
        if (regression && !labelNames.isEmpty())
            throw new IllegalArgumentException(name + "/" + split + ": regression task with label names " + labelNames);
        if (!regression && labelNames.size() < 2)
            throw new IllegalArgumentException(name + "/" + split + ": classification needs >= 2 label names, got " + labelNames);
        for (Example e : examples) {
            if (e.isPair() != pair)
                throw new IllegalArgumentException(source + " line " + e.sourceLine() + ": example pair=" + e.isPair()
                        + " in a dataset with pair=" + pair);
            if (e.label() >= labelNames.size() && e.label() != Example.NO_LABEL)
                throw new IllegalArgumentException(source + " line " + e.sourceLine() + ": label " + e.label()
                        + " outside [0, " + labelNames.size() + ")");
            if (regression && e.label() != Example.NO_LABEL)
                throw new IllegalArgumentException(source + " line " + e.sourceLine() + ": class label in a regression dataset");
            if (!regression && !Double.isNaN(e.score()))
                throw new IllegalArgumentException(source + " line " + e.sourceLine() + ": score in a classification dataset");
        }
    }

    /** Number of head outputs: {@code labelNames.size()} for classification, 1 for regression. */
    public int numLabels() { return regression ? 1 : labelNames.size(); }

    /** Number of examples. */
    public int size() { return examples.size(); }

    /** True when every example has a target (false for GLUE test files). */
    public boolean hasTargets() {
        for (Example e : examples) if (!e.hasTarget()) return false;
        return true;
    }

    /**
     * Examples per class: {@code counts[c] = #{i : examples[i].label == c}}, length {@link #numLabels()}.
     *
     * @throws IllegalStateException for a regression dataset (bin the scores with {@link TaskData#binScores}) or
     *                               when some example has no label
     */
    public int[] classCounts() {
        if (regression)
            throw new IllegalStateException(name + "/" + split + " is a regression dataset: it has no class counts"
                    + " (use TaskData.binScores for binned scores)");
        int[] counts = new int[labelNames.size()];
        for (Example e : examples) {
            if (e.label() == Example.NO_LABEL)
                throw new IllegalStateException(name + "/" + split + ": example at " + source + " line "
                        + e.sourceLine() + " has no label");
            counts[e.label()]++;
        }
        return counts;
    }

    /**
     * Class labels in example order.
     *
     * @return (N) label ids
     * @throws IllegalStateException for regression or unlabeled examples
     */
    public int[] labels() {
        classCounts(); // validates
        int[] y = new int[examples.size()];
        for (int i = 0; i < y.length; i++) y[i] = examples.get(i).label();
        return y;
    }

    /**
     * Regression scores in example order.
     *
     * @return (N) scores
     * @throws IllegalStateException for classification or unlabeled examples
     */
    public double[] scores() {
        if (!regression) throw new IllegalStateException(name + "/" + split + " is a classification dataset: it has no scores");
        double[] s = new double[examples.size()];
        for (int i = 0; i < s.length; i++) {
            Example e = examples.get(i);
            if (Double.isNaN(e.score()))
                throw new IllegalStateException(name + "/" + split + ": example at " + source + " line "
                        + e.sourceLine() + " has no score");
            s[i] = e.score();
        }
        return s;
    }

    @Override public String toString() {
        return name + "/" + split + " (" + examples.size() + " examples, " + (regression ? "regression" : labelNames.size() + " classes")
                + (pair ? ", pairs" : "") + ", from " + source + (malformedLines > 0 ? ", " + malformedLines + " malformed lines skipped" : "")
                + (emptyTexts > 0 ? ", " + emptyTexts + " empty texts" : "") + ")";
    }
}

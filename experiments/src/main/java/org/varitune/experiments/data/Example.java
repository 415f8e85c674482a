package org.varitune.experiments.data;

/**
 * One example of a text classification or regression task.
 *
 * <p>Exactly one of {@code label} and {@code score} carries the target: classification examples have
 * {@code label} in {@code [0, numLabels)} and {@code score = NaN}; regression examples (STS-B) have {@code label = -1}
 * and a finite {@code score}; unlabeled examples (GLUE test files) have {@code label = -1} and {@code score = NaN}.
 *
 * @param textA      first (or only) text; never null, may be empty (readers count empty texts)
 * @param textB      second text of a sentence-pair task, or null for single-sentence tasks
 * @param label      class index into the dataset's label names, or {@link #NO_LABEL}
 * @param score      regression target, or NaN
 * @param sourceLine 1-based line of the example in its source file (GLUE TSV, or the WordNet data file of the
 *                   first text's synset)
 */
public record Example(String textA, String textB, int label, double score, int sourceLine) {

    /** The label of regression and unlabeled examples. */
    public static final int NO_LABEL = -1;

    public Example {
        if (textA == null) throw new IllegalArgumentException("textA is null (source line " + sourceLine + ")");
        if (label < NO_LABEL) throw new IllegalArgumentException("label " + label + " < -1 (source line " + sourceLine + ")");
        if (label != NO_LABEL && !Double.isNaN(score))
            throw new IllegalArgumentException("example at source line " + sourceLine + " has both label " + label
                    + " and score " + score);
    }

    /** A classification example: {@code label} in {@code [0, numLabels)}, score NaN. */
    public static Example classification(String textA, String textB, int label, int sourceLine) {
        if (label < 0) throw new IllegalArgumentException("classification label " + label + " < 0 (source line " + sourceLine + ")");
        return new Example(textA, textB, label, Double.NaN, sourceLine);
    }

    /** A regression example: finite {@code score}, label {@link #NO_LABEL}. */
    public static Example regression(String textA, String textB, double score, int sourceLine) {
        if (!Double.isFinite(score)) throw new IllegalArgumentException("regression score " + score + " is not finite (source line " + sourceLine + ")");
        return new Example(textA, textB, NO_LABEL, score, sourceLine);
    }

    /** An example without a target (a GLUE test file row, for prediction only). */
    public static Example unlabeled(String textA, String textB, int sourceLine) {
        return new Example(textA, textB, NO_LABEL, Double.NaN, sourceLine);
    }

    /** True for a sentence-pair example. */
    public boolean isPair() { return textB != null; }

    /** True when the example has a class label or a regression score. */
    public boolean hasTarget() { return label != NO_LABEL || !Double.isNaN(score); }
}

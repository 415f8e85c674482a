package org.varitune.experiments.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The nine GLUE tasks, as laid out in the GLUE distribution ({@code <dataDir>/<dirName>/<split>.tsv}).
 *
 * <p>Label lists are in the order of HF {@code transformers}' GLUE processors ({@code get_labels()}), so label ids
 * match checkpoints fine-tuned with them. Columns are read by header name; for the tasks whose header is fixed, the
 * whole header line is also checked against {@link #header()}. CoLA's labeled files have no header: their columns
 * are, by position, {@code source, label, annotation, sentence}.
 *
 * <p>Metrics: {@link #metrics()} lists what GLUE reports for the task; the GLUE task score is the mean of them
 * (MRPC and QQP: mean of F1 and accuracy; STS-B: mean of Pearson and Spearman correlations). {@link #mainMetric()}
 * is the single number used to pick checkpoints, following HF's {@code run_glue} convention: {@code mcc} for CoLA,
 * {@code f1} for MRPC and QQP, {@code pearson} for STS-B, {@code accuracy} elsewhere.
 *
 * <p>Sizes of the GLUE distribution files (examples, as HF {@code datasets} reads them): CoLA 8551 / 1043,
 * SST-2 67349 / 872, MRPC 3668 / 408, QQP 363846 / 40430, STS-B 5749 / 1500, MNLI 392702 / 9815 (matched) /
 * 9832 (mismatched), QNLI 104743 / 5463, RTE 2490 / 277, WNLI 635 / 71 (train / dev). The repository ships no GLUE
 * data; the readers are tested on small fixtures in the exact formats.
 */
public enum GlueTask {
    /** Corpus of Linguistic Acceptability: single sentence, 0 = unacceptable, 1 = acceptable. No header. */
    COLA("CoLA", "cola", false, false, List.of("0", "1"), null, "sentence", null, "label",
            List.of("train", "dev"), List.of("test"), List.of("mcc"), "mcc"),
    /** Stanford Sentiment Treebank: single sentence, 0 = negative, 1 = positive. */
    SST2("SST-2", "sst2", false, false, List.of("0", "1"), List.of("sentence", "label"), "sentence", null, "label",
            List.of("train", "dev"), List.of("test"), List.of("accuracy"), "accuracy"),
    /** Microsoft Research Paraphrase Corpus: pair, 1 = paraphrase. Label column first ("Quality"). */
    MRPC("MRPC", "mrpc", true, false, List.of("0", "1"),
            List.of("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"), "#1 String", "#2 String", "Quality",
            List.of("train", "dev"), List.of("test"), List.of("f1", "accuracy"), "f1"),
    /** Quora Question Pairs: pair, 1 = duplicate. The real train file has a few malformed lines: skipped and counted. */
    QQP("QQP", "qqp", true, false, List.of("0", "1"),
            List.of("id", "qid1", "qid2", "question1", "question2", "is_duplicate"), "question1", "question2", "is_duplicate",
            List.of("train", "dev"), List.of("test"), List.of("f1", "accuracy"), "f1"),
    /** Semantic Textual Similarity Benchmark: pair, regression on a score in [0, 5]. Columns by header name. */
    STSB("STS-B", "stsb", true, true, List.of(), null, "sentence1", "sentence2", "score",
            List.of("train", "dev"), List.of("test"), List.of("pearson", "spearman"), "pearson"),
    /** Multi-Genre NLI: pair, three classes; two dev sets. Columns by header name (train and dev differ). */
    MNLI("MNLI", "mnli", true, false, List.of("contradiction", "entailment", "neutral"), null,
            "sentence1", "sentence2", "gold_label",
            List.of("train", "dev_matched", "dev_mismatched"), List.of("test_matched", "test_mismatched"),
            List.of("accuracy"), "accuracy"),
    /** Question NLI (from SQuAD): pair (question, sentence). */
    QNLI("QNLI", "qnli", true, false, List.of("entailment", "not_entailment"),
            List.of("index", "question", "sentence", "label"), "question", "sentence", "label",
            List.of("train", "dev"), List.of("test"), List.of("accuracy"), "accuracy"),
    /** Recognizing Textual Entailment: pair. */
    RTE("RTE", "rte", true, false, List.of("entailment", "not_entailment"),
            List.of("index", "sentence1", "sentence2", "label"), "sentence1", "sentence2", "label",
            List.of("train", "dev"), List.of("test"), List.of("accuracy"), "accuracy"),
    /** Winograd NLI: pair, 1 = entailment. */
    WNLI("WNLI", "wnli", true, false, List.of("0", "1"),
            List.of("index", "sentence1", "sentence2", "label"), "sentence1", "sentence2", "label",
            List.of("train", "dev"), List.of("test"), List.of("accuracy"), "accuracy");

    /** CoLA's labeled files have no header; these are the names of their four columns, by position. */
    public static final List<String> COLA_COLUMNS = List.of("source", "label", "annotation", "sentence");

    private final String dirName, id;
    private final boolean pair, regression;
    private final List<String> labelNames, header;
    private final String textAColumn, textBColumn, targetColumn;
    private final List<String> labeledSplits, testSplits, metrics;
    private final String mainMetric;

    GlueTask(String dirName, String id, boolean pair, boolean regression, List<String> labelNames, List<String> header,
             String textAColumn, String textBColumn, String targetColumn, List<String> labeledSplits,
             List<String> testSplits, List<String> metrics, String mainMetric) {
        this.dirName = dirName;
        this.id = id;
        this.pair = pair;
        this.regression = regression;
        this.labelNames = labelNames;
        this.header = header;
        this.textAColumn = textAColumn;
        this.textBColumn = textBColumn;
        this.targetColumn = targetColumn;
        this.labeledSplits = labeledSplits;
        this.testSplits = testSplits;
        this.metrics = metrics;
        this.mainMetric = mainMetric;
    }

    /** Directory name in the GLUE distribution, also the display name: {@code CoLA}, {@code SST-2}, ... */
    public String dirName() { return dirName; }

    /** Lower-case id as in HF ({@code cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli}). */
    public String id() { return id; }

    /** True for sentence-pair tasks (all but CoLA and SST-2). */
    public boolean isPair() { return pair; }

    /** True for STS-B. */
    public boolean isRegression() { return regression; }

    /** Class names in HF processor order (index = label id); empty for STS-B. */
    public List<String> labelNames() { return labelNames; }

    /** Head outputs: number of classes, or 1 for STS-B (see {@link Dataset}). */
    public int numLabels() { return regression ? 1 : labelNames.size(); }

    /** The exact header of the labeled files, or null where columns are found by name only (STS-B, MNLI) or there
     *  is no header (CoLA). */
    public List<String> header() { return header; }

    /** Header name of the first text column (for CoLA: the name in {@link #COLA_COLUMNS}). */
    public String textAColumn() { return textAColumn; }

    /** Header name of the second text column, or null for single-sentence tasks. */
    public String textBColumn() { return textBColumn; }

    /** Header name of the label or score column. */
    public String targetColumn() { return targetColumn; }

    /** Labeled splits, train first then the dev sets ({@code dev}; MNLI: {@code dev_matched, dev_mismatched}). */
    public List<String> labeledSplits() { return labeledSplits; }

    /** Dev splits (the labeled splits after train). */
    public List<String> devSplits() { return labeledSplits.subList(1, labeledSplits.size()); }

    /** Unlabeled test splits ({@code test}; MNLI: {@code test_matched, test_mismatched}). */
    public List<String> testSplits() { return testSplits; }

    /** True for a split whose file has labels. */
    public boolean isLabeled(String split) { return labeledSplits.contains(split); }

    /** Metrics GLUE reports for the task; the GLUE task score is their mean. */
    public List<String> metrics() { return metrics; }

    /** The metric used to select checkpoints (HF run_glue convention; see the class comment). */
    public String mainMetric() { return mainMetric; }

    /**
     * The file of a split: {@code <dataDir>/<dirName>/<split>.tsv}.
     *
     * @throws IllegalArgumentException for an unknown split, listing the task's splits
     */
    public Path file(Path dataDir, String split) {
        if (!labeledSplits.contains(split) && !testSplits.contains(split))
            throw new IllegalArgumentException(dirName + " has no split '" + split + "'; splits: " + labeledSplits
                    + " (labeled), " + testSplits + " (unlabeled)");
        return dataDir.resolve(dirName).resolve(split + ".tsv");
    }

    /**
     * Finds a task by id or directory name, case-insensitively and ignoring '-' and '_':
     * {@code "sst2"}, {@code "SST-2"}, {@code "sts_b"} all work.
     *
     * @throws IllegalArgumentException naming the accepted names
     */
    public static GlueTask fromName(String name) {
        String key = name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        for (GlueTask t : values()) if (t.id.equals(key)) return t;
        StringBuilder known = new StringBuilder();
        for (GlueTask t : values()) known.append(known.length() == 0 ? "" : ", ").append(t.id);
        throw new IllegalArgumentException("unknown GLUE task '" + name + "'; known: " + known);
    }
}

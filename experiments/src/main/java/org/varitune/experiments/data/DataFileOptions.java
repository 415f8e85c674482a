package org.varitune.experiments.data;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How to read a user's own data files ({@link DataFileReader}). Every field has a default, {@link #DEFAULTS}; the
 * defaults follow HF {@code transformers}' {@code examples/pytorch/text-classification/run_glue.py} for local files.
 *
 * @param textColumn     column of the first text. Default null: chosen from the train file's columns by run_glue's
 *                       rule (see {@link DataFileReader}): {@code sentence1}/{@code sentence2} when both exist, else
 *                       the first two columns other than the label column, else the only one
 * @param textPairColumn column of the second text of a sentence-pair task, or null. Used only with
 *                       {@code textColumn}: setting {@code textColumn} alone means a single-sentence task (the
 *                       run_glue rule applies only when both are null)
 * @param labelColumn    column of the label or regression target. Default {@code "label"} (run_glue's)
 * @param taskType       classification, regression, or {@link TaskType#AUTO} (default): regression when the train
 *                       file's label column holds floats, as run_glue's {@code dtype in ["float32", "float64"]}
 * @param format         the format of all three files, or null (default): from each file's extension
 *                       ({@link Format#fromExtension})
 */
public record DataFileOptions(String textColumn, String textPairColumn, String labelColumn, TaskType taskType,
                              Format format) {

    /** Column choice by run_glue's rule, label column {@code "label"}, task type from the labels, format from the extension. */
    public static final DataFileOptions DEFAULTS = new DataFileOptions(null, null, "label", TaskType.AUTO, null);

    /** Classification, regression, or decided by the train file's labels; spelled as {@code --task-type} takes them. */
    public enum TaskType implements org.varitune.transformer.io.Spelled {
        CLASSIFICATION("classification"), REGRESSION("regression"), AUTO("auto");

        private final String spelling;

        TaskType(String spelling) { this.spelling = spelling; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /** A data file format. */
    public enum Format {
        /** RFC 4180 comma-separated values with a header row: quoted fields may hold commas, doubled quotes, newlines. */
        CSV(','),
        /** As {@link #CSV} with tabs between fields (quotes are interpreted as in CSV). */
        TSV('\t'),
        /** JSON Lines: one JSON object per line, keys are the columns. */
        JSONL('\0');

        /** Field delimiter of CSV and TSV. */
        final char delimiter;

        Format(char delimiter) { this.delimiter = delimiter; }

        /**
         * The format of a file by its extension, case-insensitively: {@code .csv}, {@code .tsv}, {@code .jsonl} or
         * {@code .json} (JSON Lines, as HF {@code datasets}' json loader reads).
         *
         * @throws IllegalArgumentException naming the file and the accepted extensions
         */
        public static Format fromExtension(Path file) {
            String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (n.endsWith(".csv")) return CSV;
            if (n.endsWith(".tsv")) return TSV;
            if (n.endsWith(".jsonl") || n.endsWith(".json")) return JSONL;
            throw new IllegalArgumentException(file + ": unknown data file extension; expected .csv, .tsv, .jsonl or"
                    + " .json (JSON Lines), or give the format explicitly");
        }
    }

    public DataFileOptions {
        if (labelColumn == null || labelColumn.isEmpty()) throw new IllegalArgumentException("labelColumn is empty");
        if (taskType == null) throw new IllegalArgumentException("taskType is null (use AUTO)");
        if (textPairColumn != null && textColumn == null)
            throw new IllegalArgumentException("textPairColumn '" + textPairColumn + "' given without textColumn");
        if (textColumn != null && (textColumn.equals(labelColumn) || textColumn.equals(textPairColumn)))
            throw new IllegalArgumentException("textColumn '" + textColumn + "' is also the "
                    + (textColumn.equals(labelColumn) ? "label" : "text pair") + " column");
        if (labelColumn.equals(textPairColumn))
            throw new IllegalArgumentException("textPairColumn '" + textPairColumn + "' is also the label column");
    }

    /** The format of {@code file}: {@link #format} when given, else from its extension. */
    public Format formatOf(Path file) { return format != null ? format : Format.fromExtension(file); }
}

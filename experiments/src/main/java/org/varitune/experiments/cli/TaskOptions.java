package org.varitune.experiments.cli;

import org.varitune.experiments.data.BuiltinTasks;
import org.varitune.experiments.data.GlueTask;
import org.varitune.experiments.data.TaskData;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The task options shared by commands: {@code --glue-task T --data DIR}, {@code --task BUILTIN}, or a user's own files
 * {@code --train-file F --validation-file F [--test-file F]} (CSV, TSV or JSON Lines, columns and labels as HF
 * {@code run_glue} reads them; {@link org.varitune.experiments.data.DataFileReader}).
 */
public final class TaskOptions {
    @Option(names = "--glue-task", description = "GLUE task: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli.")
    String glueTask;

    @Option(names = "--data", description = "GLUE directory (holding CoLA/, SST-2/, ...), or a task's own folder "
            + "(holding train.tsv and dev.tsv, whatever its name).")
    Path data;

    @Option(names = "--train-file", description = "Your training data: .csv, .tsv or .jsonl (JSON Lines) with a header "
            + "/ keys; the label list and the text columns come from it.")
    Path trainFile;
    @Option(names = "--validation-file", description = "Your dev data (same columns as --train-file).")
    Path validationFile;
    @Option(names = "--test-file", description = "Your test data; may lack the label column.")
    Path testFile;
    @Option(names = "--text-column", description = "Column of the first text (default: sentence1 when sentence1 and "
            + "sentence2 exist, else the first non-label column, as run_glue).")
    String textColumn;
    @Option(names = "--text-pair-column", description = "Column of the second text (with --text-column; default none).")
    String textPairColumn;
    @Option(names = "--label-column", description = "Column of the label (default label).")
    String labelColumn;
    @Option(names = "--task-type", description = "classification, regression or auto (default: regression when the "
            + "labels are floats, as run_glue).")
    org.varitune.experiments.data.DataFileOptions.TaskType taskType;

    @Option(names = "--task", description = "Built-in task (default wordnet-supersense when no --glue-task).")
    String task;

    @Option(names = "--max-examples", defaultValue = "0",
            description = "Use only the first N training examples in file order (0 = all).")
    int maxExamples;

    /** Where the data comes from, for run records: {@code builtin}, the GLUE path, or the files. */
    public String source() {
        if (trainFile != null) {
            return "files: " + trainFile + ", " + validationFile + (testFile == null ? "" : ", " + testFile);
        }
        return data == null ? "builtin" : data.toString();
    }

    /** The name used in reports. */
    public String name() {
        return glueTask != null ? GlueTask.fromName(glueTask).id()
                : trainFile != null ? org.varitune.experiments.data.DataFileReader.taskName(trainFile)
                : task != null ? task : "wordnet-supersense";
    }

    public TaskData load() throws IOException {
        int sources = (glueTask != null ? 1 : 0) + (task != null ? 1 : 0) + (trainFile != null ? 1 : 0);
        if (sources > 1) throw new IllegalArgumentException("give one of --glue-task, --task and --train-file");
        if (trainFile == null && (validationFile != null || testFile != null || textColumn != null
                || textPairColumn != null || labelColumn != null || taskType != null)) {
            throw new IllegalArgumentException("--validation-file, --test-file and the column options need --train-file");
        }
        if (trainFile != null) {
            if (validationFile == null) throw new IllegalArgumentException("--train-file needs --validation-file");
            if (data != null) throw new IllegalArgumentException("--data is only used with --glue-task");
            var d = org.varitune.experiments.data.DataFileOptions.DEFAULTS;
            var options = new org.varitune.experiments.data.DataFileOptions(textColumn, textPairColumn,
                    labelColumn != null ? labelColumn : d.labelColumn(), taskType != null ? taskType : d.taskType(), null);
            return TaskData.files(trainFile, validationFile, testFile, options, maxExamples);
        }
        if (glueTask != null) {
            if (data == null) throw new IllegalArgumentException("--glue-task needs --data DIR (the GLUE directory or the task's folder)");
            return TaskData.glue(GlueTask.fromName(glueTask), data, maxExamples);
        }
        if (data != null) throw new IllegalArgumentException("--data is only used with --glue-task");
        String name = task != null ? task : "wordnet-supersense";
        if (!BuiltinTasks.names().contains(name)) {
            throw new IllegalArgumentException("unknown built-in task '" + name + "'; built-ins: " + BuiltinTasks.names());
        }
        TaskData d = TaskData.builtin(name);
        return maxExamples > 0 ? d.truncateTrain(maxExamples) : d;
    }
}

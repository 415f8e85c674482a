package org.varitune.experiments.cli;

import org.varitune.experiments.data.BuiltinTasks;
import org.varitune.experiments.data.GlueTask;
import org.varitune.experiments.data.TaskData;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The task options shared by commands: {@code --glue-task T --data DIR} or {@code --task BUILTIN}. */
public final class TaskOptions {
    @Option(names = "--glue-task", description = "GLUE task: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli.")
    String glueTask;

    @Option(names = "--data", description = "GLUE directory (holding CoLA/, SST-2/, ...), or a task's own folder.")
    Path data;

    @Option(names = "--task", description = "Built-in task (default wordnet-supersense when no --glue-task).")
    String task;

    @Option(names = "--max-examples", defaultValue = "0",
            description = "Use only the first N training examples in file order (0 = all).")
    int maxExamples;

    /** The name used in reports. */
    public String name() {
        return glueTask != null ? GlueTask.fromName(glueTask).id()
                : task != null ? task : "wordnet-supersense";
    }

    public TaskData load() throws IOException {
        if (glueTask != null && task != null) throw new IllegalArgumentException("give either --glue-task or --task, not both");
        if (glueTask != null) {
            if (data == null) throw new IllegalArgumentException("--glue-task needs --data DIR (the GLUE directory)");
            GlueTask t = GlueTask.fromName(glueTask);
            Path dir = data.resolve(t.dirName()).toFile().isDirectory() ? data : data.getParent();
            return TaskData.glue(t, dir, maxExamples);
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

/**
 * Task data: strict readers for the GLUE distribution's TSV files ({@link org.varitune.experiments.data.GlueReader},
 * {@link org.varitune.experiments.data.GlueTask}), built-in WordNet 3.1 tasks that need no download
 * ({@link org.varitune.experiments.data.BuiltinTasks}), users' own CSV, TSV and JSON Lines files
 * ({@link org.varitune.experiments.data.DataFileReader}, {@link org.varitune.experiments.data.DataFileOptions}), and the
 * per-run bundle {@link org.varitune.experiments.data.TaskData}. Every split is a {@link org.varitune.experiments.data.Dataset} of
 * {@link org.varitune.experiments.data.Example}s.
 */
package org.varitune.experiments.data;

package org.varitune.transformer.models;

/**
 * Reports progress of a long task (a model conversion) to whoever shows it: the CLI prints a bar, tests pass
 * {@link #NONE}. Calls come from the working thread, in the order onStart, onProgress*, onDone; {@link #onInfo} may
 * come at any time (for instance why a cached model is rebuilt).
 */
public interface ProgressListener {
    /** A task starts with {@code total} units of work (or -1 if unknown). */
    void onStart(String task, long total);

    /** {@code done} of the total units are finished (monotone). */
    void onProgress(long done);

    /** The current task is finished. */
    void onDone();

    /** A one-line note for the user, e.g. "model.safetensors: size 12 != manifest 90868376; rebuilding". */
    default void onInfo(String message) {}

    /** Ignores everything. */
    ProgressListener NONE = new ProgressListener() {
        @Override public void onStart(String task, long total) {}
        @Override public void onProgress(long done) {}
        @Override public void onDone() {}
    };
}

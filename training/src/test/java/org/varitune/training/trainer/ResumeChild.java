package org.varitune.training.trainer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The process that {@link TrainerResumeTest} kills: trains {@link TinyTraining#resumeConfig()} in the run directory
 * {@code args[0]}, printing {@code step <globalStep>} after each update (and its checkpoint) and then waiting for a
 * line on stdin, so the parent decides when it runs on.
 */
public final class ResumeChild {
    private ResumeChild() {}

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        TrainListener handshake = new TrainListener() {
            @Override public void onStep(Step s) {
                System.out.println("step " + s.globalStep());
                System.out.flush();
                try {
                    in.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        TinyTraining.trainer(TinyTraining.resumeConfig(), Path.of(args[0]), handshake).run();
        System.out.println("done");
    }
}

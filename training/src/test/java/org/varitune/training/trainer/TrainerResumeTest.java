package org.varitune.training.trainer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.tensor.Parameter;
import org.varitune.transformer.testing.TestBase;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoint and resume: a real process kill at a random step, then a resume, ends bit-identical. */
class TrainerResumeTest extends TestBase {
    @TempDir Path tmp;

    /** Captures the model at the finish hook. */
    private static final class Capture implements TrainListener {
        SequenceClassifier model;
        @Override public void onFinish(SequenceClassifier m, TrainResult r) { model = m; }
    }

    private static List<String> childCommand(Path runDir) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--add-modules") || a.startsWith("-Dkernels") || a.startsWith("-Dvaritune.")) cmd.add(a);
        }
        cmd.add("-Xmx256m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ResumeChild.class.getName());
        cmd.add(runDir.toString());
        return cmd;
    }

    @Test
    void aRunKilledAtARandomStepAndResumedEndsWithBitIdenticalWeights() throws Exception {
        TrainConfig c = TinyTraining.resumeConfig();
        int total = BatchPlan.batchesPerEpoch(TinyTraining.train().size(), c.batchSize()) * c.epochs();
        int killAt = 2 + rand.nextInt(total - 6);                          // the kill lands during update killAt + 1

        Path killed = tmp.resolve("killed");
        Process p = new ProcessBuilder(childCommand(killed)).redirectError(tmp.resolve("child.err").toFile()).start();
        int lastSeen = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream in = p.getOutputStream()) {
            String line;
            while ((line = out.readLine()) != null) {
                assertTrue(line.startsWith("step "), "child printed: " + line);
                lastSeen = Integer.parseInt(line.substring(5));
                in.write('\n');
                in.flush();                                                // let it run on into the next update
                if (lastSeen == killAt) {
                    p.destroyForcibly();
                    break;
                }
            }
        } catch (java.io.IOException e) {
            // the pipe may break when the child dies while we write
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not die");
        assertEquals(killAt, lastSeen, "child output ended early; stderr:\n" + Files.readString(tmp.resolve("child.err")));
        assertNotEquals(0, p.exitValue(), "the child was killed, not finished");
        Path last = Checkpoints.locate(killed.resolve("checkpoints"), Checkpoints.LAST);
        assertNotNull(last, "a checkpoint survives the kill");
        long saved = Checkpoints.readState(last).get("global_step").asLong();
        assertTrue(saved >= killAt && saved <= killAt + 1, "checkpoint at step " + saved + ", kill after " + killAt);

        Capture resumed = new Capture();
        TrainResult r1 = TinyTraining.trainer(c, killed, resumed).run();
        Capture straight = new Capture();
        TrainResult r2 = TinyTraining.trainer(c, tmp.resolve("straight"), straight).run();

        Map<String, Parameter> a = resumed.model.parameterMap(), b = straight.model.parameterMap();
        assertEquals(b.keySet(), a.keySet());
        for (String name : b.keySet()) {
            assertArrayEquals(b.get(name).data(), a.get(name).data(), "resumed " + name + " differs (kill after step "
                    + killAt + ")");
        }
        assertEquals(r2.epochs().size(), r1.epochs().size());
        for (int e = 0; e < r2.epochs().size(); e++) {
            assertEquals(r2.epochs().get(e).trainLoss(), r1.epochs().get(e).trainLoss(), 0.0, "train loss of epoch " + (e + 1));
            assertEquals(r2.epochs().get(e).dev(), r1.epochs().get(e).dev(), "dev metrics of epoch " + (e + 1));
        }
    }

    @Test
    void resumingWithAnotherConfigIsAnErrorNamingTheKeys() throws Exception {
        TrainConfig c = TinyTraining.resumeConfig().toBuilder().epochs(1).build();
        TinyTraining.trainer(c, tmp, TrainListener.NONE).run();
        TrainConfig other = c.toBuilder().lr(5e-4).dataSeed(7).evalBatchSize(3).build();
        var e = assertThrows(IllegalArgumentException.class, () -> TinyTraining.trainer(other, tmp, TrainListener.NONE).run());
        assertTrue(e.getMessage().contains("lr (0.001 vs 5.0E-4)"), e.getMessage());
        assertTrue(e.getMessage().contains("dataSeed"), e.getMessage());
        assertTrue(!e.getMessage().contains("evalBatchSize"), "operational keys may change: " + e.getMessage());
    }

    @Test
    void reopeningAFinishedRunTrainsNothingAndReportsTheSameResult() throws Exception {
        TrainConfig c = TinyTraining.resumeConfig().toBuilder().epochs(2).checkpointEverySteps(0).build();
        TrainResult first = TinyTraining.trainer(c, tmp, TrainListener.NONE).run();
        List<Long> steps = new ArrayList<>();
        TrainResult again = TinyTraining.trainer(c, tmp, new TrainListener() {
            @Override public void onStep(Step s) { steps.add(s.globalStep()); }
        }).run();
        assertEquals(List.of(), steps);
        assertEquals(first.epochs(), again.epochs());
        assertEquals(first.bestEpoch(), again.bestEpoch());
    }
}

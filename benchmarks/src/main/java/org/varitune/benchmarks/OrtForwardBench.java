package org.varitune.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.InputStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * ONNX Runtime Java peer of {@code varitune bench forward}: the same batch of random token ids, warm-up first, median
 * of the timed iterations, intra-op threads = {@code --threads}, all graph optimisations on. Last output line:
 * {@code forward_seq_per_s=<n>}.
 *
 * <pre>OrtForwardBench (--onnx FILE | --resource NAME) [--batch 32] [--seq 128] [--iters 10] [--warmup 2] [--threads N]</pre>
 */
@Command(name = "OrtForwardBench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "ONNX Runtime Java forward throughput on random token ids; last line forward_seq_per_s=N.")
public final class OrtForwardBench implements Callable<Integer> {
    /** Where the model comes from: exactly one of a file and a classpath resource. */
    static final class Source {
        @Option(names = "--onnx", paramLabel = "FILE", description = "An ONNX model file.") Path onnx;
        @Option(names = "--resource", paramLabel = "NAME", description = "An ONNX model on the classpath, e.g. e5-small-v2.onnx.")
        String resource;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;
    @Option(names = "--batch", defaultValue = "32", description = "Sequences per forward (default ${DEFAULT-VALUE}).") int batch;
    @Option(names = "--seq", defaultValue = "128", description = "Tokens per sequence (default ${DEFAULT-VALUE}).") int seq;
    @Option(names = "--iters", defaultValue = "10", description = "Timed forwards (default ${DEFAULT-VALUE}).") int iters;
    @Option(names = "--warmup", defaultValue = "2", description = "Untimed forwards first (default ${DEFAULT-VALUE}).") int warmup;
    @Option(names = "--threads", description = "ONNX Runtime intra-op threads (default: the available processors).")
    Integer threads;

    @Spec CommandSpec spec;

    private void atLeast(String option, int value, int min) {
        if (value < min) throw new ParameterException(spec.commandLine(), option + " must be >= " + min + ", got " + value);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new OrtForwardBench()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        atLeast("--batch", batch, 1);
        atLeast("--seq", seq, 1);
        atLeast("--iters", iters, 1);
        atLeast("--warmup", warmup, 0);
        if (threads != null) atLeast("--threads", threads, 1);
        int intraOp = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        byte[] model;
        if (source.onnx != null) {
            model = Files.readAllBytes(source.onnx);
        } else {
            try (InputStream in = OrtForwardBench.class.getClassLoader().getResourceAsStream(source.resource)) {
                if (in == null) throw new IllegalArgumentException("resource " + source.resource + " not on the classpath");
                model = in.readAllBytes();
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(intraOp);
        so.setInterOpNumThreads(1);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession s = env.createSession(model, so)) {
            long[] ids = new long[batch * seq], mask = new long[batch * seq], types = new long[batch * seq];
            Random r = new Random(42);
            for (int i = 0; i < ids.length; i++) { ids[i] = 1000 + r.nextInt(30522 - 1000); mask[i] = 1; }
            long[] shape = {batch, seq};
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (s.getInputNames().contains("token_type_ids")) {
                in.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape));
            }
            System.out.printf(Locale.ROOT, "onnxruntime %s, intra-op threads %d, batch %d x seq %d, inputs %s%n",
                    env.getVersion(), intraOp, batch, seq, s.getInputNames());
            for (int i = 0; i < warmup; i++) s.run(in).close();
            double[] sec = new double[iters];
            for (int i = 0; i < iters; i++) {
                long t0 = System.nanoTime();
                s.run(in).close();
                sec[i] = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "iter %d: %.3f s%n", i, sec[i]);
            }
            Arrays.sort(sec);
            double med = sec[iters / 2];
            System.out.printf(Locale.ROOT, "median %.4f s%n", med);
            System.out.printf(Locale.ROOT, "forward_seq_per_s=%.2f%n", batch / med);
        }
        return 0;
    }
}

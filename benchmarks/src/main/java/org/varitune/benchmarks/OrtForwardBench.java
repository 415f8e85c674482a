package org.varitune.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.io.InputStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * ONNX Runtime Java peer of {@code varitune bench forward}: the same batch of random token ids, warm-up first, median
 * of the timed iterations, intra-op threads = {@code --threads}, all graph optimisations on. Last output line:
 * {@code forward_seq_per_s=<n>}.
 *
 * <pre>OrtForwardBench (--onnx FILE | --resource NAME) [--batch 32] [--seq 128] [--iters 10] [--warmup 2] [--threads 2]</pre>
 */
public final class OrtForwardBench {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        int batch = Integer.parseInt(a.getOrDefault("batch", "32")), seq = Integer.parseInt(a.getOrDefault("seq", "128"));
        int iters = Integer.parseInt(a.getOrDefault("iters", "10")), warmup = Integer.parseInt(a.getOrDefault("warmup", "2"));
        int threads = Integer.parseInt(a.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        byte[] model;
        if (a.containsKey("onnx")) {
            model = Files.readAllBytes(Path.of(a.get("onnx")));
        } else {
            String res = a.get("resource");
            try (InputStream in = OrtForwardBench.class.getClassLoader().getResourceAsStream(res)) {
                if (in == null) throw new IllegalArgumentException("resource " + res + " not on the classpath");
                model = in.readAllBytes();
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
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
                    env.getVersion(), threads, batch, seq, s.getInputNames());
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
    }
}

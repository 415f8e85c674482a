package org.varitune.transformer.reference;

import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.varitune.transformer.io.onnx.ProtoWriter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * ONNX Runtime (CPU, one thread) on a BERT-style ONNX model, as an independent oracle. Extra float tensors of the
 * graph (e.g. every layer's output) can be exposed as outputs; inputs are fed as int64 (B, T) under the names the
 * model declares ({@code input_ids}, {@code attention_mask}, {@code token_type_ids}).
 */
public final class OrtOracle implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    /**
     * @param model       serialized ModelProto; not modified
     * @param extraOutputs graph tensors to expose besides the declared outputs
     */
    public OrtOracle(byte[] model, List<String> extraOutputs) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            opts.setInterOpNumThreads(1);
            byte[] bytes = extraOutputs.isEmpty() ? model : ProtoWriter.withExtraFloatOutputs(model, extraOutputs);
            session = env.createSession(bytes, opts);
        }
    }

    public Set<String> outputNames() throws OrtException { return session.getOutputNames(); }

    /** Runs the batch and returns the requested (float, rank-3 (B, T, C)) outputs flattened row-major. */
    public Map<String, float[]> run(int[] ids, int[] tokenTypeIds, int[] mask, int B, int T, List<String> outputs)
            throws OrtException {
        Map<String, ai.onnxruntime.OnnxTensor> in = new HashMap<>();
        try {
            for (String name : session.getInputNames()) {
                int[] src = switch (name) {
                    case "input_ids" -> ids;
                    case "attention_mask" -> mask;
                    case "token_type_ids" -> tokenTypeIds;
                    default -> throw new IllegalArgumentException("model input '" + name + "' not supported");
                };
                long[][] a = new long[B][T];
                for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) a[b][t] = src[b * T + t];
                in.put(name, ai.onnxruntime.OnnxTensor.createTensor(env, a));
            }
            Map<String, float[]> out = new HashMap<>();
            try (OrtSession.Result r = session.run(in, new LinkedHashSet<>(outputs))) {
                for (String name : outputs) {
                    OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("ORT returned no " + name));
                    float[][][] x = (float[][][]) v.getValue();
                    int c = x[0][0].length;
                    float[] flat = new float[B * T * c];
                    for (int b = 0; b < B; b++) for (int t = 0; t < T; t++) System.arraycopy(x[b][t], 0, flat, (b * T + t) * c, c);
                    out.put(name, flat);
                }
            }
            return out;
        } finally {
            for (ai.onnxruntime.OnnxTensor t : in.values()) t.close();
        }
    }

    /** The extra outputs of {@code hidden} that are not already declared graph outputs. */
    public static List<String> notDeclared(List<String> hidden, List<String> declared) {
        List<String> out = new ArrayList<>();
        for (String h : hidden) if (!declared.contains(h)) out.add(h);
        return out;
    }

    @Override
    public void close() throws OrtException { session.close(); }
}

package org.varitune.transformer.io.onnx;

import org.varitune.transformer.model.EncoderConfig;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the ONNX graph of a BERT encoder (as exported by {@code torch.onnx} from HF {@code BertModel}) into an
 * {@link EncoderConfig} and the HF weights by name, by following the graph structure rather than trusting
 * initializer names (which are often anonymous, e.g. {@code onnx::MatMul_787}):
 * <ul>
 *   <li>embeddings: the {@code Gather}s indexed by {@code input_ids}, {@code token_type_ids} and by a slice of the
 *   {@code position_ids} buffer (which must be arange, i.e. BERT positions), summed by {@code Add}s, then a LayerNorm;
 *   <li>per layer: the three {@code MatMul}s reading the hidden state are told apart by where they end up: the query
 *   is the left operand of the score {@code MatMul}, the key its right operand, the value the right operand of the
 *   {@code MatMul} after {@code Softmax}; then {@code attention.output.dense}, residual {@code Add}, LayerNorm,
 *   {@code intermediate.dense}, an {@code Erf} GELU, {@code output.dense}, residual, LayerNorm;
 *   <li>an optional pooler: a {@code MatMul} reading a slice of the last hidden state, then {@code Tanh}.
 * </ul>
 * LayerNorm is matched either as a {@code LayerNormalization} node or decomposed
 * ({@code ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, Mul γ, Add β}). ONNX {@code MatMul} weights are
 * {@code [in, out]} and are transposed to HF {@code nn.Linear}'s {@code [out, in]}. The number of heads comes from
 * the constant in the query's {@code Reshape} to {@code (B, T, H, D)}, checked against the score scale 1/√D.
 * Every mismatch fails with the node or initializer named; so does any initializer left unmapped.
 */
public final class OnnxBertConverter {
    private OnnxBertConverter() {}

    /** A weight in HF layout: row-major {@code data} of the given {@code shape}. */
    public record Weight(float[] data, int[] shape) {
        @Override
        public String toString() { return "Weight" + Arrays.toString(shape); }
    }

    /**
     * The conversion.
     *
     * @param config             the inferred HF config (model_type bert, exact GELU)
     * @param weights            HF name (no {@code bert.} prefix) to weight, in HF module order
     * @param onnxNames          HF name to the ONNX initializer it came from
     * @param hiddenStateTensors the ONNX tensor names of the L+1 hidden states (embedding LayerNorm output, then each
     *                           layer's output LayerNorm), for comparing intermediate layers against ONNX Runtime
     */
    public record Result(EncoderConfig config, Map<String, Weight> weights, Map<String, String> onnxNames,
                         List<String> hiddenStateTensors) {}

    /** Converts a model; see the class documentation. Does not modify the model. */
    public static Result convert(OnnxModel model) {
        return new Walk(model.graph()).run();
    }

    /** One pass over one graph. */
    private static final class Walk {
        final OnnxGraph g;
        final Map<String, OnnxGraph.Node> producer = new HashMap<>();
        final Map<String, List<OnnxGraph.Node>> consumers = new HashMap<>();
        final Map<String, Weight> weights = new LinkedHashMap<>();
        final Map<String, String> onnxNames = new LinkedHashMap<>();
        final Set<String> used = new HashSet<>();
        final List<String> hidden = new ArrayList<>();
        final List<Double> epsSeen = new ArrayList<>();

        Walk(OnnxGraph g) {
            this.g = g;
            for (OnnxGraph.Node n : g.nodes()) {
                for (String o : n.outputs()) producer.put(o, n);
                for (String i : n.inputs()) if (!i.isEmpty()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
            }
        }

        Result run() {
            for (String in : List.of("input_ids", "token_type_ids")) {
                if (!g.inputs().contains(in)) {
                    throw new IllegalArgumentException("graph input '" + in + "' missing; inputs are " + g.inputs());
                }
            }
            String h = embeddings();
            hidden.add(h);
            int heads = -1, intermediate = -1;
            for (int l = 0; ; l++) {
                List<OnnxGraph.Node> lin = linearConsumers(h);
                if (lin.isEmpty()) break;
                LayerOut lo = layer(l, h, lin);
                if (heads >= 0 && lo.heads != heads) {
                    throw new IllegalArgumentException("layer " + l + " has " + lo.heads + " heads, layer 0 has " + heads);
                }
                if (intermediate >= 0 && lo.intermediate != intermediate) {
                    throw new IllegalArgumentException("layer " + l + " has intermediate size " + lo.intermediate
                            + ", layer 0 has " + intermediate);
                }
                heads = lo.heads;
                intermediate = lo.intermediate;
                h = lo.out;
                hidden.add(h);
            }
            int layers = hidden.size() - 1;
            if (layers == 0) throw new IllegalArgumentException("no encoder layer reads the embedding output '" + h + "'");
            if (!g.outputs().contains(h)) {
                throw new IllegalArgumentException("last layer output '" + h + "' is not a graph output; outputs are " + g.outputs());
            }
            pooler(h);
            List<String> unmapped = new ArrayList<>();
            for (String name : g.initializers().keySet()) if (!used.contains(name)) unmapped.add(name);
            if (!unmapped.isEmpty()) {
                throw new IllegalArgumentException(unmapped.size() + " initializers not mapped to HF weights: " + unmapped);
            }
            double eps = epsSeen.get(0);
            for (int i = 1; i < epsSeen.size(); i++) {
                if (!epsSeen.get(i).equals(eps)) {
                    throw new IllegalArgumentException("LayerNorm eps differ: " + epsSeen.get(i) + " vs " + eps);
                }
            }
            int[] word = weights.get("embeddings.word_embeddings.weight").shape();
            int maxPos = weights.get("embeddings.position_embeddings.weight").shape()[0];
            int typeVocab = weights.get("embeddings.token_type_embeddings.weight").shape()[0];
            EncoderConfig cfg = new EncoderConfig("bert", word[0], word[1], layers, heads, intermediate, "gelu", eps,
                    maxPos, typeVocab, 0, 0.1, 0.1);
            return new Result(cfg, Collections.unmodifiableMap(weights), Collections.unmodifiableMap(onnxNames),
                    List.copyOf(hidden));
        }

        // ---- embeddings ----

        String embeddings() {
            OnnxGraph.Node word = gatherOf("input_ids");
            OnnxGraph.Node type = gatherOf("token_type_ids");
            OnnxGraph.Node pos = null;
            for (OnnxGraph.Node n : g.nodes()) {
                if (n.opType().equals("Gather") && n != word && n != type && isInit(n.input(0))
                        && init(n.input(0)).dims().length == 2) {
                    if (pos != null) throw new IllegalArgumentException("two candidate position-embedding Gathers: " + pos + " and " + n);
                    pos = n;
                }
            }
            if (pos == null) throw new IllegalArgumentException("no position-embedding Gather (a Gather on a 2-D initializer not indexed by input_ids or token_type_ids)");
            positionIds(pos);
            int c = init(word.input(0)).shape()[1];
            putEmbedding("embeddings.word_embeddings.weight", word.input(0), c);
            putEmbedding("embeddings.position_embeddings.weight", pos.input(0), c);
            putEmbedding("embeddings.token_type_embeddings.weight", type.input(0), c);
            // The sum: an Add tree whose leaves are exactly the three gathers, feeding a LayerNorm.
            String sum = word.outputs().get(0);
            while (true) {
                OnnxGraph.Node next = only(consumers(sum), sum, "Add");
                if (next == null) break;
                sum = next.outputs().get(0);
            }
            Set<String> leaves = new HashSet<>();
            addLeaves(sum, leaves);
            Set<String> expected = Set.of(word.outputs().get(0), pos.outputs().get(0), type.outputs().get(0));
            if (!leaves.equals(expected)) {
                throw new IllegalArgumentException("embedding sum '" + sum + "' adds " + leaves + ", expected the word,"
                        + " position and token type Gathers " + expected);
            }
            return layerNorm(sum, "embeddings.LayerNorm", c);
        }

        OnnxGraph.Node gatherOf(String input) {
            OnnxGraph.Node found = null;
            for (OnnxGraph.Node n : consumers(input)) {
                if (n.opType().equals("Gather") && n.input(1).equals(input) && isInit(n.input(0))) {
                    if (found != null) throw new IllegalArgumentException("two embedding Gathers read '" + input + "': " + found + ", " + n);
                    found = n;
                }
            }
            if (found == null) throw new IllegalArgumentException("no Gather on an initializer indexed by graph input '" + input + "'");
            return found;
        }

        /** The position Gather's indices must be a slice of an arange int64 buffer (BERT absolute positions). */
        void positionIds(OnnxGraph.Node pos) {
            OnnxGraph.Node p = producer.get(pos.input(1));
            while (p != null && Set.of("Slice", "Cast", "Expand", "Unsqueeze").contains(p.opType()) && !isInit(p.input(0))) {
                p = producer.get(p.input(0));
            }
            if (p == null || !p.opType().equals("Slice") || !isInit(p.input(0))) {
                throw new IllegalArgumentException("position-embedding " + pos + ": indices are not a Slice of a"
                        + " position_ids buffer (RoBERTa-style or computed positions are not supported)");
            }
            OnnxTensor ids = init(p.input(0));
            long[] v = ids.toLongs();
            for (int i = 0; i < v.length; i++) {
                if (v[i] != i) throw new IllegalArgumentException("position_ids buffer '" + ids.name() + "' is not arange: element " + i + " = " + v[i]);
            }
            if (!isConstEqual(p.input(1), 0)) {
                throw new IllegalArgumentException(p + ": position ids must be sliced from start 0");
            }
            used.add(ids.name()); // a buffer, recomputed by the encoder; not a weight
        }

        void addLeaves(String t, Set<String> out) {
            OnnxGraph.Node p = producer.get(t);
            if (p != null && p.opType().equals("Add") && !isInit(p.input(0)) && !isInit(p.input(1))) {
                addLeaves(p.input(0), out);
                addLeaves(p.input(1), out);
            } else {
                out.add(t);
            }
        }

        void putEmbedding(String hf, String onnx, int c) {
            OnnxTensor t = init(onnx);
            if (t.dims().length != 2 || t.dims()[1] != c) {
                throw new IllegalArgumentException("initializer '" + onnx + "' for " + hf + " has dims "
                        + Arrays.toString(t.dims()) + ", expected [n, " + c + "]");
            }
            put(hf, onnx, t.toFloats(), t.shape());
        }

        // ---- layers ----

        record LayerOut(String out, int heads, int intermediate) {}

        LayerOut layer(int l, String h, List<OnnxGraph.Node> qkvNodes) {
            String p = "encoder.layer." + l + ".";
            if (qkvNodes.size() != 3) {
                throw new IllegalArgumentException("layer " + l + ": expected 3 MatMuls (query, key, value) reading '" + h
                        + "', found " + qkvNodes);
            }
            Linear[] lin = new Linear[3];
            Reach[] reach = new Reach[3];
            for (int i = 0; i < 3; i++) {
                lin[i] = linear(qkvNodes.get(i));
                reach[i] = followToMatMul(lin[i].out, "layer " + l + " projection " + qkvNodes.get(i).name());
            }
            // score MatMul S = Q·Kᵀ: reached at input 0 by the query and at input 1 by the key.
            int q = -1, k = -1, v = -1;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    if (i != j && reach[i].node == reach[j].node && reach[i].input == 0 && reach[j].input == 1) { q = i; k = j; }
                }
            }
            if (q < 0) throw new IllegalArgumentException("layer " + l + ": no score MatMul reading two of the projections " + qkvNodes);
            v = 3 - q - k;
            OnnxGraph.Node scores = reach[q].node, context = reach[v].node;
            if (reach[v].input != 1) throw new IllegalArgumentException("layer " + l + ": value projection reaches " + context + " at input " + reach[v].input + ", expected 1");
            OnnxGraph.Node softmax = producer.get(context.input(0));
            if (softmax == null || !softmax.opType().equals("Softmax")) {
                throw new IllegalArgumentException("layer " + l + ": " + context + " does not read a Softmax output");
            }
            if (!descendsFrom(softmax.input(0), scores.outputs().get(0), 6)) {
                throw new IllegalArgumentException("layer " + l + ": " + softmax + " does not follow the score " + scores);
            }
            int c = lin[q].inF;
            int[] hd = headsFromReshape(reach[q].path, l);
            int heads = hd[0], d = hd[1];
            if (heads * d != c) throw new IllegalArgumentException("layer " + l + ": heads " + heads + " × head size " + d + " != hidden " + c);
            double scale = scoreScale(reach[q].path, scores, softmax, l);
            if (Math.abs(scale * Math.sqrt(d) - 1) > 1e-6) {
                throw new IllegalArgumentException("layer " + l + ": attention scores scaled by " + scale + ", expected 1/√" + d);
            }
            putLinear(p + "attention.self.query", lin[q], c, c);
            putLinear(p + "attention.self.key", lin[k], c, c);
            putLinear(p + "attention.self.value", lin[v], c, c);

            Linear ao = linear(nextLinear(context.outputs().get(0), Set.of("Transpose", "Reshape"), l, "attention.output.dense"));
            putLinear(p + "attention.output.dense", ao, c, c);
            String ln1 = layerNorm(residual(ao.out, h, l, "attention.output"), p + "attention.output.LayerNorm", c);

            List<OnnxGraph.Node> interNodes = linearConsumers(ln1);
            if (interNodes.size() != 1) throw new IllegalArgumentException("layer " + l + ": expected one intermediate.dense MatMul reading '" + ln1 + "', found " + interNodes);
            Linear inter = linear(interNodes.get(0));
            putLinear(p + "intermediate.dense", inter, inter.outF, c);
            Linear out = linear(nextLinear(inter.out, Set.of("Div", "Mul", "Erf", "Add"), l, "output.dense (after the Erf GELU)"));
            putLinear(p + "output.dense", out, c, inter.outF);
            String ln2 = layerNorm(residual(out.out, ln1, l, "output"), p + "output.LayerNorm", c);
            return new LayerOut(ln2, heads, inter.outF);
        }

        /** The residual Add of {@code x} and {@code skip}; returns its output. */
        String residual(String x, String skip, int l, String where) {
            OnnxGraph.Node add = only(consumers(x), x, "Add");
            if (add == null || !(add.inputs().contains(skip))) {
                throw new IllegalArgumentException("layer " + l + " " + where + ": '" + x + "' is not added to the residual '"
                        + skip + "' (consumers " + consumers(x) + ")");
            }
            return add.outputs().get(0);
        }

        record Linear(OnnxGraph.Node matmul, String weight, String bias, String out, int inF, int outF) {}

        /** A MatMul with an initializer weight [in, out], followed by an Add of a bias initializer [out]. */
        Linear linear(OnnxGraph.Node mm) {
            OnnxTensor w = init(mm.input(1));
            if (w.dims().length != 2) throw new IllegalArgumentException(mm + ": weight '" + w.name() + "' is not 2-D: " + Arrays.toString(w.dims()));
            String y = mm.outputs().get(0);
            OnnxGraph.Node add = only(consumers(y), y, "Add");
            if (add == null) throw new IllegalArgumentException(mm + ": output is not followed by a bias Add");
            String bias = isInit(add.input(0)) ? add.input(0) : add.input(1);
            if (!isInit(bias) || init(bias).dims().length != 1 || init(bias).dims()[0] != w.dims()[1]) {
                throw new IllegalArgumentException(add + ": no bias initializer of dims [" + w.dims()[1] + "]");
            }
            return new Linear(mm, w.name(), bias, add.outputs().get(0), (int) w.dims()[0], (int) w.dims()[1]);
        }

        void putLinear(String hf, Linear lin, int outF, int inF) {
            if (lin.outF != outF || lin.inF != inF) {
                throw new IllegalArgumentException(hf + ": MatMul weight '" + lin.weight + "' is [in, out] = [" + lin.inF
                        + ", " + lin.outF + "], expected [" + inF + ", " + outF + "]");
            }
            float[] w = init(lin.weight).toFloats(); // w: (in, out)
            float[] t = new float[w.length];        // t: (out, in), HF nn.Linear layout
            for (int i = 0; i < inF; i++) {
                for (int o = 0; o < outF; o++) t[o * inF + i] = w[i * outF + o];
            }
            put(hf + ".weight", lin.weight, t, new int[]{outF, inF});
            put(hf + ".bias", lin.bias, init(lin.bias).toFloats(), new int[]{outF});
        }

        record Reach(OnnxGraph.Node node, int input, List<OnnxGraph.Node> path) {}

        /** Follows single non-Shape consumers through Reshape/Transpose/Div/Mul to the first weightless MatMul. */
        Reach followToMatMul(String t, String what) {
            List<OnnxGraph.Node> path = new ArrayList<>();
            for (int steps = 0; steps < 8; steps++) {
                List<OnnxGraph.Node> cs = new ArrayList<>();
                for (OnnxGraph.Node n : consumers(t)) if (!n.opType().equals("Shape")) cs.add(n);
                if (cs.size() != 1) throw new IllegalArgumentException(what + ": '" + t + "' has consumers " + cs + ", expected one");
                OnnxGraph.Node n = cs.get(0);
                if (n.opType().equals("MatMul") && !isInit(n.input(1))) return new Reach(n, n.inputs().indexOf(t), path);
                if (!Set.of("Reshape", "Transpose", "Div", "Mul").contains(n.opType())) {
                    throw new IllegalArgumentException(what + ": unexpected " + n + " on the way to the attention MatMul");
                }
                path.add(n);
                t = n.outputs().get(0);
            }
            throw new IllegalArgumentException(what + ": no attention MatMul within 8 nodes");
        }

        /** [H, D] from the last two entries of the query Reshape's target shape (a Concat of constants, or a constant). */
        int[] headsFromReshape(List<OnnxGraph.Node> path, int l) {
            for (OnnxGraph.Node n : path) {
                if (!n.opType().equals("Reshape")) continue;
                long[] shape = constShape(n.input(1), n);
                if (shape.length != 4 || shape[2] <= 0 || shape[3] <= 0) {
                    throw new IllegalArgumentException("layer " + l + ": " + n + " target shape " + Arrays.toString(shape) + " is not (B, T, H, D)");
                }
                return new int[]{(int) shape[2], (int) shape[3]};
            }
            throw new IllegalArgumentException("layer " + l + ": no Reshape to (B, T, H, D) after the query projection: " + path);
        }

        /** The shape entries of a Reshape target; non-constant entries (batch, sequence) are -1. */
        long[] constShape(String t, OnnxGraph.Node user) {
            if (isConst(t)) return constant(t).toLongs();
            OnnxGraph.Node cat = producer.get(t);
            if (cat == null || !cat.opType().equals("Concat")) throw new IllegalArgumentException(user + ": target shape '" + t + "' is neither a constant nor a Concat");
            List<Long> out = new ArrayList<>();
            for (String part : cat.inputs()) {
                if (isConst(part)) { for (long x : constant(part).toLongs()) out.add(x); } else out.add(-1L);
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }

        /** The product of constant Div/Mul factors applied to the query or to the scores before the Softmax. */
        double scoreScale(List<OnnxGraph.Node> qPath, OnnxGraph.Node scores, OnnxGraph.Node softmax, int l) {
            double s = 1;
            List<OnnxGraph.Node> nodes = new ArrayList<>(qPath);
            String t = scores.outputs().get(0);
            while (!t.equals(softmax.input(0))) {
                OnnxGraph.Node n = null;
                for (OnnxGraph.Node cnd : consumers(t)) if (!cnd.opType().equals("Shape")) { n = cnd; break; }
                if (n == null) throw new IllegalArgumentException("layer " + l + ": score path from " + scores + " ends before the Softmax");
                nodes.add(n);
                t = n.outputs().get(0);
            }
            for (OnnxGraph.Node n : nodes) {
                if (!n.opType().equals("Div") && !n.opType().equals("Mul")) continue;
                String k = isConst(n.input(1)) ? n.input(1) : isConst(n.input(0)) ? n.input(0) : null;
                if (k == null) continue;
                float[] f = constant(k).toFloats();
                if (f.length != 1) throw new IllegalArgumentException("layer " + l + ": " + n + " scales by a non-scalar");
                s = n.opType().equals("Div") ? s / f[0] : s * f[0];
            }
            return s;
        }

        /** The single MatMul with an initializer weight reached from {@code t} through nodes of the allowed ops. */
        OnnxGraph.Node nextLinear(String t, Set<String> allowed, int l, String what) {
            Deque<String> todo = new ArrayDeque<>(List.of(t));
            Set<String> seen = new HashSet<>();
            OnnxGraph.Node found = null;
            boolean erf = false;
            while (!todo.isEmpty()) {
                String x = todo.pop();
                if (!seen.add(x)) continue;
                for (OnnxGraph.Node n : consumers(x)) {
                    if (n.opType().equals("Shape")) continue;
                    if (n.opType().equals("MatMul") && isInit(n.input(1))) {
                        if (found != null && found != n) throw new IllegalArgumentException("layer " + l + ": two candidates for " + what + ": " + found + ", " + n);
                        found = n;
                        continue;
                    }
                    if (!allowed.contains(n.opType())) {
                        throw new IllegalArgumentException("layer " + l + ": unexpected " + n + " before " + what + " (allowed " + allowed + ")");
                    }
                    if (seen.size() > 32) throw new IllegalArgumentException("layer " + l + ": " + what + " not found within 32 tensors of '" + t + "'");
                    erf |= n.opType().equals("Erf");
                    todo.addAll(n.outputs());
                }
            }
            if (found == null) throw new IllegalArgumentException("layer " + l + ": no " + what + " MatMul after '" + t + "'");
            if (allowed.contains("Erf") && !erf) throw new IllegalArgumentException("layer " + l + ": no Erf between intermediate.dense and output.dense: not the exact GELU");
            return found;
        }

        // ---- LayerNorm ----

        /** Matches a LayerNorm over the last axis of {@code x}; records γ, β as {@code prefix.weight/bias}; returns its output. */
        String layerNorm(String x, String prefix, int c) {
            String gamma, beta, out;
            double eps;
            OnnxGraph.Node fused = only(consumers(x), x, "LayerNormalization");
            if (fused != null) {
                gamma = fused.input(1);
                beta = fused.input(2);
                OnnxGraph.Attribute e = fused.attr("epsilon");
                eps = e == null ? 1e-5 : e.f();
                OnnxGraph.Attribute axis = fused.attr("axis");
                if (axis != null && axis.i() != -1) throw new IllegalArgumentException(fused + ": axis " + axis.i() + ", expected -1");
                out = fused.outputs().get(0);
            } else {
                String what = prefix + " (after '" + x + "')";
                OnnxGraph.Node mean = expectOp(consumers(x), "ReduceMean", what);
                checkLastAxis(mean, what);
                OnnxGraph.Node sub = expectOp(consumers(mean.outputs().get(0)), "Sub", what);
                if (!sub.input(0).equals(x)) throw new IllegalArgumentException(what + ": " + sub + " is not x − mean");
                String d = sub.outputs().get(0);
                OnnxGraph.Node pow = expectOp(consumers(d), "Pow", what);
                if (!isConstEqual(pow.input(1), 2)) throw new IllegalArgumentException(what + ": " + pow + " exponent is not 2");
                OnnxGraph.Node var = expectOp(consumers(pow.outputs().get(0)), "ReduceMean", what);
                checkLastAxis(var, what);
                OnnxGraph.Node addEps = expectOp(consumers(var.outputs().get(0)), "Add", what);
                String epsT = addEps.input(0).equals(var.outputs().get(0)) ? addEps.input(1) : addEps.input(0);
                eps = scalar(epsT, addEps);
                OnnxGraph.Node sqrt = expectOp(consumers(addEps.outputs().get(0)), "Sqrt", what);
                OnnxGraph.Node div = expectOp(consumers(sqrt.outputs().get(0)), "Div", what);
                if (!div.input(0).equals(d)) throw new IllegalArgumentException(what + ": " + div + " is not (x − mean) / std");
                OnnxGraph.Node mul = expectOp(consumers(div.outputs().get(0)), "Mul", what);
                gamma = mul.input(0).equals(div.outputs().get(0)) ? mul.input(1) : mul.input(0);
                OnnxGraph.Node add = expectOp(consumers(mul.outputs().get(0)), "Add", what);
                beta = add.input(0).equals(mul.outputs().get(0)) ? add.input(1) : add.input(0);
                out = add.outputs().get(0);
            }
            for (String t : List.of(gamma, beta)) {
                if (!isInit(t) || init(t).dims().length != 1 || init(t).dims()[0] != c) {
                    throw new IllegalArgumentException(prefix + ": '" + t + "' is not an initializer of dims [" + c + "]");
                }
            }
            epsSeen.add(Double.parseDouble(Float.toString((float) eps))); // float 1e-12 -> 1.0E-12
            put(prefix + ".weight", gamma, init(gamma).toFloats(), new int[]{c});
            put(prefix + ".bias", beta, init(beta).toFloats(), new int[]{c});
            return out;
        }

        void checkLastAxis(OnnxGraph.Node reduce, String what) {
            OnnxGraph.Attribute axes = reduce.attr("axes");
            long[] a = axes != null ? axes.ints() : isConst(reduce.input(1)) ? constant(reduce.input(1)).toLongs() : new long[0];
            if (a.length != 1 || a[0] != -1) throw new IllegalArgumentException(what + ": " + reduce + " reduces axes " + Arrays.toString(a) + ", expected [-1]");
        }

        // ---- pooler ----

        /** pooler.dense if present: a MatMul on a slice of the last hidden state, a bias Add, then Tanh. */
        void pooler(String last) {
            for (OnnxGraph.Node n : g.nodes()) {
                if (!n.opType().equals("MatMul") || !isInit(n.input(1)) || used.contains(n.input(1))) continue;
                if (!descendsFrom(n.input(0), last, 4)) {
                    throw new IllegalArgumentException("unmapped " + n + " does not read the last hidden state '" + last + "'");
                }
                Linear lin = linear(n);
                OnnxGraph.Node tanh = only(consumers(lin.out), lin.out, "Tanh");
                if (tanh == null) throw new IllegalArgumentException("pooler candidate " + n + " is not followed by Tanh");
                putLinear("pooler.dense", lin, lin.outF, lin.inF);
            }
        }

        // ---- graph helpers ----

        void put(String hf, String onnx, float[] data, int[] shape) {
            if (weights.containsKey(hf)) throw new IllegalArgumentException(hf + " mapped twice (second from '" + onnx + "')");
            if (used.contains(onnx)) throw new IllegalArgumentException("initializer '" + onnx + "' mapped twice (second as " + hf + ")");
            if (looksLikeHfName(onnx) && !stripPrefix(onnx).equals(hf)) {
                throw new IllegalArgumentException("initializer '" + onnx + "' sits where the graph structure puts " + hf);
            }
            used.add(onnx);
            weights.put(hf, new Weight(data, shape));
            onnxNames.put(hf, onnx);
        }

        static boolean looksLikeHfName(String n) {
            return !n.contains("::") && (n.endsWith(".weight") || n.endsWith(".bias"));
        }

        static String stripPrefix(String n) {
            for (String p : List.of("bert.", "roberta.", "model.")) if (n.startsWith(p)) return n.substring(p.length());
            return n;
        }

        List<OnnxGraph.Node> consumers(String t) { return consumers.getOrDefault(t, List.of()); }

        List<OnnxGraph.Node> linearConsumers(String t) {
            List<OnnxGraph.Node> out = new ArrayList<>();
            for (OnnxGraph.Node n : consumers(t)) if (n.opType().equals("MatMul") && n.input(0).equals(t) && isInit(n.input(1))) out.add(n);
            return out;
        }

        /** The one consumer with the given op, or null if none; fails if several. */
        OnnxGraph.Node only(List<OnnxGraph.Node> cs, String t, String op) {
            OnnxGraph.Node found = null;
            for (OnnxGraph.Node n : cs) {
                if (!n.opType().equals(op)) continue;
                if (found != null) throw new IllegalArgumentException("'" + t + "' has two " + op + " consumers: " + found + ", " + n);
                found = n;
            }
            return found;
        }

        OnnxGraph.Node expectOp(List<OnnxGraph.Node> cs, String op, String what) {
            for (OnnxGraph.Node n : cs) if (n.opType().equals(op)) return n;
            throw new IllegalArgumentException(what + ": expected a " + op + " node, found consumers " + cs);
        }

        boolean descendsFrom(String t, String ancestor, int maxDepth) {
            if (t.equals(ancestor)) return true;
            if (maxDepth == 0) return false;
            OnnxGraph.Node p = producer.get(t);
            if (p == null) return false;
            for (String in : p.inputs()) if (!in.isEmpty() && descendsFrom(in, ancestor, maxDepth - 1)) return true;
            return false;
        }

        boolean isInit(String t) { return g.initializers().containsKey(t); }

        OnnxTensor init(String t) {
            OnnxTensor x = g.initializers().get(t);
            if (x == null) throw new IllegalArgumentException("'" + t + "' is not an initializer");
            return x;
        }

        boolean isConst(String t) {
            if (isInit(t)) return true;
            OnnxGraph.Node p = producer.get(t);
            return p != null && p.opType().equals("Constant") && p.attr("value") != null && p.attr("value").t() != null;
        }

        OnnxTensor constant(String t) {
            if (isInit(t)) { used.add(t); return init(t); }
            if (!isConst(t)) throw new IllegalArgumentException("'" + t + "' is not a constant");
            return producer.get(t).attr("value").t();
        }

        boolean isConstEqual(String t, double v) {
            if (!isConst(t)) return false;
            OnnxTensor c = constant(t);
            double x = c.dataType() == OnnxTensor.FLOAT ? c.toFloats()[0] : c.toLongs()[0];
            return c.numel() == 1 && x == v;
        }

        double scalar(String t, OnnxGraph.Node user) {
            if (!isConst(t)) throw new IllegalArgumentException(user + ": '" + t + "' is not a constant");
            float[] f = constant(t).toFloats();
            if (f.length != 1) throw new IllegalArgumentException(user + ": constant '" + t + "' is not a scalar");
            return f[0];
        }
    }
}

package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.LayerWiring;
import org.varitune.transformer.tensor.Parameter;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.SequenceClassifier;
import org.varitune.training.export.ExportInfo;
import org.varitune.transformer.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * {@code adapters}: bottleneck adapters ({@link Adapter}) at the attention and/or FFN sites of each tuned layer;
 * they and the tuned layers' LayerNorms train (Houlsby et al. 2019; the authors' code).
 *
 * @param attention  the site after {@code attention.output.dense}, or null for none there
 * @param output     the site after {@code output.dense}, or null for none there (not both null)
 * @param activation the adapters' nonlinearity
 */
public record AdapterTuning(Adapter.Site attention, Adapter.Site output, Adapter.Activation activation) implements TuningMethod {

    /** The default peak learning rate of adapters runs: 1e-4, this project's choice (freshly initialised modules). */
    public static final double DEFAULT_LR = 1e-4;

    public AdapterTuning {
        if (attention == null && output == null) throw new IllegalArgumentException("adapters: no site (attention and output both none)");
        java.util.Objects.requireNonNull(activation, "activation");
    }

    @Override
    public void insert(Encoder encoder, LayerPlan plan, Random rng) {
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) {
            encoder.layers().get(l - 1).addAdapters(attention, output, activation, rng);
        }
    }

    @Override
    public Set<Parameter> trainable(Encoder encoder, LayerPlan plan) {
        Set<Parameter> t = new HashSet<>();
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) {
            EncoderLayer layer = encoder.layers().get(l - 1);
            if (!layer.hasAdapters()) {
                throw new IllegalStateException("adapters: layer " + l + " (" + layer.wiring().query() + "...) has no "
                        + "adapters; insert them first");
            }
            if (layer.attentionAdapter() != null) t.addAll(layer.attentionAdapter().parameters());
            if (layer.outputAdapter() != null) t.addAll(layer.outputAdapter().parameters());
            LayerWiring wiring = layer.wiring();                                   // the family names its LayerNorms
            for (Parameter p : layer.parameters()) if (wiring.isNorm(p.name())) t.add(p);
        }
        return t;
    }

    @Override
    public String describe() {
        return "adapters (attention " + (attention == null ? "none" : attention.spec()) + ", output "
                + (output == null ? "none" : output.spec()) + ", " + activation + ")";
    }

    /**
     * The adapters of an export ({@link ExportedModules}): the tensors in {@code adapters.safetensors}, the description
     * under {@code varitune.adapters}.
     */
    public static final ExportedModules EXPORT = new Export();

    /**
     * Adapters in an export. The description, from format 2 on: {@code {"file": "adapters.safetensors", "attention":
     * <site spec> | null, "output": <site spec> | null, "activation": "relu" | "gelu", "layers": [1-based, ascending],
     * "note": ...}} (site specs as {@link Adapter.Site#spec()}); format 1 wrote one {@code "bottleneck": R} for both
     * sites ({@link Adapter.Site#houlsby}), formats 1 and 2 the activation by its Java name ({@code RELU}). The file's
     * metadata: {@code attention}, {@code output} (site specs or {@code none}), {@code activation} (Java name),
     * {@code layers} ({@code [2, 3]}); format 1's: {@code bottleneck}, {@code activation}.
     */
    private static final class Export implements ExportedModules {
        private static final String KEY = "adapters";
        private static final String FILE = "adapters.safetensors";
        /** The description's place in config.json, for errors. */
        private static final String WHERE = ExportInfo.JSON_KEY + "." + KEY;
        private static final String NOTE = "Houlsby adapters after attention.output.dense ('attention') and output.dense "
                + "('output') of these layers, where not null. HF transformers ignores this file and runs the model "
                + "without them, which predicts differently";

        /** A description's content: the sites (null = none there; not both null), the activation, the 1-based layers. */
        private record Described(Adapter.Site attention, Adapter.Site output, Adapter.Activation activation,
                                 List<Integer> layers) {

            /** The description as the current format writes it. */
            ObjectNode toJson() {
                ObjectNode a = JsonNodeFactory.instance.objectNode();
                a.put("file", FILE);
                if (attention == null) a.putNull("attention"); else a.put("attention", attention.spec());
                if (output == null) a.putNull("output"); else a.put("output", output.spec());
                a.put("activation", activation.spelling());
                ArrayNode ls = a.putArray("layers");
                for (int l : layers) ls.add(l);
                a.put("note", NOTE);
                return a;
            }

            /** As {@link #read}, for a description written by format {@code version}, layers within 1..headLayer. */
            static Described parse(JsonNode a, int version, int headLayer) {
                if (a == null || !a.isObject()) throw new IllegalArgumentException(WHERE + " must be an object or null, got " + a);
                Adapter.Site att, out;
                if (version == 1) {                                       // one bottleneck for both sites
                    JsonNode b = a.get("bottleneck");
                    if (b == null || !b.isIntegralNumber() || !b.canConvertToInt()) {
                        throw new IllegalArgumentException(WHERE + ".bottleneck must be an integer (format_version 1), got " + b);
                    }
                    att = out = Adapter.Site.houlsby(b.asInt());
                } else {
                    att = optionalSite(a, "attention");
                    out = optionalSite(a, "output");
                }
                if (att == null && out == null) {
                    throw new IllegalArgumentException(WHERE + ": attention and output are both null (an export without "
                            + "adapters writes " + KEY + ": null)");
                }
                JsonNode actNode = a.get("activation");
                if (actNode == null || !actNode.isTextual()) {
                    throw new IllegalArgumentException(WHERE + ".activation must be a string, got " + actNode);
                }
                Adapter.Activation act = ExportedModules.enumValue(Adapter.Activation.class, actNode.asText(), version,
                        WHERE + ".activation");
                JsonNode ls = a.get("layers");
                if (ls == null || !ls.isArray()) throw new IllegalArgumentException(WHERE + ".layers must be an array, got " + ls);
                List<Integer> layers = new ArrayList<>();
                for (JsonNode l : ls) {
                    if (!l.isIntegralNumber() || !l.canConvertToInt()) throw new IllegalArgumentException(WHERE + ".layers holds " + l);
                    layers.add(l.asInt());
                }
                if (layers.isEmpty()) {
                    throw new IllegalArgumentException(WHERE + ".layers is empty (an export without adapters writes "
                            + KEY + ": null)");
                }
                int prev = 0;
                for (int l : layers) {
                    if (l <= prev || l > headLayer) {
                        throw new IllegalArgumentException(WHERE + ".layers " + layers + " must ascend within [1, " + headLayer + "]");
                    }
                    prev = l;
                }
                return new Described(att, out, act, List.copyOf(layers));
            }

            private static Adapter.Site optionalSite(JsonNode a, String key) {
                JsonNode n = a.get(key);
                if (n == null || n.isNull()) return null;
                if (!n.isTextual()) throw new IllegalArgumentException(WHERE + "." + key + " must be a site spec or null, got " + n);
                try {
                    return Adapter.Site.parse(n.asText());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(WHERE + "." + key + ": " + e.getMessage(), e);
                }
            }

            /** A description already in the current form ({@link #read}'s result): its layers are not re-bounded. */
            static Described current(ObjectNode description) {
                return parse(description, ExportInfo.FORMAT_VERSION, Integer.MAX_VALUE);
            }
        }

        @Override public String key() { return KEY; }

        @Override public String file() { return FILE; }

        @Override
        public Optional<ObjectNode> describe(SequenceClassifier model) {
            Adapter.Site att = null, out = null;
            Adapter.Activation act = null;
            List<Integer> layers = new ArrayList<>();
            for (int l = 0; l < model.headLayer(); l++) {
                EncoderLayer layer = model.encoder().layers().get(l);
                if (!layer.hasAdapters()) continue;
                Adapter.Site a = site(layer.attentionAdapter()), o = site(layer.outputAdapter());
                Adapter any = layer.attentionAdapter() != null ? layer.attentionAdapter() : layer.outputAdapter();
                if (!layers.isEmpty() && (!Objects.equals(a, att) || !Objects.equals(o, out) || any.activation() != act)) {
                    throw new IllegalArgumentException("adapters differ across layers: encoder.layer." + l + " has (attention "
                            + a + ", output " + o + ", " + any.activation() + "), earlier ones (attention " + att + ", output "
                            + out + ", " + act + "); one adapters file holds one set of sites and one activation");
                }
                att = a;
                out = o;
                act = any.activation();
                layers.add(l + 1);
            }
            return layers.isEmpty() ? Optional.empty() : Optional.of(new Described(att, out, act, layers).toJson());
        }

        private static Adapter.Site site(Adapter a) { return a == null ? null : a.site(); }

        @Override
        public List<Parameter> parameters(SequenceClassifier model) {
            List<Parameter> ps = new ArrayList<>();
            for (int l = 0; l < model.headLayer(); l++) {
                EncoderLayer layer = model.encoder().layers().get(l);
                if (layer.attentionAdapter() != null) ps.addAll(layer.attentionAdapter().parameters());
                if (layer.outputAdapter() != null) ps.addAll(layer.outputAdapter().parameters());
            }
            return ps;
        }

        @Override
        public Map<String, String> metadata(ObjectNode description) {
            Described d = Described.current(description);
            Map<String, String> md = new LinkedHashMap<>();
            md.put("attention", siteMetadata(d.attention()));
            md.put("output", siteMetadata(d.output()));
            md.put("activation", d.activation().name());
            md.put("layers", d.layers().toString());
            return md;
        }

        @Override
        public ObjectNode read(JsonNode description, int formatVersion, int headLayer) {
            return Described.parse(description, formatVersion, headLayer).toJson();
        }

        /** Inserts adapters into the described layers and fills them from {@code file}; every tensor must be used. */
        @Override
        public void load(Encoder enc, ObjectNode description, Path file) throws IOException {
            Described d = Described.current(description);
            if (!Files.isRegularFile(file)) {
                throw new IOException(file + ": missing, but config.json lists adapters in layers " + d.layers());
            }
            SafetensorsFile src;
            try {
                src = SafetensorsFile.open(file);
            } catch (IOException | RuntimeException e) {
                throw new IOException(file + ": cannot read the adapters: " + e.getMessage(), e);
            }
            try (src) {
                List<String> problems = new ArrayList<>();
                Map<String, String> md = src.metadata();
                if (md.containsKey("attention") || !md.containsKey("bottleneck")) {
                    checkMetadata(problems, md, "attention", siteMetadata(d.attention()));
                    checkMetadata(problems, md, "output", siteMetadata(d.output()));
                } else {                                                     // format 1: one bottleneck, both sites
                    checkMetadata(problems, md, "bottleneck", Integer.toString(d.attention().bottleneck()));
                }
                checkMetadata(problems, md, "activation", d.activation().name());
                if (!problems.isEmpty()) throw new IOException(file + ": adapters metadata disagrees with config.json: " + problems);
                List<String> missing = new ArrayList<>(), misshapen = new ArrayList<>();
                Set<String> used = new HashSet<>();
                for (int l : d.layers()) {
                    if (l > enc.numLayers()) throw new IOException(file + ": adapters for layer " + l + " of " + enc.numLayers());
                    EncoderLayer layer = enc.layers().get(l - 1);
                    layer.addAdapters(d.attention(), d.output(), d.activation(), new Random(0));   // overwritten below
                    List<Parameter> ps = new ArrayList<>();
                    if (layer.attentionAdapter() != null) ps.addAll(layer.attentionAdapter().parameters());
                    if (layer.outputAdapter() != null) ps.addAll(layer.outputAdapter().parameters());
                    for (Parameter p : ps) {
                        if (!src.contains(p.name())) { missing.add(p.name()); continue; }
                        used.add(p.name());
                        int[] shape = src.info(p.name()).shape();
                        if (!Arrays.equals(shape, p.shape())) {
                            misshapen.add(p.name() + " has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(p.shape()));
                            continue;
                        }
                        p.copyFrom(src.readFloat(p.name()), shape);
                    }
                }
                Set<String> unused = new TreeSet<>(src.names());
                unused.removeAll(used);
                if (!missing.isEmpty() || !misshapen.isEmpty() || !unused.isEmpty()) {
                    StringBuilder sb = new StringBuilder(file + ": adapters do not match config.json (attention "
                            + siteMetadata(d.attention()) + ", output " + siteMetadata(d.output())
                            + ", layers " + d.layers() + ")");
                    if (!missing.isEmpty()) sb.append("\n  missing: ").append(missing);
                    if (!misshapen.isEmpty()) sb.append("\n  wrong shape: ").append(misshapen);
                    if (!unused.isEmpty()) sb.append("\n  unused: ").append(unused);
                    throw new IOException(sb.toString());
                }
            }
        }

        /** A site's {@link Adapter.Site#spec()}, or {@code none}. */
        private static String siteMetadata(Adapter.Site s) { return s == null ? "none" : s.spec(); }

        private static void checkMetadata(List<String> problems, Map<String, String> md, String key, String expected) {
            String v = md.get(key);
            if (!expected.equals(v)) problems.add("metadata " + key + " = " + v + ", expected " + expected);
        }
    }
}

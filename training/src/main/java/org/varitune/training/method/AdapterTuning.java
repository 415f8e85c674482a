package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.layers.Adapter;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.LayerWiring;
import org.varitune.transformer.tensor.Parameter;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.StringJoiner;

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
 * they and the tuned layers' LayerNorms train (Houlsby et al. 2019; the authors' code). Its options ({@link #OPTIONS}:
 * {@code --adapter-size}, {@code --attention-adapter}, {@code --output-adapter}, {@code --adapter-activation}, the
 * same keys in YAML) are read by {@link #of}.
 *
 * @param attention  the site after {@code attention.output.dense}, or null for none there
 * @param output     the site after {@code output.dense}, or null for none there (not both null)
 * @param activation the adapters' nonlinearity
 */
public record AdapterTuning(Adapter.Site attention, Adapter.Site output, Adapter.Activation activation) implements TuningMethod {

    /** The default peak learning rate of adapters runs: 1e-4, this project's choice (freshly initialised modules). */
    public static final double DEFAULT_LR = 1e-4;

    /** The width of a site that sets none, when {@code --adapter-size} is not given: 64. */
    public static final int DEFAULT_SIZE = 64;

    public AdapterTuning {
        if (attention == null && output == null) {
            throw new IllegalArgumentException("adapters: no site (" + ATTENTION.describe() + " and " + OUTPUT.describe()
                    + " both none)");
        }
        java.util.Objects.requireNonNull(activation, "activation");
    }

    /**
     * One adapter site as an option sets it: the keys given (null = not given), on the CLI as {@code size=R,init=
     * near-identity|bert,position=after-dropout|before-dropout,dropout=P} in any order, or {@code none}; in YAML as
     * that text or as a map {@code {size: 32, init: bert}}. {@code size=0} is {@code none}. A YAML level's site merges
     * key by key over the level it overrides.
     */
    public record SiteOption(Integer size, Adapter.Init init, Adapter.Position position, Double dropout) {
        /** Nothing given: {@link Adapter.Site#houlsby} of {@code --adapter-size}. */
        public static final SiteOption UNSET = new SiteOption(null, null, null, null);

        public SiteOption {
            if (size != null && size < 0) throw new IllegalArgumentException("size " + size + " must be >= 0 (0 = none)");
            if (dropout != null && !(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("dropout " + dropout + " outside [0, 1)");
        }

        /** Parses {@code none} or {@code key=value,...}; an unknown key, a repeated key or a bad value is an error naming it. */
        public static SiteOption parse(String text) {
            if (text.strip().equals("none")) return new SiteOption(0, null, null, null);
            Integer size = null;
            Adapter.Init init = null;
            Adapter.Position position = null;
            Double dropout = null;
            Set<String> seen = new HashSet<>();
            for (String part : text.split(",", -1)) {
                String[] kv = part.split("=", 2);
                if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
                    throw new IllegalArgumentException("'" + part.strip() + "' is not key=value (keys: size, init, position, dropout; or none)");
                }
                String k = kv[0].strip(), v = kv[1].strip();
                if (!seen.add(k)) throw new IllegalArgumentException("key '" + k + "' given twice");
                switch (k) {
                    case "size" -> size = MethodOption.integer(v);
                    case "init" -> init = MethodOption.spelled(Adapter.Init.class, v);
                    case "position" -> position = MethodOption.spelled(Adapter.Position.class, v);
                    case "dropout" -> dropout = MethodOption.decimal(v);
                    default -> throw new IllegalArgumentException("unknown key '" + k + "' (keys: size, init, position, dropout)");
                }
            }
            return new SiteOption(size, init, position, dropout);
        }

        /** This site with every key {@code o} gives taking precedence. */
        public SiteOption overriddenBy(SiteOption o) {
            return new SiteOption(o.size != null ? o.size : size, o.init != null ? o.init : init,
                    o.position != null ? o.position : position, o.dropout != null ? o.dropout : dropout);
        }

        /** The site: the keys given over {@link Adapter.Site#houlsby}({@code defaultSize}); null for size 0 (none). */
        public Adapter.Site resolve(int defaultSize) {
            int r = size != null ? size : defaultSize;
            if (r == 0) return null;
            Adapter.Site h = Adapter.Site.houlsby(r);
            return new Adapter.Site(r, init != null ? init : h.init(), position != null ? position : h.position(),
                    dropout != null ? dropout : h.dropout());
        }

        /** The option text that {@link #parse}s back to this site ({@code none} for size 0). */
        public String text() {
            if (size != null && size == 0 && init == null && position == null && dropout == null) return "none";
            StringJoiner j = new StringJoiner(",");
            if (size != null) j.add("size=" + size);
            if (init != null) j.add("init=" + init.spelling());
            if (position != null) j.add("position=" + position.spelling());
            if (dropout != null) j.add("dropout=" + dropout);
            return j.toString();
        }

        private static String merge(String outer, String inner) {
            return parse(outer).overriddenBy(parse(inner)).text();
        }
    }

    private static final String SITE_LABEL = "none|size=R,init=I,position=P,dropout=D";

    /** {@code --adapter-size} / {@code adapter_size}: the width of every site that sets no size; at least 1. */
    public static final MethodOption<Integer> SIZE = new MethodOption<>("adapter-size", "R",
            "Bottleneck width of each adapter site that sets no size (default " + DEFAULT_SIZE + ").", v -> {
                int r = MethodOption.integer(v);
                if (r < 1) throw new IllegalArgumentException("must be >= 1");
                return r;
            });
    /** {@code --attention-adapter} / {@code attention_adapter}: the site after {@code attention.output.dense}. */
    public static final MethodOption<SiteOption> ATTENTION = new MethodOption<>("attention-adapter", SITE_LABEL,
            "The adapter after attention.output.dense: none, or keys size, init (near-identity|bert), position "
                    + "(after-dropout|before-dropout), dropout (default size=--adapter-size,init=near-identity,"
                    + "position=after-dropout,dropout=0).", SiteOption::parse, SiteOption::merge);
    /** {@code --output-adapter} / {@code output_adapter}: the site after {@code output.dense} (the FFN). */
    public static final MethodOption<SiteOption> OUTPUT = new MethodOption<>("output-adapter", SITE_LABEL,
            "The adapter after output.dense (the FFN), same form and defaults as --attention-adapter.",
            SiteOption::parse, SiteOption::merge);
    /** {@code --adapter-activation} / {@code adapter_activation}: {@code relu} (default, the authors') or {@code gelu}. */
    public static final MethodOption<Adapter.Activation> ACTIVATION = new MethodOption<>("adapter-activation", "relu|gelu",
            "The adapters' nonlinearity (default relu, the authors').", v -> MethodOption.spelled(Adapter.Activation.class, v));

    /** The adapters' options, for the command line and the YAML ({@link TuningMethods} registers them). */
    public static final List<MethodOption<?>> OPTIONS = List.of(SIZE, ATTENTION, OUTPUT, ACTIVATION);

    /**
     * The adapters {@code options} (option name -> value as given) describe: each site its keys over
     * {@link Adapter.Site#houlsby}({@code --adapter-size}, default {@value #DEFAULT_SIZE}), the activation relu unless
     * given.
     *
     * @throws IllegalArgumentException naming the options, when both sites are none
     */
    public static AdapterTuning of(Map<String, String> options) {
        int size = SIZE.value(options, DEFAULT_SIZE);
        return new AdapterTuning(ATTENTION.value(options, SiteOption.UNSET).resolve(size),
                OUTPUT.value(options, SiteOption.UNSET).resolve(size), ACTIVATION.value(options, Adapter.Activation.RELU));
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

    /**
     * {@code attention(size=64,init=near-identity,position=after-dropout,dropout=0.0) output(none) activation=relu}:
     * the run record's value under {@code adapters}.
     */
    @Override
    public java.util.Optional<String> recordedOptions() {
        return java.util.Optional.of("attention(" + (attention == null ? "none" : attention.spec()) + ") output("
                + (output == null ? "none" : output.spec()) + ") activation=" + activation.spelling());
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

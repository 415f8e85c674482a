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
}

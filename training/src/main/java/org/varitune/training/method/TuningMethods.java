package org.varitune.training.method;

import org.varitune.training.TuningMode;
import org.varitune.training.trainer.TrainConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The registry of tuning methods: one line per mode, naming its method's class, default learning rate and options.
 * The command line ({@code varitune train}), the YAML ({@code train:} blocks) and {@link TrainConfig}'s validation
 * read the options from here, so a method with options touches only its class and its line.
 */
public final class TuningMethods {
    private TuningMethods() {}

    /**
     * One mode's method.
     *
     * @param mode      the mode
     * @param defaultLr its peak learning rate when none is given ({@code --lr}, {@code lr})
     * @param options   the options its class declares (none: {@code List.of()})
     * @param build     the method of a run's config (parsing {@link TrainConfig#methodOptions()})
     */
    public record Entry(TuningMode mode, double defaultLr, List<MethodOption<?>> options, Function<TrainConfig, TuningMethod> build) {
        public Entry {
            Objects.requireNonNull(mode, "mode");
            options = List.copyOf(options);
            Objects.requireNonNull(build, "build");
        }
    }

    private static final Map<TuningMode, Entry> ENTRIES = register(
            new Entry(TuningMode.FULL, WholeLayers.DEFAULT_LR, List.of(), c -> WholeLayers.INSTANCE),
            new Entry(TuningMode.TOP_K, WholeLayers.DEFAULT_LR, List.of(), c -> WholeLayers.INSTANCE),
            new Entry(TuningMode.PARTIAL, WholeLayers.DEFAULT_LR, List.of(), c -> WholeLayers.INSTANCE),
            new Entry(TuningMode.PROBE, WholeLayers.PROBE_LR, List.of(), c -> WholeLayers.INSTANCE),
            new Entry(TuningMode.ADAPTERS, AdapterTuning.DEFAULT_LR, AdapterTuning.OPTIONS, c -> AdapterTuning.of(c.methodOptions())),
            new Entry(TuningMode.LORA, LoraTuning.DEFAULT_LR, LoraTuning.OPTIONS, c -> LoraTuning.of(c.methodOptions())),
            new Entry(TuningMode.BITFIT, BitFitTuning.DEFAULT_LR, BitFitTuning.OPTIONS, c -> BitFitTuning.of(c.methodOptions())));

    /** Every option of every method, by name (in registration order). */
    private static final Map<String, Owned> OPTIONS = options();

    private record Owned(TuningMode mode, MethodOption<?> option) {}

    private static Map<TuningMode, Entry> register(Entry... entries) {
        Map<TuningMode, Entry> m = new EnumMap<>(TuningMode.class);
        for (Entry e : entries) {
            if (m.put(e.mode(), e) != null) throw new IllegalStateException("mode " + e.mode() + " registered twice");
        }
        for (TuningMode mode : TuningMode.values()) {
            if (!m.containsKey(mode)) throw new IllegalStateException("mode " + mode + " has no tuning method registered");
        }
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Owned> options() {
        Map<String, Owned> m = new java.util.LinkedHashMap<>();
        for (Entry e : ENTRIES.values()) {
            for (MethodOption<?> o : e.options()) {
                Owned before = m.get(o.name());
                if (before != null && before.option() != o) {
                    throw new IllegalStateException("method option " + o.name() + " declared twice (" + before.mode() + ", " + e.mode() + ")");
                }
                if (before == null) m.put(o.name(), new Owned(e.mode(), o));
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** The registration of {@code mode}. */
    public static Entry entry(TuningMode mode) { return ENTRIES.get(Objects.requireNonNull(mode, "mode")); }

    /**
     * Every tuning method's modules that an export keeps apart from HF's tensors ({@link ExportedModules}), one line per
     * kind; {@code org.varitune.training.export.ModelExport} writes and reads each of them.
     */
    private static final List<ExportedModules> EXPORTED_MODULES = registerExported(
            AdapterTuning.EXPORT);

    private static List<ExportedModules> registerExported(ExportedModules... kinds) {
        Map<String, ExportedModules> byKey = new java.util.LinkedHashMap<>();
        Map<String, ExportedModules> byFile = new java.util.LinkedHashMap<>();
        for (ExportedModules m : kinds) {
            if (byKey.put(m.key(), m) != null) throw new IllegalStateException("exported modules key " + m.key() + " registered twice");
            if (byFile.put(m.file(), m) != null) throw new IllegalStateException("exported modules file " + m.file() + " registered twice");
        }
        return List.copyOf(byKey.values());
    }

    /** Every registered {@link ExportedModules}, in registration order; their keys and files are distinct. */
    public static List<ExportedModules> exportedModules() { return EXPORTED_MODULES; }

    /** Every registered option of every method, each once, in registration order (the CLI's flags, the YAML's keys). */
    public static List<MethodOption<?>> allOptions() {
        List<MethodOption<?>> l = new ArrayList<>();
        OPTIONS.values().forEach(o -> l.add(o.option()));
        return l;
    }

    /** The option named {@code name} ({@code lora-rank}), if registered. */
    public static java.util.Optional<MethodOption<?>> option(String name) {
        return java.util.Optional.ofNullable(OPTIONS.get(name)).map(Owned::option);
    }

    /** The option whose YAML key is {@code key} ({@code lora_rank}), if registered. */
    public static java.util.Optional<MethodOption<?>> optionByYamlKey(String key) {
        return OPTIONS.values().stream().map(Owned::option).filter(o -> o.yamlKey().equals(key)).findFirst();
    }

    /** Whether the option named {@code name} belongs to {@code mode}'s method. */
    public static boolean isOptionOf(String name, TuningMode mode) {
        return entry(mode).options().stream().anyMatch(o -> o.name().equals(name));
    }

    /** The default peak learning rate of {@code mode} (its {@link Entry#defaultLr()}). */
    public static double defaultLr(TuningMode mode) { return entry(mode).defaultLr(); }

    /**
     * {@code options} (option name -> value as given) checked for a run of {@code mode}, as an immutable map sorted by
     * name.
     *
     * @throws IllegalArgumentException naming the option: an unregistered name; an option of another mode's method
     *                                  ({@code --lora-rank (lora_rank) is an option of lora, not of partial}); a value
     *                                  the option rejects (naming the value)
     */
    public static SortedMap<String, String> check(TuningMode mode, Map<String, String> options) {
        SortedMap<String, String> sorted = new TreeMap<>();
        for (Map.Entry<String, String> e : options.entrySet()) {
            String name = e.getKey();
            Owned owned = name == null ? null : OPTIONS.get(name);
            if (owned == null) {
                StringJoiner known = new StringJoiner(", ");
                OPTIONS.keySet().forEach(known::add);
                throw new IllegalArgumentException("unknown tuning-method option '" + name + "' (known: " + known + ")");
            }
            if (!isOptionOf(name, mode)) {
                throw new IllegalArgumentException(owned.option().describe() + " is an option of " + owned.mode() + ", not of " + mode);
            }
            if (e.getValue() == null) throw new IllegalArgumentException(owned.option().describe() + " has no value");
            owned.option().read(e.getValue());
            sorted.put(name, e.getValue());
        }
        return Collections.unmodifiableSortedMap(sorted);
    }

    /** The method of {@code mode} with its default options. */
    public static TuningMethod defaults(TuningMode mode) {
        return of(TrainConfig.builder().mode(mode).build());
    }

    /** The method {@code config} describes (its mode and that mode's options). */
    public static TuningMethod of(TrainConfig config) {
        return entry(config.mode()).build().apply(config);
    }
}

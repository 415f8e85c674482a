package org.varitune.training.method;

import org.varitune.transformer.io.Spelled;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * One option of a tuning method, declared by the method's class (e.g. {@link LoraTuning#OPTIONS}) and picked up by
 * the command line and the YAML through {@link TuningMethods}: {@code lora-rank} is the flag {@code --lora-rank} of
 * {@code varitune train} and the key {@code lora_rank} of a sweep's {@code train:} block. A run carries the values as
 * given ({@link org.varitune.training.trainer.TrainConfig#methodOptions()}: name -> text); the method parses them.
 *
 * @param name  kebab case, naming its method ({@code lora-rank}, {@code adapter-size}, {@code attention-adapter})
 * @param label what the value is, in {@code --help} ({@code R} in {@code --lora-rank=R})
 * @param help  one sentence for {@code --help}, ending with the default, e.g. {@code LoRA rank r (default 8, PEFT's).}
 * @param parse reads a value, range checked; a bad one is an {@link IllegalArgumentException} (or
 *              {@link NumberFormatException}) whose message says what is wrong with it
 * @param merge how a YAML level's value combines with the value of the level it overrides ({@link #merge}):
 *              {@code (outer, inner) -> combined}; null (the default) = the inner value replaces the outer one. A
 *              structured value (an adapter site's {@code size=64,init=bert}) may merge key by key.
 */
public record MethodOption<T>(String name, String label, String help, Function<String, T> parse,
                              java.util.function.BinaryOperator<String> merge) {

    /** An option whose inner YAML value replaces the outer one. */
    public MethodOption(String name, String label, String help, Function<String, T> parse) {
        this(name, label, help, parse, null);
    }

    public MethodOption {
        Objects.requireNonNull(parse, "parse");
        if (name == null || !name.matches("[a-z][a-z0-9]*(-[a-z0-9]+)+")) {
            throw new IllegalArgumentException("method option name '" + name + "' must be kebab case naming its method, e.g. lora-rank");
        }
        if (label == null || label.isBlank() || help == null || help.isBlank()) {
            throw new IllegalArgumentException("method option " + name + " needs a label and a help text");
        }
    }

    /** {@code --lora-rank}. */
    public String flag() { return "--" + name; }

    /** {@code lora_rank}. */
    public String yamlKey() { return name.replace('-', '_'); }

    /** {@code --lora-rank (lora_rank)}: how errors name the option, for the command line and the YAML alike. */
    public String describe() { return flag() + " (" + yamlKey() + ")"; }

    /**
     * This option's value in {@code options} (name -> text), parsed, or {@code otherwise} when absent.
     *
     * @throws IllegalArgumentException naming the flag, the key and the value, when {@link #parse} rejects it
     */
    public T value(Map<String, String> options, T otherwise) {
        String v = options.get(name);
        return v == null ? otherwise : read(v);
    }

    /**
     * The value of a YAML level ({@code inner}: a method's {@code train:}, a task override) over the value of the level
     * it overrides ({@code outer}: the shared block), either possibly null (unset): {@link #merge} applied when both
     * are set, else the one set.
     */
    public String merge(String outer, String inner) {
        if (outer == null) return inner;
        if (inner == null) return outer;
        return merge == null ? inner : merge.apply(outer, inner);
    }

    /** {@code text} parsed; an error names the flag, the key and the value. */
    public T read(String text) {
        try {
            return parse.apply(text);
        } catch (IllegalArgumentException e) {            // NumberFormatException included
            String m = e.getMessage();                    // Spelled's messages quote the value already
            throw new IllegalArgumentException(describe() + (m != null && m.startsWith("'" + text + "'") ? " " + m
                    : " '" + text + "': " + m), e);
        }
    }

    /** A whole number, e.g. {@code 8}. */
    public static int integer(String s) {
        if (!s.strip().matches("[+-]?[0-9]{1,10}")) throw new IllegalArgumentException("not a whole number");
        long v = Long.parseLong(s.strip());
        if (v != (int) v) throw new IllegalArgumentException("outside the int range");
        return (int) v;
    }

    /** A finite decimal number ({@code 16}, {@code 0.1}, {@code 1e-3}); not NaN, infinities or Java's hex and suffixed forms. */
    public static double decimal(String s) {
        if (!s.strip().matches("[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?")) {
            throw new IllegalArgumentException("not a finite decimal number");
        }
        double d = Double.parseDouble(s.strip());
        if (!Double.isFinite(d)) throw new IllegalArgumentException("overflows a double");
        return d;
    }

    /** A value of a {@link Spelled} enum, by its spelling. */
    public static <E extends Enum<E> & Spelled> E spelled(Class<E> type, String s) {
        return Spelled.parse(type, s.strip(), "");
    }

    /** A comma-separated list ({@code query,value}; a YAML list arrives joined the same way), each item parsed. */
    public static <E> List<E> list(String s, Function<String, E> item) {
        List<E> out = new ArrayList<>();
        for (String part : s.split(",", -1)) {
            if (part.isBlank()) throw new IllegalArgumentException("an empty item");
            out.add(item.apply(part.strip()));
        }
        return out;
    }
}

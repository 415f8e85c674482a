package org.varitune.transformer.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * An option value with one spelling, the same on every command, in every YAML config and in every record a run
 * writes: lower-case kebab case ({@code first-token}, {@code top-k}). Each enum declares its spelling (and returns it
 * from {@code toString()}); {@link #parse} reads it back and rejects anything else, with a hint for an old spelling.
 */
public interface Spelled {
    /** This value's spelling, e.g. {@code mean-with-special}. */
    String spelling();

    /**
     * Spellings this value had before, besides its Java constant name (e.g. {@code auto} for {@code cached});
     * rejected by {@link #parse} with a hint to {@link #spelling()}. None by default.
     */
    default List<String> oldSpellings() { return List.of(); }

    /**
     * The value of {@code type} spelled {@code value}, exactly.
     *
     * @param option names the option or key in errors, e.g. {@code --pooling} or {@code variability.pooling}; empty
     *               where the caller names it (picocli prefixes "Invalid value for option '--pooling': ")
     * @throws IllegalArgumentException for the spelling in another case or with {@code _} ({@code '<v>' is spelled
     *                                  '<s>'}); for an old spelling ({@code '<v>' is the old spelling; use '<s>'}): the
     *                                  Java constant name or an {@link #oldSpellings()} entry, in any case, with
     *                                  {@code _} or {@code -}; otherwise for an unknown value, listing the spellings
     */
    static <E extends Enum<E> & Spelled> E parse(Class<E> type, String value, String option) {
        String what = (option.isEmpty() ? "" : option + " ") + "'" + value + "'";
        if (value == null) throw new IllegalArgumentException(option + " needs a value: one of " + choices(type));
        for (E e : type.getEnumConstants()) if (e.spelling().equals(value)) return e;
        String key = normalise(value);
        for (E e : type.getEnumConstants()) {
            if (normalise(e.spelling()).equals(key)) {
                throw new IllegalArgumentException(what + " is spelled '" + e.spelling() + "'");
            }
            List<String> old = new ArrayList<>(e.oldSpellings());
            old.add(e.name());
            for (String o : old) {
                if (normalise(o).equals(key)) throw new IllegalArgumentException(what + " is the old spelling; use '" + e.spelling() + "'");
            }
        }
        throw new IllegalArgumentException(what + " is not one of " + choices(type));
    }

    /** Every spelling of {@code type}, in declaration order. */
    static <E extends Enum<E> & Spelled> List<String> spellings(Class<E> type) {
        List<String> s = new ArrayList<>();
        for (E e : type.getEnumConstants()) s.add(e.spelling());
        return s;
    }

    /** The spellings joined for messages: {@code full, top-k, partial}. */
    static <E extends Enum<E> & Spelled> String choices(Class<E> type) {
        StringJoiner j = new StringJoiner(", ");
        spellings(type).forEach(j::add);
        return j.toString();
    }

    private static String normalise(String s) { return s.trim().toLowerCase(Locale.ROOT).replace('_', '-'); }
}

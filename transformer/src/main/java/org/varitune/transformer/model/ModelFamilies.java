package org.varitune.transformer.model;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The supported architectures, listed once: {@code model_type} to {@link ModelFamily}. */
public final class ModelFamilies {
    private ModelFamilies() {}

    private static final List<ModelFamily> ALL = List.of(new BertFamily(), new RobertaFamily(), new DistilBertFamily());

    /** Every family, in a fixed order. */
    public static List<ModelFamily> all() { return ALL; }

    /** {@code ""} and every family's encoder prefix, in {@link #all()} order. */
    public static List<String> prefixes() {
        List<String> ps = new ArrayList<>(List.of(""));
        for (ModelFamily f : ALL) ps.add(f.prefix());
        return List.copyOf(ps);
    }

    /** The family of an HF {@code model_type}; fails naming the supported ones. */
    public static ModelFamily of(String modelType) {
        for (ModelFamily f : ALL) if (f.modelType().equals(modelType)) return f;
        throw new IllegalArgumentException("model_type '" + modelType + "' is not supported (expected one of "
                + names() + ")");
    }

    /** The family named by its {@code model_type} or its head's HF architecture ({@code BertForSequenceClassification}). */
    public static ModelFamily ofName(String name) {
        for (ModelFamily f : ALL) if (f.modelType().equals(name) || f.head().architecture().equals(name)) return f;
        throw new IllegalArgumentException("unknown head kind '" + name + "' (expected one of " + names()
                + " or their *ForSequenceClassification)");
    }

    private static String names() { return ALL.stream().map(ModelFamily::modelType).collect(Collectors.joining(", ")); }
}

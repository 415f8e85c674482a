package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.experiments.report.AtomicFiles;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The identity of a result: named components (a content hash such as {@code "model"} or {@code "examples"}, or a
 * setting such as {@code "train.lr"}), each a JSON scalar, and their combined SHA-256. Two results with the same
 * {@link #sha256()} were computed from the same inputs; two with different ones differ in the components that
 * {@link #changesSince} lists by key. Stored as {@code "fingerprint": {...}} plus {@code "fingerprint_sha256"}.
 *
 * <p>Combined hash: SHA-256 of the UTF-8 lines {@code key=value\n} in key order, where a number is written as its
 * exact decimal without trailing zeros ({@code 2.0E-5} and {@code 0.00002} are one value; {@code 3} and {@code 3.0}
 * too), a string as its JSON literal, a boolean as {@code true|false}. So the hash survives a JSON round trip.
 */
public final class Fingerprint {
    private final Map<String, JsonNode> components;

    private Fingerprint(Map<String, JsonNode> components) {
        this.components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
    }

    /** A builder that keeps components in insertion order (the order they are listed in JSON and in changes). */
    public static Builder builder() { return new Builder(); }

    /** Mutable builder; a key may be set once. */
    public static final class Builder {
        private final Map<String, JsonNode> m = new LinkedHashMap<>();

        /** Adds a component; {@code value} is a String, Number or Boolean. */
        public Builder put(String key, Object value) {
            if (key.isEmpty() || key.contains("=") || key.contains("\n")) {
                throw new IllegalArgumentException("fingerprint key '" + key + "' is empty or holds '=' or a newline");
            }
            if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
                throw new IllegalArgumentException("fingerprint component " + key + " = " + value
                        + ": not a string, number or boolean");
            }
            if (m.putIfAbsent(key, AtomicFiles.JSON.valueToTree(value)) != null) {
                throw new IllegalArgumentException("fingerprint component " + key + " set twice");
            }
            return this;
        }

        /** Adds every entry of {@code map}, each key prefixed. */
        public Builder putAll(String prefix, Map<String, ?> map) {
            map.forEach((k, v) -> put(prefix + k, v));
            return this;
        }

        public Fingerprint build() { return new Fingerprint(m); }
    }

    /** Reads the {@code "fingerprint"} object written by {@link #toJson}; null when {@code node} is missing or null. */
    public static Fingerprint fromJson(JsonNode node, String where) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        if (!node.isObject()) throw new IllegalArgumentException(where + ": fingerprint is not a JSON object");
        Map<String, JsonNode> m = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new IllegalArgumentException(where + ": fingerprint component " + e.getKey() + " is not a scalar");
            }
            m.put(e.getKey(), e.getValue());
        });
        return new Fingerprint(m);
    }

    /** The components, in insertion order. */
    public Map<String, JsonNode> components() { return components; }

    /** The component {@code key}, or null. */
    public JsonNode get(String key) { return components.get(key); }

    /** This fingerprint without the given components (e.g. a run's method label, to find an equivalent run). */
    public Fingerprint without(String... keys) {
        Map<String, JsonNode> m = new LinkedHashMap<>(components);
        for (String k : keys) m.remove(k);
        return new Fingerprint(m);
    }

    /** SHA-256 (hex) of the canonical lines, see the class comment. */
    public String sha256() {
        StringBuilder sb = new StringBuilder();
        for (String k : new TreeSet<>(components.keySet())) {
            sb.append(k).append('=').append(canonical(components.get(k))).append('\n');
        }
        try {
            byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static String canonical(JsonNode v) {
        if (v.isNumber()) {
            BigDecimal d = v.decimalValue().stripTrailingZeros();
            return d.signum() == 0 ? "0" : d.toPlainString();
        }
        return v.toString();                                        // JSON literal: "text", true, false
    }

    /**
     * The components that differ from {@code old}, as {@code key: old -> new} in this fingerprint's order (then keys
     * only {@code old} has); a component one side lacks shows as {@code (absent)}. Empty when the hashes are equal.
     */
    public List<String> changesSince(Fingerprint old) {
        List<String> out = new ArrayList<>();
        for (var e : components.entrySet()) {
            JsonNode was = old.components.get(e.getKey());
            if (was == null || !canonical(was).equals(canonical(e.getValue()))) {
                out.add(e.getKey() + ": " + show(was) + " -> " + show(e.getValue()));
            }
        }
        for (var e : old.components.entrySet()) {
            if (!components.containsKey(e.getKey())) out.add(e.getKey() + ": " + show(e.getValue()) + " -> (absent)");
        }
        return out;
    }

    private static String show(JsonNode v) { return v == null ? "(absent)" : v.isTextual() ? v.asText() : v.toString(); }

    /** The {@code "fingerprint"} object: the components in order. */
    public ObjectNode toJson() {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        components.forEach(o::set);
        return o;
    }

    /** Sets {@code "fingerprint"} and {@code "fingerprint_sha256"} on {@code target}; returns it. */
    public ObjectNode writeTo(ObjectNode target) {
        target.set("fingerprint", toJson());
        target.put("fingerprint_sha256", sha256());
        return target;
    }

    @Override public boolean equals(Object o) { return o instanceof Fingerprint f && f.sha256().equals(sha256()); }
    @Override public int hashCode() { return sha256().hashCode(); }
    @Override public String toString() { return toJson().toString(); }
}

package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of {@code config.json} keys; every failure names the key. */
final class ConfigKeys {
    private ConfigKeys() {}

    static String textRequired(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing required key '" + key + "'");
        if (!n.isTextual()) throw new IllegalArgumentException("key '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    static String text(JsonNode root, String key, String dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isTextual()) throw new IllegalArgumentException("key '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    static int intRequired(JsonNode root, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing required key '" + key + "'");
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw new IllegalArgumentException("key '" + key + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    static double number(JsonNode root, String key, double dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber()) throw new IllegalArgumentException("key '" + key + "' must be a number, got " + n);
        return n.asDouble();
    }

    static boolean bool(JsonNode root, String key, boolean dflt) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isBoolean()) throw new IllegalArgumentException("key '" + key + "' must be true or false, got " + n);
        return n.asBoolean();
    }
}

package org.varitune.transformer.testing;

/** A normalised tolerance with the name that appears in failure messages. */
public record Tol(String name, double maxNormalisedError) {
    public static Tol of(String name, double v) { return new Tol(name, v); }
}

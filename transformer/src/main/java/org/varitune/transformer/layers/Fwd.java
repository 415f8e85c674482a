package org.varitune.transformer.layers;

/**
 * A layer's forward result: the output and, when the forward ran with {@code keep}, exactly what its backward
 * needs ({@code saved} is null otherwise).
 */
public record Fwd<S>(float[] out, S saved) {}

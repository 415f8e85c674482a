package org.varitune.transformer.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Base of numeric tests (EJML {@code EjmlStandardJUnit}): a fresh {@link Random} with a fixed seed per test, and a
 * check that the test printed nothing to stdout.
 */
public abstract class TestBase {
    public static final long SEED = 345;
    protected Random rand;
    private PrintStream savedOut;
    private ByteArrayOutputStream captured;

    @BeforeEach
    void setUpBase() {
        rand = new Random(SEED);
        savedOut = System.out;
        captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true));
    }

    @AfterEach
    void tearDownBase() {
        System.setOut(savedOut);
        assertEquals("", captured.toString(), "test printed to stdout");
    }

    /** n floats uniform in [lo, hi). */
    protected float[] uniform(int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (lo + (hi - lo) * rand.nextDouble());
        return a;
    }

    /** n floats uniform in [-2, 2), tinygrad's range. */
    protected float[] randn(int n) { return uniform(n, -2, 2); }

    protected static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}

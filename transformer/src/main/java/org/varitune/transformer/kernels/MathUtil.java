package org.varitune.transformer.kernels;

/** Scalar functions the kernels share: erf and the exact GELU with its derivative. */
public final class MathUtil {
    private MathUtil() {}

    public static final double INV_SQRT2 = 0.7071067811865476;
    public static final double INV_SQRT_2PI = 0.3989422804014327;

    /**
     * Error function in double, |error| below 1.2e-16 relative over the real line: W. J. Cody's rational
     * Chebyshev approximations (Math. Comp. 23, 1969), the algorithm used by most libm implementations.
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (ax < 0.5) {
            double t = x * x;
            double top = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) * t
                    + 377.485237685302021) * t + 3209.37758913846947;
            double bot = (((t + 23.6012909523441209) * t + 244.024637934444173) * t + 1282.61652607737228) * t
                    + 2844.23683343917062;
            return x * top / bot;
        }
        double r = erfcPositive(ax);
        return x < 0 ? r - 1.0 : 1.0 - r;
    }

    /**
     * Complementary error function {@code 1 − erf(x)}, accurate in relative terms also where it is tiny (large x),
     * unlike {@code 1 − erf(x)}.
     */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        double r = ax < 0.5 ? 1.0 - erf(ax) : erfcPositive(ax);
        return x < 0 ? 2.0 - r : r;
    }

    /** Complementary error function of {@code x >= 0.5}, Cody's second and third ranges. */
    private static double erfcPositive(double ax) {
        if (ax < 4.0) {
            double top = (((((((2.15311535474403846e-8 * ax + 0.564188496988670089) * ax + 8.88314979438837594) * ax
                    + 66.1191906371416295) * ax + 298.635138197400131) * ax + 881.952221241769090) * ax
                    + 1712.04761263407058) * ax + 2051.07837782607147) * ax + 1230.33935479799725;
            double bot = (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax + 537.181101862009858) * ax
                    + 1621.38957456669019) * ax + 3290.79923573345963) * ax + 4362.61909014324716) * ax
                    + 3439.36767414372164) * ax + 1230.33935480374942;
            return expmx2(ax) * top / bot;
        }
        if (ax > 27.0) return 0.0;
        double z = 1.0 / (ax * ax);
        double top = ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) * z
                + 0.125781726111229246) * z + 0.0160837851487422766) * z + 6.58749161529837803e-4;
        double bot = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z + 0.527905102951428412) * z
                + 0.0605183413124413191) * z + 2.33520497626869185e-3;
        double r = z * top / bot;
        r = (0.564189583547756287 - r) / ax;
        return expmx2(ax) * r;
    }

    /** exp(−x²) computed as exp(−xh²)·exp(−(x−xh)(x+xh)) with xh = x rounded to 1/16, to keep its accuracy. */
    private static double expmx2(double x) {
        double xh = Math.floor(x * 16.0) / 16.0;
        double del = (x - xh) * (x + xh);
        return Math.exp(-xh * xh) * Math.exp(-del);
    }

    /**
     * Standard normal CDF {@code Φ(x) = 0.5·(1 + erf(x/√2)) = 0.5·erfc(−x/√2)}, the latter form for x < 0 so that
     * Φ keeps its relative accuracy in the far left tail (where {@code 1 + erf} cancels to 0).
     */
    public static double phi(double x) {
        return x < 0 ? 0.5 * erfc(-x * INV_SQRT2) : 0.5 * (1.0 + erf(x * INV_SQRT2));
    }

    /** Exact GELU, {@code 0.5·x·(1 + erf(x/√2))} = {@code x·Φ(x)}. */
    public static double gelu(double x) {
        return x * phi(x);
    }

    /** d gelu/dx = Φ(x) + x·φ(x). */
    public static double geluGrad(double x) {
        double cdf = phi(x);
        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * x * x);
        return cdf + x * pdf;
    }
}

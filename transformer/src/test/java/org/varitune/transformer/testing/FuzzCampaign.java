package org.varitune.transformer.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded, bounded fuzz campaign against one reader. Case {@code i} draws from {@code new Random(seed * 1_000_003 +
 * i)}, so a failure is replayed by its index alone. Every case must end one of two ways: the reader accepts the input
 * and the case's own consistency checks pass, or the reader throws its documented exception type with a message that
 * names one of the files the case registered. Anything else is a failure: an {@link AssertionError} from the checks
 * is an <em>accepted but misread</em> input, any other throwable (or the right type without the file) is an
 * <em>untyped</em> failure.
 *
 * <p>The case count is the test's default unless {@code -Dvaritune.fuzz.cases=N} raises it (the long campaign, see
 * the README); {@code -Dvaritune.fuzz.seed} changes the seed.
 */
public final class FuzzCampaign {
    /** One fuzz case: builds an input from {@code c.random()}, registers its files, and reads it. */
    @FunctionalInterface
    public interface Body {
        void run(Case c) throws Throwable;
    }

    /** What a case knows about itself: its random source, the files a message may name, and a description. */
    public static final class Case {
        private final Random random;
        private final int index;
        private final List<String> files = new ArrayList<>();
        private String note = "";

        Case(Random random, int index) { this.random = random; this.index = index; }

        public Random random() { return random; }

        public int index() { return index; }

        /** Registers a file whose name a rejection message may carry; returns it. */
        public Path file(Path p) { files.add(p.toString()); return p; }

        /** Describes the case (the mutation applied), for failure reports. */
        public void note(String s) { note = s; }
    }

    private final String reader;
    private final Class<? extends Throwable> documented;
    private final long seed;
    private int accepted, rejected;
    private final List<String> untyped = new ArrayList<>();
    private final List<String> misread = new ArrayList<>();

    /**
     * @param reader     name in the summary line
     * @param documented the reader's documented exception type
     */
    public FuzzCampaign(String reader, Class<? extends Throwable> documented) {
        this.reader = reader;
        this.documented = documented;
        this.seed = Long.getLong("varitune.fuzz.seed", 20261201L);
    }

    /** The number of cases: {@code -Dvaritune.fuzz.cases} when set, else {@code dflt}. */
    public static int cases(int dflt) {
        return Integer.getInteger("varitune.fuzz.cases", dflt);
    }

    /**
     * Runs {@code n} cases, prints one summary line to stderr, and returns this campaign for its counts.
     *
     * @throws AssertionError listing up to 10 failing cases when any case was untyped or misread
     */
    public FuzzCampaign run(int n, Body body) {
        for (int i = 0; i < n; i++) {
            Case c = new Case(new Random(seed * 1_000_003L + i), i);
            try {
                body.run(c);
                accepted++;
            } catch (AssertionError e) {
                misread.add(describe(c, e));
            } catch (Throwable t) {
                boolean named = t.getMessage() != null && c.files.stream().anyMatch(t.getMessage()::contains);
                if (documented.isInstance(t) && named) rejected++;
                else untyped.add(describe(c, t));
            }
        }
        System.err.printf("fuzz %s: %d cases (seed %d): %d accepted and read consistently, %d rejected with a typed"
                + " error naming the file, %d untyped failures, %d accepted but misread%n", reader, n, seed, accepted,
                rejected, untyped.size(), misread.size());
        if (!untyped.isEmpty() || !misread.isEmpty()) {
            List<String> all = new ArrayList<>(untyped);
            all.addAll(misread);
            throw new AssertionError(reader + ": " + untyped.size() + " untyped failures and " + misread.size()
                    + " misread inputs out of " + n + " cases; first ones:\n" + String.join("\n", all.subList(0,
                    Math.min(10, all.size()))));
        }
        return this;
    }

    public int accepted() { return accepted; }

    public int rejected() { return rejected; }

    private static final String[] TOKENS = {"{", "}", "[", "]", "\"", ",", ":", "0", "1", "9", "-1", " ", "\u0000",
            "4294967296", "9223372036854775807", "18446744073709551616", "1e3", "1.5", "null", "\"F32\"", "\"U64\"",
            "\"F8_E4M3\"", "\"__metadata__\"", "\t", "\n", "\uFEFF", "\uD800", "~", "- ", "&a ", "*a", "!!str ", "2147483648",
            ".nan", "-.inf", "# ", "'", "|", "\n  ", "\n    - ", "[~]", "{}", "2147483647", "1e9", "0x10", "true"};

    /** Replaces, inserts or deletes a JSON- or YAML-significant token at a random place, or changes a digit. */
    public static String mutateText(Case k, String s) {
        Random r = k.random();
        int p = s.isEmpty() ? 0 : r.nextInt(s.length());
        String t = TOKENS[r.nextInt(TOKENS.length)];
        switch (r.nextInt(4)) {
            case 0: {
                List<Integer> digits = new ArrayList<>();
                for (int i = 0; i < s.length(); i++) if (Character.isDigit(s.charAt(i))) digits.add(i);
                if (!digits.isEmpty()) {
                    int d = digits.get(r.nextInt(digits.size()));
                    k.note("digit changed at " + d);
                    return s.substring(0, d) + (char) ('0' + r.nextInt(10)) + s.substring(d + 1);
                }
            } // fall through: no digit
            case 1:
                k.note("inserted " + quoted(t) + " at " + p);
                return s.substring(0, p) + t + s.substring(p);
            case 2:
                k.note("replaced char " + p + " by " + quoted(t));
                return s.isEmpty() ? t : s.substring(0, p) + t + s.substring(p + 1);
            default:
                k.note("deleted char " + p);
                return s.isEmpty() ? s : s.substring(0, p) + s.substring(p + 1);
        }
    }

    private static String quoted(String t) { return "'" + t + "'"; }

    private static String describe(Case c, Throwable t) {
        StringBuilder b = new StringBuilder("  case " + c.index + " [" + c.note + "]: " + t);
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("org.junit")) break;
            b.append("\n      at ").append(e);
        }
        return printable(b.toString());
    }

    /** {@code s} with control characters other than newline written as {@code \\uXXXX}. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch < 0x20 && ch != '\n' || ch == 0x7F || Character.isSurrogate(ch)) b.append(String.format("\\u%04X", (int) ch)); else b.append(ch);
        }
        return b.toString();
    }
}

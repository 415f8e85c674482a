package org.varitune.transformer.io;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SpelledTest {
    /** A two-value enum with an old spelling besides its constant names, as the option enums declare them. */
    enum Policy implements Spelled {
        CACHED("cached", "auto"), MEAN_NON_PAD("mean-with-special");

        private final String spelling;
        private final List<String> old;

        Policy(String spelling, String... old) { this.spelling = spelling; this.old = List.of(old); }

        @Override public String spelling() { return spelling; }

        @Override public List<String> oldSpellings() { return old; }
    }

    private static String error(String value) {
        return assertThrows(IllegalArgumentException.class, () -> Spelled.parse(Policy.class, value, "--opt")).getMessage();
    }

    @Test
    void readsExactlyTheSpelling() {
        assertEquals(Policy.CACHED, Spelled.parse(Policy.class, "cached", "--opt"));
        assertEquals(Policy.MEAN_NON_PAD, Spelled.parse(Policy.class, "mean-with-special", "--opt"));
        assertEquals(List.of("cached", "mean-with-special"), Spelled.spellings(Policy.class));
    }

    @Test
    void rejectsAnOldSpellingWithTheNewOne() {
        assertEquals("--opt 'MEAN_NON_PAD' is the old spelling; use 'mean-with-special'", error("MEAN_NON_PAD"));
        assertEquals("--opt 'mean-non-pad' is the old spelling; use 'mean-with-special'", error("mean-non-pad"));
        assertEquals("--opt 'auto' is the old spelling; use 'cached'", error("auto"));
        assertEquals("--opt 'AUTO' is the old spelling; use 'cached'", error("AUTO"));
    }

    @Test
    void rejectsAnotherCaseOrUnderscoresNamingTheSpelling() {
        assertEquals("--opt 'Cached' is spelled 'cached'", error("Cached"));
        assertEquals("--opt 'mean_with_special' is spelled 'mean-with-special'", error("mean_with_special"));
    }

    @Test
    void rejectsAnUnknownValueListingTheSpellings() {
        assertEquals("--opt 'on' is not one of cached, mean-with-special", error("on"));
        assertEquals("'on' is not one of cached, mean-with-special",
                assertThrows(IllegalArgumentException.class, () -> Spelled.parse(Policy.class, "on", "")).getMessage(),
                "without an option name, for callers that name it themselves");
    }
}

package org.varitune.experiments.data;

import org.junit.jupiter.api.Test;
import org.varitune.experiments.data.BuiltinTasks.Sizes;
import org.varitune.experiments.data.WordNet.Pos;
import org.varitune.experiments.data.WordNet.Synset;
import org.varitune.transformer.testing.TestBase;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The counts asserted here are the ones documented in {@link BuiltinTasks} and the README. */
class BuiltinTasksTest extends TestBase {
    private static final String SS = BuiltinTasks.SUPERSENSE, PAIRS = BuiltinTasks.PAIRS,
            SHIFT = BuiltinTasks.BIGRAM_SHIFT, LENGTH = BuiltinTasks.SENTENCE_LENGTH;
    private static final Pattern PLAIN = Pattern.compile("[a-z]+");

    private static Set<String> textsA(Dataset d) {
        return d.examples().stream().map(Example::textA).collect(Collectors.toSet());
    }

    private static void assertDisjoint(Set<String> a, Set<String> b, String what) {
        Set<String> both = new HashSet<>(a);
        both.retainAll(b);
        assertTrue(both.isEmpty(), what + " share " + both.size() + " texts, e.g. " + both.stream().limit(3).toList());
    }

    @Test
    void registryNamesBothTasksWithDescriptions() {
        assertEquals(List.of(SS, PAIRS, SHIFT, LENGTH), BuiltinTasks.names());
        for (BuiltinTasks.TaskInfo t : BuiltinTasks.tasks()) assertFalse(t.description().isBlank(), t.name());
        assertFalse(BuiltinTasks.info(SS).pair());
        assertTrue(BuiltinTasks.info(PAIRS).pair());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuiltinTasks.info("wordnet"));
        assertTrue(e.getMessage().contains(SS) && e.getMessage().contains(PAIRS) && e.getMessage().contains(SHIFT),
                e.getMessage());
    }

    @Test
    void supersensePoolSizesAreAsDocumented() {
        List<Integer> sizes = BuiltinTasks.supersensePools().stream().map(List::size).toList();
        assertEquals(List.of(7121, 11578, 2016, 2570, 3126, 11004, 7861, 2951), sizes, BuiltinTasks.SUPERSENSE_CLASSES.toString());
    }

    @Test
    void supersenseDefaultSplitsAreBalancedWithDocumentedCounts() {
        Map<String, Integer> perClass = Map.of("train", 250, "dev", 100, "test", 100);
        for (String split : BuiltinTasks.SPLITS) {
            Dataset d = BuiltinTasks.load(SS, split);
            int[] expected = new int[8];
            java.util.Arrays.fill(expected, perClass.get(split));
            assertArrayEquals(expected, d.classCounts(), split);
            assertEquals(BuiltinTasks.SUPERSENSE_CLASSES, d.labelNames());
            assertEquals(0, d.emptyTexts(), split);
            assertFalse(d.pair());
            assertEquals(split, d.split());
            for (Example e : d.examples()) assertFalse(e.textA().isBlank(), "line " + e.sourceLine());
        }
    }

    @Test
    void supersenseTextsHaveTheLexFileOfTheirLabel() {
        Map<Integer, Synset> byLine = new HashMap<>();
        for (Synset s : WordNet.synsets(Pos.NOUN)) byLine.put(s.line(), s);
        for (Example e : BuiltinTasks.load(SS, "dev").examples()) {
            Synset s = byLine.get(e.sourceLine());
            assertEquals(s.definition(), e.textA());
            assertEquals(BuiltinTasks.SUPERSENSE_CLASSES.get(e.label()), s.lexName());
        }
    }

    @Test
    void splitsAreDisjointAndLoadingIsDeterministic() {
        for (String task : BuiltinTasks.names()) {
            Dataset train = BuiltinTasks.load(task, "train"), dev = BuiltinTasks.load(task, "dev"),
                    test = BuiltinTasks.load(task, "test");
            assertDisjoint(textsA(train), textsA(dev), task + " train/dev");
            assertDisjoint(textsA(train), textsA(test), task + " train/test");
            assertDisjoint(textsA(dev), textsA(test), task + " dev/test");
            assertEquals(train.size(), textsA(train).size(), task + ": each text A once");
            assertEquals(train.examples(), BuiltinTasks.load(task, "train").examples(), task);
            assertEquals(test.examples(), BuiltinTasks.load(task, "test").examples(), task);
        }
    }

    @Test
    void splitOrderIsPinnedSoItCannotDriftAcrossJvms() {
        // The first source lines of each split: a change of seed, shuffle or pool changes them.
        assertEquals(List.of(9531, 8916, 47855, 30262), firstLines(BuiltinTasks.load(SS, "test")));
        assertEquals(List.of(8142, 54219, 63343, 62869), firstLines(BuiltinTasks.load(PAIRS, "test")));
        assertEquals(List.of(3531, 14269, 11481, 26617), firstLines(BuiltinTasks.load(SHIFT, "test")));
        assertEquals(List.of(5299, 14028, 13756, 4247), firstLines(BuiltinTasks.load(LENGTH, "test")));
    }

    @Test
    void exampleSentencePoolsHaveTheDocumentedSizes() {
        // Counted independently from the data files by a short Python script (quoted passages after the definition,
        // whitespace collapsed, first occurrence of each lower-cased text, noun/verb/adj/adv order).
        assertEquals(48434, BuiltinTasks.exampleSentences().size());
        assertEquals(23763, BuiltinTasks.bigramShiftPool().size());
        assertEquals(List.of(12892, 11961, 8899, 6175, 2770),
                BuiltinTasks.sentenceLengthPools().stream().map(List::size).toList());
    }

    /** Example sentences (whitespace-collapsed by {@link WordNet#examples}) of every synset, by data-file line. */
    private static Map<Integer, List<String>> examplesByLine() {
        Map<Integer, List<String>> m = new HashMap<>();
        for (Pos pos : Pos.values())
            for (Synset s : WordNet.synsets(pos))
                m.computeIfAbsent(s.line(), k -> new ArrayList<>()).addAll(WordNet.examples(s.gloss()));
        return m;
    }

    /**
     * The example sentence at {@code e}'s source line that {@code e} shows: the sentence itself for label 0, or for
     * label 1 the sentence that its text turns into by swapping back one adjacent pair of distinct plain words.
     */
    private static String originalOf(Example e, Map<Integer, List<String>> byLine) {
        List<String> w = List.of(e.textA().split(" "));
        for (String c : byLine.getOrDefault(e.sourceLine(), List.of())) {
            if (e.label() == 0 && c.equals(e.textA())) return c;
            List<String> o = List.of(c.split(" "));
            if (e.label() != 1 || o.size() != w.size()) continue;
            List<Integer> diff = new ArrayList<>();
            for (int i = 0; i < w.size(); i++) if (!w.get(i).equals(o.get(i))) diff.add(i);
            if (diff.size() == 2 && diff.get(1) == diff.get(0) + 1) {
                int j = diff.get(0);
                if (w.get(j).equals(o.get(j + 1)) && w.get(j + 1).equals(o.get(j)) && PLAIN.matcher(o.get(j)).matches()
                        && PLAIN.matcher(o.get(j + 1)).matches()) return c;
            }
        }
        return null;
    }

    @Test
    void bigramShiftIsBalancedAndEachInvertedSentenceIsOneSwapOfAdjacentPlainWords() {
        Map<Integer, List<String>> byLine = examplesByLine();
        Map<String, Integer> perClass = Map.of("train", 1000, "dev", 400, "test", 400);
        Map<String, Set<String>> originals = new HashMap<>();
        for (String split : BuiltinTasks.SPLITS) {
            Dataset d = BuiltinTasks.load(SHIFT, split);
            assertArrayEquals(new int[] {perClass.get(split), perClass.get(split)}, d.classCounts(), split);
            assertEquals(BuiltinTasks.BIGRAM_SHIFT_LABELS, d.labelNames());
            assertFalse(d.pair());
            Set<String> seen = new HashSet<>();
            for (Example e : d.examples()) {
                String o = originalOf(e, byLine);
                assertTrue(o != null, split + " line " + e.sourceLine() + " label " + e.label() + ": " + e.textA());
                int words = o.split(" ").length;
                assertTrue(words >= 6 && words <= 30, o);
                assertTrue(seen.add(o.toLowerCase(Locale.ROOT)), split + ": sentence used twice: " + o);
            }
            originals.put(split, seen);
        }
        assertDisjoint(originals.get("train"), originals.get("dev"), SHIFT + " train/dev source sentences");
        assertDisjoint(originals.get("train"), originals.get("test"), SHIFT + " train/test source sentences");
        assertDisjoint(originals.get("dev"), originals.get("test"), SHIFT + " dev/test source sentences");
    }

    @Test
    void sentenceLengthLabelsAreTheWordCountBinsOfExampleSentences() {
        Map<Integer, List<String>> byLine = examplesByLine();
        int[][] bins = {{3, 4}, {5, 6}, {7, 8}, {9, 11}, {12, 30}};
        Map<String, Integer> perClass = Map.of("train", 400, "dev", 160, "test", 160);
        for (String split : BuiltinTasks.SPLITS) {
            Dataset d = BuiltinTasks.load(LENGTH, split);
            int[] expected = new int[5];
            java.util.Arrays.fill(expected, perClass.get(split));
            assertArrayEquals(expected, d.classCounts(), split);
            for (Example e : d.examples()) {
                int words = e.textA().split(" ").length;
                assertTrue(words >= bins[e.label()][0] && words <= bins[e.label()][1],
                        words + " words with label " + d.labelNames().get(e.label()) + ": " + e.textA());
                assertTrue(byLine.get(e.sourceLine()).contains(e.textA()), "line " + e.sourceLine() + ": " + e.textA());
            }
        }
    }

    private static List<Integer> firstLines(Dataset d) {
        return d.examples().subList(0, 4).stream().map(Example::sourceLine).toList();
    }

    @Test
    void aLargerTrainSetLeavesDevAndTestUnchanged() {
        for (String task : List.of(SHIFT, LENGTH)) {
            Sizes d = BuiltinTasks.info(task).defaultSizes(), big = new Sizes(2 * d.trainPerClass(), d.devPerClass(), d.testPerClass());
            assertEquals(BuiltinTasks.load(task, "dev").examples(), BuiltinTasks.load(task, "dev", big).examples(), task);
            assertEquals(BuiltinTasks.load(task, "test").examples(), BuiltinTasks.load(task, "test", big).examples(), task);
        }
        Sizes big = new Sizes(600, 100, 100);
        assertEquals(BuiltinTasks.load(SS, "dev").examples(), BuiltinTasks.load(SS, "dev", big).examples());
        assertEquals(BuiltinTasks.load(SS, "test").examples(), BuiltinTasks.load(SS, "test", big).examples());
        Dataset bigTrain = BuiltinTasks.load(SS, "train", big);
        assertEquals(4800, bigTrain.size());
        assertTrue(textsA(bigTrain).containsAll(textsA(BuiltinTasks.load(SS, "train"))));
    }

    @Test
    void rejectsSizesBeyondAClassPoolNamingTheClass() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BuiltinTasks.load(SS, "train", new Sizes(2000, 100, 100)));
        assertTrue(e.getMessage().contains("noun.body") && e.getMessage().contains("2016"), e.getMessage());
    }

    @Test
    void rejectsSizesBeyondTheSentencePoolsNamingThePoolSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BuiltinTasks.load(SHIFT, "train", new Sizes(12_000, 400, 400)));
        assertTrue(e.getMessage().contains("25600") && e.getMessage().contains("23763"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BuiltinTasks.load(LENGTH, "dev", new Sizes(2500, 160, 160)));
        assertTrue(e.getMessage().contains("12-30 words") && e.getMessage().contains("2770"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownSplit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuiltinTasks.load(SS, "validation"));
        assertTrue(e.getMessage().contains("validation") && e.getMessage().contains("[train, dev, test]"), e.getMessage());
    }

    @Test
    void pairAnchorCountIsAsDocumented() {
        assertEquals(94196, BuiltinTasks.pairAnchors().size());
    }

    @Test
    void pairsAreBalancedAndLabelOneMeansBIsADirectHypernymOfA() {
        Map<String, List<Synset>> byDefinition = new HashMap<>();
        Map<Pos, Map<Long, Synset>> byOffset = new HashMap<>();
        for (Pos pos : List.of(Pos.NOUN, Pos.VERB)) {
            Map<Long, Synset> m = new HashMap<>();
            for (Synset s : WordNet.synsets(pos)) {
                byDefinition.computeIfAbsent(s.definition(), k -> new ArrayList<>()).add(s);
                m.put(s.offset(), s);
            }
            byOffset.put(pos, m);
        }
        Map<String, Integer> perClass = Map.of("train", 1000, "dev", 250, "test", 250);
        for (String split : BuiltinTasks.SPLITS) {
            Dataset d = BuiltinTasks.load(PAIRS, split);
            assertArrayEquals(new int[] {perClass.get(split), perClass.get(split)}, d.classCounts(), split);
            assertTrue(d.pair());
            assertEquals(0, d.emptyTexts());
            for (Example e : d.examples()) {
                assertEquals(1, byDefinition.get(e.textA()).size(), "anchor definitions are unique");
                Synset a = byDefinition.get(e.textA()).get(0);
                Map<Long, Synset> index = byOffset.get(a.pos());
                Set<String> hypernymDefs = a.hypernyms().stream().map(p -> index.get(p.offset()).definition())
                        .collect(Collectors.toSet());
                assertEquals(e.label() == 1, hypernymDefs.contains(e.textB()),
                        split + " line " + e.sourceLine() + " label " + e.label() + ": " + e.textA() + " / " + e.textB());
                if (e.label() == 0) {
                    Set<Long> ancestors = BuiltinTasks.ancestors(index, a);
                    for (Synset b : byDefinition.get(e.textB()))
                        assertFalse(b.pos() == a.pos() && ancestors.contains(b.offset()), "negative is an ancestor: line " + e.sourceLine());
                    assertFalse(e.textB().equals(e.textA()));
                }
            }
        }
    }
}

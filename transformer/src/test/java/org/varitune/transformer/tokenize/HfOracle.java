package org.varitune.transformer.tokenize;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Hugging Face {@code tokenizers} library (through DJL's JNI binding, native library from its jar, nothing
 * downloaded) and a comparison of its encodings with ours.
 */
final class HfOracle {
    private HfOracle() {}

    static {
        // DJL extracts its native library under the engine cache; keep it in our cache and offline.
        System.setProperty("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".cache", "varitune", "djl").toString());
        System.setProperty("offline", "true");
    }

    /** A DJL tokenizer for a tokenizer.json: special tokens on, no padding, truncation only when maxLength &gt; 0. */
    static HuggingFaceTokenizer load(Path tokenizerJson, int maxLength) throws IOException {
        Map<String, String> opt = new HashMap<>();
        opt.put("addSpecialTokens", "true");
        opt.put("padding", "false");
        opt.put("modelMaxLength", "1000000");
        if (maxLength > 0) {
            opt.put("truncation", "longest_first");
            opt.put("maxLength", Integer.toString(maxLength));
        } else {
            opt.put("truncation", "false");
        }
        return HuggingFaceTokenizer.newInstance(tokenizerJson, opt);
    }

    /** One input, single (b == null) or pair. */
    record Input(String a, String b) {}

    static List<Input> singles(List<String> texts) {
        List<Input> l = new ArrayList<>();
        for (String t : texts) l.add(new Input(t, null));
        return l;
    }

    static List<Input> pairs(List<String[]> texts) {
        List<Input> l = new ArrayList<>();
        for (String[] t : texts) l.add(new Input(t[0], t[1]));
        return l;
    }

    /**
     * Encodes every input with both tokenizers and returns a report of the mismatches (ids, type ids, attention
     * mask, special-tokens mask, tokens): empty when all agree.
     */
    static String compare(String label, HuggingFaceTokenizer hf, Tokenizer ours, List<Input> inputs, int maxLength) {
        int bad = 0;
        StringBuilder report = new StringBuilder();
        for (Input in : inputs) {
            ai.djl.huggingface.tokenizers.Encoding e = in.b == null ? hf.encode(in.a) : hf.encode(in.a, in.b);
            Encoding o = ours.encode(in.a, in.b, maxLength);
            String diff = diff(e, o);
            if (diff != null) {
                bad++;
                if (bad <= 5) {
                    report.append("\n  input ").append(escape(in.a)).append(in.b == null ? "" : " || " + escape(in.b))
                            .append(": ").append(diff);
                }
            }
        }
        if (bad == 0) return "";
        return label + ": " + bad + " of " + inputs.size() + " inputs differ from HF (maxLength " + maxLength + ")" + report;
    }

    private static String diff(ai.djl.huggingface.tokenizers.Encoding e, Encoding o) {
        if (!Arrays.equals(toInt(e.getIds()), o.ids())) {
            return "ids HF " + Arrays.toString(e.getTokens()) + " ours " + Arrays.toString(o.tokens());
        }
        if (!Arrays.equals(toInt(e.getTypeIds()), o.typeIds())) {
            return "typeIds HF " + Arrays.toString(e.getTypeIds()) + " ours " + Arrays.toString(o.typeIds());
        }
        if (!Arrays.equals(toInt(e.getAttentionMask()), o.attentionMask())) {
            return "attentionMask HF " + Arrays.toString(e.getAttentionMask()) + " ours " + Arrays.toString(o.attentionMask());
        }
        if (!Arrays.equals(toInt(e.getSpecialTokenMask()), o.specialTokensMask())) {
            return "specialTokensMask HF " + Arrays.toString(e.getSpecialTokenMask()) + " ours " + Arrays.toString(o.specialTokensMask());
        }
        if (!Arrays.equals(e.getTokens(), o.tokens())) {
            return "tokens HF " + Arrays.toString(e.getTokens()) + " ours " + Arrays.toString(o.tokens());
        }
        return null;
    }

    private static int[] toInt(long[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Math.toIntExact(a[i]);
        return r;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c < 0x20 || (c >= 0x7F && c < 0xA0) || Character.getType(c) == Character.FORMAT
                    || Character.isWhitespace(c) && c != ' ') {
                sb.append(String.format("\\u%04X", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append('"').toString();
    }
}

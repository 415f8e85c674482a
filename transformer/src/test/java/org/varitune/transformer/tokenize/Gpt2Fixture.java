package org.varitune.transformer.tokenize;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2's real byte-level BPE (the r50k_base ranks that jtokkit ships) turned into a RoBERTa-style HF tokenizer:
 * {@code vocab.json}, {@code merges.txt} and {@code tokenizer.json}, cached under
 * {@code ~/.cache/varitune/tokenize/gpt2-roberta}.
 * <p>
 * Merges are recovered from the ranks: for each token of two or more bytes, in rank order, run rank-BPE on its
 * bytes with only the lower ranks until two parts remain; that pair is its merge.
 * Special tokens: {@code <|endoftext|>} = 50256 (plain vocabulary entry), then {@code <s> <pad> </s> <unk> <mask>}
 * = 50257..50261 as added special tokens ({@code <mask>} with lstrip, as RoBERTa's).
 */
final class Gpt2Fixture {
    static final String[] SPECIALS = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
    static final int FIRST_SPECIAL = 50257;

    /** Directory holding vocab.json, merges.txt and tokenizer.json (created on first use). */
    static synchronized Path dir() throws IOException {
        Path d = Path.of(System.getProperty("user.home"), ".cache", "varitune", "tokenize", "gpt2-roberta");
        if (Files.isRegularFile(d.resolve("tokenizer.json"))) return d;
        Files.createDirectories(d);
        build(d);
        return d;
    }

    private static void build(Path d) throws IOException {
        // Ranks: token bytes (as ISO-8859-1 string, one char per byte) → rank, in rank order.
        LinkedHashMap<String, Integer> ranks = new LinkedHashMap<>();
        try (InputStream in = Gpt2Fixture.class.getClassLoader().getResourceAsStream("com/knuddels/jtokkit/r50k_base.tiktoken")) {
            if (in == null) throw new IOException("jtokkit resource com/knuddels/jtokkit/r50k_base.tiktoken not on the test classpath");
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isEmpty()) continue;
                String[] p = line.split(" ");
                if (p.length != 2) throw new IOException("r50k_base.tiktoken:" + lineNo + ": expected 'base64 rank'");
                byte[] bytes = Base64.getDecoder().decode(p[0]);
                ranks.put(new String(bytes, StandardCharsets.ISO_8859_1), Integer.parseInt(p[1]));
            }
        }
        List<String[]> merges = new ArrayList<>();
        for (var e : ranks.entrySet()) {
            String tok = e.getKey();
            if (tok.length() < 2) continue;
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < tok.length(); i++) parts.add(tok.substring(i, i + 1));
            int own = e.getValue();
            while (parts.size() > 2) {
                int best = -1;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < parts.size(); i++) {
                    Integer rk = ranks.get(parts.get(i) + parts.get(i + 1));
                    if (rk != null && rk < own && rk < bestRank) { bestRank = rk; best = i; }
                }
                if (best < 0) throw new IOException("r50k_base token of rank " + own + " cannot be built from lower ranks");
                parts.set(best, parts.get(best) + parts.remove(best + 1));
            }
            merges.add(new String[] {byteLevel(parts.get(0)), byteLevel(parts.get(1))});
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (var e : ranks.entrySet()) vocab.put(byteLevel(e.getKey()), e.getValue());
        vocab.put("<|endoftext|>", 50256);
        for (int i = 0; i < SPECIALS.length; i++) vocab.put(SPECIALS[i], FIRST_SPECIAL + i);

        ObjectMapper om = new ObjectMapper();
        ObjectNode vocabNode = om.createObjectNode();
        vocab.forEach(vocabNode::put);
        write(d.resolve("vocab.json"), om.writeValueAsString(vocabNode));
        StringBuilder mt = new StringBuilder("#version: 0.2\n");
        for (String[] m : merges) mt.append(m[0]).append(' ').append(m[1]).append('\n');
        write(d.resolve("merges.txt"), mt.toString());

        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.length; i++) {
            ObjectNode t = added.addObject();
            t.put("id", FIRST_SPECIAL + i);
            t.put("content", SPECIALS[i]);
            t.put("single_word", false);
            t.put("lstrip", SPECIALS[i].equals("<mask>"));
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "RobertaProcessing");
        post.putArray("sep").add("</s>").add(FIRST_SPECIAL + 2);
        post.putArray("cls").add("<s>").add(FIRST_SPECIAL);
        post.put("trim_offsets", true);
        post.put("add_prefix_space", false);
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        model.set("vocab", vocabNode);
        ArrayNode mergeNode = model.putArray("merges");
        for (String[] m : merges) mergeNode.add(m[0] + " " + m[1]);
        write(d.resolve("tokenizer.json"), om.writeValueAsString(root));
    }

    /** GPT-2's printable form of a byte string (one char per byte). */
    private static String byteLevel(String bytes) {
        char[] out = new char[bytes.length()];
        for (int i = 0; i < out.length; i++) out[i] = ByteLevelPreTokenizer.BYTE_TO_CHAR[bytes.charAt(i)];
        return new String(out);
    }

    /** Writes atomically: a temp file in the same directory, then an atomic move. */
    private static void write(Path file, String content) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}

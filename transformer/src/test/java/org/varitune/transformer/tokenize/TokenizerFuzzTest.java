package org.varitune.transformer.tokenize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.FuzzCampaign;
import org.varitune.transformer.testing.TestBase;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link Tokenizers#fromTokenizerJson(Path)} with the tiny BERT and RoBERTa tokenizer.json files under value
 * edits (ids set to extremes, wrong types, keys removed, strings replaced) and text edits. An accepted file must be
 * consistent: every id it produces on random text lies in [0, vocabSize) and names a token, truncation holds, and the
 * pad and special-token ids name tokens. A rejected one must raise {@link TokenizerFormatException} naming the file.
 */
@Tag("fuzz")
class TokenizerFuzzTest extends TestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final JsonNode[] VALUES = {F.numberNode(Integer.MAX_VALUE), F.numberNode(Integer.MIN_VALUE),
            F.numberNode(-1), F.numberNode(0), F.numberNode(1), F.numberNode(3), F.numberNode(11), F.numberNode(12),
            F.numberNode(100_000_000), F.numberNode(1_000_000_000), F.numberNode(4294967296L), F.numberNode(1.5),
            F.numberNode(1e300), F.textNode("5"), F.textNode(""), F.textNode("[UNK]"), F.textNode("<pad>"),
            F.textNode("Ġ h"), F.booleanNode(true), F.nullNode(), F.arrayNode(), F.objectNode(),
            F.arrayNode().add("[CLS]").add(2), F.arrayNode().add("x").add(Integer.MAX_VALUE)};
    private static final String TEXT = "Hello, world! héllo 你好 [CLS] <mask> hi h i  \t\n x";

    @TempDir
    Path dir;

    @Test
    void everyTokenizerJsonLoadsConsistentlyOrIsRejectedWithATypedErrorNamingTheFile() throws Exception {
        List<String> bases = List.of(TokenizerPipelineTest.bertJson("BertNormalizer", "BertPreTokenizer", ""),
                TokenizerPipelineTest.ROBERTA_JSON);
        FuzzCampaign c = new FuzzCampaign("tokenizer.json", TokenizerFormatException.class)
                .run(FuzzCampaign.cases(3000), k -> {
                    Random r = k.random();
                    String base = bases.get(r.nextInt(bases.size()));
                    String text;
                    if (r.nextInt(3) == 0) {
                        text = FuzzCampaign.mutateText(k, base);
                    } else {
                        JsonNode root = JSON.readTree(base);
                        StringBuilder note = new StringBuilder();
                        for (int i = 1 + r.nextInt(2); i > 0; i--) editValue(r, root, note);
                        k.note(note.toString());
                        text = root.toString();
                    }
                    Path f = k.file(dir.resolve("tokenizer" + k.index() % 8 + ".json"));
                    Files.write(f, text.getBytes(StandardCharsets.UTF_8));
                    checkConsistent(Tokenizers.fromTokenizerJson(f), r);
                });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    /** Sets a random value (object field or array element, at any depth) to one of {@link #VALUES}, or removes it. */
    private static void editValue(Random r, JsonNode root, StringBuilder note) {
        List<JsonNode> containers = new ArrayList<>();
        List<String> paths = new ArrayList<>();
        collect(root, "", containers, paths);
        int i = r.nextInt(containers.size());
        JsonNode n = containers.get(i);
        JsonNode v = VALUES[r.nextInt(VALUES.length)];
        boolean remove = r.nextInt(6) == 0;
        if (n instanceof ObjectNode o) {
            if (o.isEmpty()) return;
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String key = keys.get(r.nextInt(keys.size()));
            if (remove) o.remove(key); else o.set(key, v.deepCopy());   // VALUES are shared: never insert one itself
            note.append(paths.get(i)).append('.').append(key).append(remove ? " removed; " : " = " + v + "; ");
        } else if (n instanceof ArrayNode a) {
            if (a.isEmpty()) return;
            int at = r.nextInt(a.size());
            if (remove) a.remove(at); else a.set(at, v.deepCopy());
            note.append(paths.get(i)).append('[').append(at).append(']').append(remove ? " removed; " : " = " + v + "; ");
        }
    }

    private static void collect(JsonNode n, String path, List<JsonNode> out, List<String> paths) {
        if (!n.isContainerNode()) return;
        out.add(n);
        paths.add(path);
        if (n.isObject()) n.fields().forEachRemaining(e -> collect(e.getValue(), path + "." + e.getKey(), out, paths));
        else for (int i = 0; i < n.size(); i++) collect(n.get(i), path + "[" + i + "]", out, paths);
    }

    /** Ids in range and named, truncation kept, pad and special tokens resolvable. */
    private static void checkConsistent(Tokenizer t, Random r) {
        int v = t.vocabSize();
        for (String s : t.specialTokens()) {
            int id = t.tokenToId(s);
            assertTrue(id >= 0 && id < v, "special token '" + s + "' has id " + id);
        }
        try {
            int pad = t.padTokenId();
            assertTrue(pad >= 0 && pad < v, "pad id " + pad);
            t.idToToken(pad);
        } catch (IllegalStateException noPad) {
            // a tokenizer without a pad token: documented
        }
        for (int i = 0; i < 3; i++) {
            String a = randomText(r), b = r.nextBoolean() ? randomText(r) : null;
            int max = 2 + r.nextInt(12);
            Encoding e;
            try {
                e = t.encode(a, b, max);
            } catch (IllegalArgumentException tooShort) {             // documented: maxLength below the template
                assertTrue(tooShort.getMessage().contains("special tokens"), tooShort.getMessage());
                continue;
            }
            assertTrue(e.ids().length <= max, "truncation to " + max + " gave " + e.ids().length);
            for (int id : e.ids()) {
                assertTrue(id >= 0 && id < v, "id " + id + " outside [0, " + v + ")");
                assertTrue(t.idToToken(id) != null, "id " + id + " names no token");
            }
        }
    }

    private static String randomText(Random r) {
        int from = r.nextInt(TEXT.length());
        return TEXT.substring(from, from + r.nextInt(TEXT.length() - from + 1));
    }
}

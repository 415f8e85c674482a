package org.varitune.experiments.data;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.FuzzCampaign;
import org.varitune.transformer.testing.TestBase;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link DataFileReader} over CSV, TSV and JSON Lines files (the task of {@link DataFileReaderTest}, plus
 * multi-line and numeric-label variants) with CSV- and JSON-significant edits, line edits and byte flips. A case
 * either reads, and then agrees with an independent look at the file (JSON: Jackson's tree model on the example's
 * line; CSV/TSV: its texts and label occur in the file as written, quoted or not, at or after its line), or raises
 * {@link MalformedDataException} naming the file. Any other exception fails the campaign.
 */
@Tag("fuzz")
class DataFileReaderFuzzTest extends TestBase {
    private static final String[] CSV_TOKENS = {"\"", "\"\"", ",", "\t", "\n", "\r\n", "\r", "\n\n", "label",
            "sentence1", "sentence2", "1.5", "1e999", "-3", " ", "\u00e9", "\uFEFF"};
    private static final ObjectMapper TREE = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    @TempDir Path dir;

    @Test
    void everyDataFileIsReadConsistentlyOrRejectedWithATypedErrorNamingTheFile() {
        List<String[]> seeds = List.of(                              // {extension, train, dev}
                new String[] {"csv", DataFileReaderTest.TRAIN_CSV, DataFileReaderTest.DEV_CSV},
                new String[] {"jsonl", DataFileReaderTest.TRAIN_JSONL, DataFileReaderTest.DEV_JSONL},
                new String[] {"tsv", DataFileReaderTest.TRAIN_RTE, DataFileReaderTest.DEV_RTE},
                new String[] {"csv", "text,label\r\n\"two\nlines, \"\"q\"\"\",0\r\nplain,1\r\nx,2\r\n", "text,label\ny,1\n"},
                new String[] {"jsonl", "{\"text\": \"a\\nb\", \"label\": 0}\n{\"text\": 7, \"label\": 1.5}\n{\"text\": \"c\","
                        + " \"label\": 2}\n", "{\"text\": \"d\", \"label\": 1}\n"});
        FuzzCampaign c = new FuzzCampaign("data-files", MalformedDataException.class).run(FuzzCampaign.cases(2000), k -> {
            Random r = k.random();
            String[] seed = seeds.get(r.nextInt(seeds.size()));
            String train = seed[1];
            for (int m = 1 + r.nextInt(3); m > 0; m--)  // the case's note is the last edit; its index replays it
                train = r.nextBoolean() ? FuzzCampaign.mutateText(k, train) : csvEdit(k, r, train);
            byte[] bytes = train.getBytes(StandardCharsets.UTF_8);
            if (r.nextInt(10) == 0 && bytes.length > 0) bytes[r.nextInt(bytes.length)] ^= (byte) (1 << r.nextInt(8));
            Path d = dir.resolve("c" + k.index() % 8);
            Files.createDirectories(d);
            Path trainFile = k.file(d.resolve("train." + seed[0]));
            Files.write(trainFile, bytes);
            Path devFile = trainFile;
            if (r.nextBoolean()) {
                devFile = k.file(d.resolve("dev." + seed[0]));
                Files.writeString(devFile, seed[2], StandardCharsets.UTF_8);
            }
            TaskData t = TaskData.files(trainFile, devFile, null, DataFileOptions.DEFAULTS, 0);
            String text = new String(bytes, StandardCharsets.UTF_8);
            check(t.train(), text, seed[0]);
            check(t.dev(), Files.readString(devFile), seed[0]);
        });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    /** Inserts, replaces or deletes a CSV-significant token, or removes or duplicates a line. */
    private static String csvEdit(FuzzCampaign.Case k, Random r, String s) {
        int p = s.isEmpty() ? 0 : r.nextInt(s.length());
        String t = CSV_TOKENS[r.nextInt(CSV_TOKENS.length)];
        List<String> lines = new ArrayList<>(Arrays.asList(s.split("\n", -1)));
        int li = r.nextInt(lines.size());
        switch (r.nextInt(4)) {
            case 0 -> { k.note("inserted '" + t + "' at " + p); return s.substring(0, p) + t + s.substring(p); }
            case 1 -> { k.note("replaced char " + p + " by '" + t + "'"); return s.isEmpty() ? t : s.substring(0, p) + t + s.substring(p + 1); }
            case 2 -> { k.note("line " + (li + 1) + " removed"); lines.remove(li); }
            default -> { k.note("line " + (li + 1) + " duplicated"); lines.add(li, lines.get(li)); }
        }
        return String.join("\n", lines);
    }

    /** Checks each example against the file text, independently of the reader. */
    private static void check(Dataset d, String text, String ext) throws Exception {
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        boolean json = ext.equals("jsonl");   // JSON Lines end at '\n' only; commons-csv also ends lines at a lone '\r'
        String[] lines = json ? text.replace("\r\n", "\n").split("\n", -1) : text.split("\r\n|\n|\r", -1);
        List<String> names = d.labelNames();
        for (int i = 1; i < names.size(); i++) assertTrue(!names.get(i).equals(names.get(i - 1)), "distinct labels " + names);
        for (Example e : d.examples()) {
            int n = e.sourceLine();
            assertTrue(n >= 1 && n <= lines.length, "line " + n + " of " + lines.length);
            String label = !e.hasTarget() ? null : d.regression() ? null : names.get(e.label());
            if (json) {
                JsonNode node = TREE.readTree(lines[n - 1]);
                assertTrue(node.isObject(), "line " + n + " is an object");
                assertTrue(holds(node, e.textA()), "line " + n + " holds text '" + e.textA() + "'");
                if (e.textB() != null) assertTrue(holds(node, e.textB()), "line " + n + " holds '" + e.textB() + "'");
                JsonNode l = node.get("label");
                if (d.regression()) assertEquals(l.asDouble(), e.score(), 0.0, "line " + n);
                else if (label != null) assertTrue(sameValue(l, label), "line " + n + " label " + label + " vs " + l);
            } else {
                String rest = String.join("\n", Arrays.asList(lines).subList(n - 1, lines.length));
                assertTrue(occurs(rest, e.textA()), "line " + n + " holds text '" + e.textA() + "'");
                if (e.textB() != null) assertTrue(occurs(rest, e.textB()), "line " + n + " holds '" + e.textB() + "'");
                if (label != null) assertTrue(occurs(rest, label), "line " + n + " holds label '" + label + "'");
            }
        }
    }

    /** True when {@code s} (line breaks normalised) is written at or after the record's line, raw or quoted. */
    private static boolean occurs(String rest, String s) {
        String v = s.replace("\r\n", "\n").replace('\r', '\n');
        return rest.contains(v) || rest.contains(v.replace("\"", "\"\""));
    }

    /** True when a field of {@code node} is {@code s}: a string equal to it, or a number or boolean of that value. */
    private static boolean holds(JsonNode node, String s) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); )
            if (sameValue(it.next().getValue(), s)) return true;
        return false;
    }

    private static boolean sameValue(JsonNode v, String s) {
        if (v == null || s == null) return false;
        if (v.isTextual()) return v.textValue().equals(s);
        if (v.isBoolean()) return v.asText().equals(s);
        if (v.isNumber()) {
            BigDecimal x = DataFileReader.decimal(s);
            return x != null && v.decimalValue().compareTo(x) == 0;
        }
        return false;
    }
}

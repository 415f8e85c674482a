package org.varitune.experiments.data;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.FuzzCampaign;
import org.varitune.transformer.testing.TestBase;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link GlueReader} over the nine GLUE layouts (the fixtures under {@code src/test/resources/glue/}, every
 * split) with field, line and byte edits. An accepted file must agree with an independent split of its lines: each
 * example's target field (by header name, or CoLA's position 1) is its label's name, or for STS-B a plain decimal
 * equal to its score; a rejected one must raise {@link MalformedDataException} naming the file.
 */
@Tag("fuzz")
class GlueReaderFuzzTest extends TestBase {
    private static final String[] FIELDS = {"", "0", "1", "2", "5", "5.0", "3.8", "0x1p2", "2.5f", "1e0", "NaN", "-1",
            "entailment", "neutral", "contradiction", "not_entailment", " 1", "1 ", "\"1\"", "\u00e9", "a\rb", "label",
            "score", "sentence", "index"};

    @TempDir Path dir;

    @Test
    void everyGlueFileIsReadConsistentlyOrRejectedWithATypedErrorNamingTheFile() throws Exception {
        List<Object[]> files = new ArrayList<>();                 // {task, split, bytes}
        for (GlueTask t : GlueTask.values()) {
            for (String split : concat(t.labeledSplits(), t.testSplits())) {
                Path f = t.file(GlueReaderTest.glueDir(), split);
                if (Files.isRegularFile(f)) files.add(new Object[] {t, split, Files.readAllBytes(f)});
            }
        }
        assertTrue(files.size() >= 9, "fixtures for every layout");
        FuzzCampaign c = new FuzzCampaign("glue-tsv", MalformedDataException.class).run(FuzzCampaign.cases(3000), k -> {
            Random r = k.random();
            Object[] pick = files.get(r.nextInt(files.size()));
            GlueTask task = (GlueTask) pick[0];
            String split = (String) pick[1];
            byte[] bytes = mutate(k, (byte[]) pick[2]);
            Path d = dir.resolve("c" + k.index() % 8);
            Path f = k.file(task.file(d, split));
            Files.createDirectories(f.getParent());
            Files.write(f, bytes);
            checkConsistent(task, GlueReader.read(task, d, split, 0), bytes);
        });
        assertTrue(c.accepted() > 0 && c.rejected() > 0, "the campaign must exercise both outcomes");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static byte[] mutate(FuzzCampaign.Case k, byte[] b) {
        Random r = k.random();
        String s = new String(b, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>(Arrays.asList(s.split("\n", -1)));
        int li = r.nextInt(lines.size());
        switch (r.nextInt(7)) {
            case 0 -> { k.note("valid"); return b; }
            case 1 -> {
                String[] f = lines.get(li).split("\t", -1);
                int fi = r.nextInt(f.length);
                f[fi] = FIELDS[r.nextInt(FIELDS.length)];
                k.note("line " + (li + 1) + " field " + fi + " = '" + f[fi] + "'");
                lines.set(li, String.join("\t", f));
            }
            case 2 -> { k.note("line " + (li + 1) + " removed"); lines.remove(li); }
            case 3 -> { k.note("line " + (li + 1) + " duplicated"); lines.add(li, lines.get(li)); }
            case 4 -> { k.note("tab inserted in line " + (li + 1)); lines.set(li, insert(r, lines.get(li), "\t")); }
            case 5 -> {
                k.note("bytes flipped");
                byte[] m = b.clone();
                if (m.length > 0) m[r.nextInt(m.length)] ^= (byte) (1 << r.nextInt(8));
                return m;
            }
            default -> { k.note("truncated"); return Arrays.copyOf(b, r.nextInt(b.length + 1)); }
        }
        return String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
    }

    private static String insert(Random r, String s, String t) {
        int p = r.nextInt(s.length() + 1);
        return s.substring(0, p) + t + s.substring(p);
    }

    /** Each example's target field, found by an independent split of its source line, matches what was read. */
    private static void checkConsistent(GlueTask task, Dataset d, byte[] bytes) {
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
        boolean headerless = task == GlueTask.COLA && d.hasTargets();
        String first = strip(lines[0]);
        if (first.startsWith("\uFEFF")) first = first.substring(1);     // a byte-order mark, as MRPC ships
        List<String> header = headerless ? GlueTask.COLA_COLUMNS : Arrays.asList(first.split("\t", -1));
        int target = header.indexOf(task.targetColumn());
        for (Example e : d.examples()) {
            String[] f = strip(lines[e.sourceLine() - 1]).split("\t", -1);
            if (!e.hasTarget()) continue;
            assertTrue(target >= 0 && target < f.length, "line " + e.sourceLine() + ": no target column");
            if (task.isRegression()) {
                assertTrue(f[target].matches("[0-9]+(\\.[0-9]*)?|\\.[0-9]+"), "score '" + f[target] + "' accepted");
                assertEquals(Double.parseDouble(f[target]), e.score(), "line " + e.sourceLine());
                assertTrue(e.score() >= 0 && e.score() <= 5, "score " + e.score());
            } else {
                assertEquals(f[target], d.labelNames().get(e.label()), "line " + e.sourceLine());
            }
        }
    }

    private static String strip(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }
}

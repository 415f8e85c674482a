package org.varitune.experiments.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report against numbers worked out by hand from result.json trees written here: two models (L = 4 and L = 6),
 * two tasks, three seeds, the {@code full} runs present in two sweeps, a guided run equivalent to top-k, and an
 * adapter family.
 */
class SweepReportTest extends TestBase {
    /** Close to 1e-12 relative: every expected value below is exact arithmetic on the scores written. */
    private static final double EPS = 1e-9;
    private static final String BASE = "/models/roberta-base", LARGE = "/models/roberta,large";
    /** t_{0.975,2}: for 2 df, F(t) = 1/2 + t/(2·sqrt(2 + t²)), so F(t) = 0.975 ⇔ t = 0.95·sqrt(2/(1 − 0.95²)) = 4.302653. */
    private static final double T_975_2 = 0.95 * Math.sqrt(2 / (1 - 0.95 * 0.95));

    @TempDir Path tmp;
    private Path ft, ad;

    /** A done result; the caller adjusts head layer, costs and the rest. */
    private static ObjectNode run(String experiment, String model, int layers, String task, String method, String mode,
                                  String rule, int k, long seed, double score) {
        ObjectNode o = AtomicFiles.JSON.createObjectNode();
        o.put("id", task + "/" + method + "-k" + k + "/seed-" + seed);
        o.put("experiment", experiment);
        o.put("model", model);
        o.put("task", task);
        o.put("method", method);
        o.put("mode", mode);
        o.put("head_rule", rule);
        o.put("k", k);
        o.put("seed", seed);
        o.put("status", "done");
        o.put("score", score);
        o.put("head_layer", layers);
        o.put("num_hidden_layers", layers);
        o.put("trainable_fraction", 1.0);
        o.put("relative_compute", 1.0);
        o.put("fingerprint_sha256", Integer.toHexString((model + task + method + k + seed).hashCode()));
        return o;
    }

    private static ObjectNode costs(ObjectNode o, int head, double trainable, double compute) {
        o.put("head_layer", head);
        o.put("trainable_fraction", trainable);
        o.put("relative_compute", compute);
        return o;
    }

    /** Writes {@code o} to {@code sweep/<model dir>/runs/<id>/result.json} and returns the file. */
    private static Path write(Path sweep, ObjectNode o) throws IOException {
        Path f = sweep.resolve(o.get("model").asText().replaceAll("[^a-z]", "_")).resolve("runs")
                .resolve(o.get("id").asText()).resolve("result.json");
        AtomicFiles.writeJson(f, o);
        return f;
    }

    @BeforeEach
    void sweeps() throws IOException {
        ft = tmp.resolve("ft");
        ad = tmp.resolve("ad");
        double[][] full = {{0.70, 0.72, 0.74}, {0.90, 0.92, 0.94}}, topK = {{0.60, 0.63, 0.66}, {0.80, 0.81, 0.85}};
        double[] guidedRte = {0.64, 0.66, 0.71};
        String[] tasks = {"rte", "sst2"};
        for (int s = 1; s <= 3; s++) {
            for (int t = 0; t < 2; t++) {
                // the full runs are in both sweeps: same fingerprint and score, another experiment name
                write(ft, run("ft", BASE, 4, tasks[t], "full", "full", "top", 0, s, full[t][s - 1]));
                write(ad, run("ad", BASE, 4, tasks[t], "full", "full", "top", 0, s, full[t][s - 1]));
                // top-k, k = 2 of L = 4: head 4, compute (4 + 2·2)/(3·4) = 8/12
                ObjectNode tk = run("ft", BASE, 4, tasks[t], "top-k", "top-k", "top", 2, s, topK[t][s - 1]);
                write(ft, costs(tk, 4, 0.20, 8.0 / 12));
            }
            // guided on rte: l* = 3, compute (3 + 2·2)/12 = 7/12, inference 3/4
            write(ft, costs(run("ft", BASE, 4, "rte", "guided", "partial", "auto", 2, s, guidedRte[s - 1]), 3, 0.18, 7.0 / 12));
            // guided on sst2: l* = L, so the same training as top-k: its result, reused
            ObjectNode eq = costs(run("ft", BASE, 4, "sst2", "guided", "partial", "auto", 2, s, topK[1][s - 1]), 4, 0.20, 8.0 / 12);
            eq.put("equivalent_to", "sst2/top-k-k2/seed-" + s);
            eq.put("fingerprint_sha256", Integer.toHexString((BASE + "sst2" + "top-k" + 2 + s).hashCode()));
            write(ft, eq);
            // adapters on rte only: guided 61, 62, 63 against top-k-adapters 60, 60, 60
            write(ad, costs(run("ad", BASE, 4, "rte", "top-k-adapters", "adapters", "top", 2, s, 0.60), 4, 0.01, 8.0 / 12));
            write(ad, costs(run("ad", BASE, 4, "rte", "guided-adapters", "adapters", "auto", 2, s, 0.60 + s / 100.0), 3, 0.01, 7.0 / 12));
            write(ft, run("ft", LARGE, 6, "rte", "full", "full", "top", 0, s, 0.80));
        }
        // guided k = 4 on rte exceeds l* = 3: skipped
        ObjectNode skipped = run("ft", BASE, 4, "rte", "guided", "partial", "auto", 4, 1, 0);
        for (String key : List.of("score", "head_layer", "num_hidden_layers", "trainable_fraction", "relative_compute")) skipped.remove(key);
        skipped.put("status", "skipped");
        write(ft, skipped);
        // the large model: one seed of top-k and guided (compute (6 + 4)/18 and (5 + 4)/18)
        write(ft, costs(run("ft", LARGE, 6, "rte", "top-k", "top-k", "top", 2, 1, 0.70), 6, 0.10, 10.0 / 18));
        write(ft, costs(run("ft", LARGE, 6, "rte", "guided", "partial", "auto", 2, 1, 0.75), 5, 0.09, 9.0 / 18));
    }

    private SweepReport report() throws IOException { return SweepReport.read(List.of(ft, ad)); }

    private static SweepReport.Row row(SweepReport r, String model, String method, int k) {
        return r.rows().stream().filter(x -> x.model().equals(model) && x.method().equals(method) && x.k() == k)
                .findFirst().orElseThrow(() -> new AssertionError("no row " + model + " " + method + " k" + k));
    }

    private static SweepReport.Paired pair(SweepReport r, String model, String guided, String task) {
        return r.paired().stream().filter(p -> p.model().equals(model) && p.guided().equals(guided) && p.task().equals(task))
                .findFirst().orElseThrow(() -> new AssertionError("no pair " + model + " " + guided + " " + task));
    }

    @Test
    void cellsAreHandComputedMeansAndSampleStdsOverSeeds() throws IOException {
        SweepReport r = report();
        SweepReport.Row full = row(r, BASE, "full", 0), topK = row(r, BASE, "top-k", 2), guided = row(r, BASE, "guided", 2);
        // full rte 70, 72, 74: mean 72, deviations -2, 0, 2 → s² = (4 + 0 + 4)/2 = 4, s = 2
        assertEquals(72, full.cells().get("rte").mean(), EPS);
        assertEquals(2, full.cells().get("rte").std(), EPS);
        // full sst2 90, 92, 94: mean 92, s = 2; average over {rte, sst2} = (72 + 92)/2 = 82
        assertEquals(92, full.cells().get("sst2").mean(), EPS);
        assertEquals(82, full.average(), EPS);
        // top-k rte 60, 63, 66: mean 63, s² = (9 + 0 + 9)/2 = 9, s = 3; sst2 80, 81, 85: mean 82, s² = (4 + 1 + 9)/2 = 7
        assertEquals(63, topK.cells().get("rte").mean(), EPS);
        assertEquals(3, topK.cells().get("rte").std(), EPS);
        assertEquals(82, topK.cells().get("sst2").mean(), EPS);
        assertEquals(Math.sqrt(7), topK.cells().get("sst2").std(), EPS);
        assertEquals((63 + 82) / 2.0, topK.average(), EPS);
        // guided rte 64, 66, 71: mean 67, s² = (9 + 1 + 16)/2 = 13
        assertEquals(67, guided.cells().get("rte").mean(), EPS);
        assertEquals(Math.sqrt(13), guided.cells().get("rte").std(), EPS);
        assertEquals((67 + 82) / 2.0, guided.average(), EPS);
        // costs, means over tasks: trainable (0.18 + 0.20)/2 = 0.19; compute (7/12 + 8/12)/2 = 0.625; inference (3/4 + 4/4)/2
        assertEquals(0.19, guided.trainableFraction(), EPS);
        assertEquals(0.625, guided.relativeCompute(), EPS);
        assertEquals(0.875, guided.inferenceCost(), EPS);
        assertEquals(List.of(3, 4), guided.headLayers());
        assertEquals(0.20, topK.trainableFraction(), EPS);
        assertEquals(8.0 / 12, topK.relativeCompute(), EPS);
        assertEquals(1.0, topK.inferenceCost(), EPS);
        assertEquals(1.0, full.inferenceCost(), EPS);
        // the adapter rows have no sst2: no average over the model's tasks
        assertTrue(Double.isNaN(row(r, BASE, "guided-adapters", 2).average()));
        String md = r.markdown();
        assertTrue(md.contains("| 67.0 ± 3.6 | 82.0 ± 2.6 | 74.5 | 19.00 | 0.63 | 0.88 |"), md);
        assertTrue(md.contains("| 72.0 ± 2.0 | 92.0 ± 2.0 | 82.0 | 100.00 | 1.00 | 1.00 |"), md);
    }

    @Test
    void twoModelsGiveSeparateRowsAndAreNeverAveraged() throws IOException {
        SweepReport r = report();
        assertEquals(2, r.rows().stream().filter(x -> x.method().equals("full")).count());
        // mixing the models would give rte (72 + 80)/2 = 76
        assertEquals(72, row(r, BASE, "full", 0).cells().get("rte").mean(), EPS);
        SweepReport.Row large = row(r, LARGE, "full", 0);
        assertEquals(80, large.cells().get("rte").mean(), EPS);
        assertEquals(0, large.cells().get("rte").std(), EPS);
        // the large model ran rte only, so its average is over {rte}
        assertEquals(List.of("rte"), large.averageOver());
        assertEquals(80, large.average(), EPS);
        SweepReport.Row guided = row(r, LARGE, "guided", 2);
        assertTrue(Double.isNaN(guided.cells().get("rte").std()), "one seed has no sample std");
        assertEquals(5.0 / 6, guided.inferenceCost(), EPS);
        assertEquals(9.0 / 18, guided.relativeCompute(), EPS);
        assertTrue(r.markdown().contains("| 75.0 (1 seed) |"));
    }

    @Test
    void aRunFoundInTwoSweepsCountsOnceAndListsBothExperiments() throws IOException {
        SweepReport r = report();
        SweepReport.Row full = row(r, BASE, "full", 0);
        assertEquals(List.of(1L, 2L, 3L), full.cells().get("rte").seeds());
        assertEquals(List.of("ad", "ft"), full.experiments());
        assertEquals(List.of("ft"), row(r, BASE, "top-k", 2).experiments());
        JsonNode j = r.json();
        // ft: base 6 full + 6 top-k + 6 guided + 1 skipped, large 3 + 1 + 1 = 24; ad: 6 full + 3 + 3 adapters = 12
        assertEquals(36, j.get("result_files").asInt());
        assertEquals(6, j.get("duplicates").asInt());
        assertEquals(30, j.get("runs").asInt());
        assertEquals(1, j.get("skipped").asInt());
    }

    @Test
    void aGuidedRunEquivalentToTopKStillCountsInTheGuidedRow() throws IOException {
        SweepReport.Cell sst2 = row(report(), BASE, "guided", 2).cells().get("sst2");
        assertEquals(List.of(1L, 2L, 3L), sst2.seeds());
        assertEquals(82, sst2.mean(), EPS);
    }

    @Test
    void pairedDifferencesHaveTheHandComputedPairedTInterval() throws IOException {
        SweepReport r = report();
        assertEquals(4.302653, T_975_2, 5e-7);
        // guided − top-k on rte: 64 − 60, 66 − 63, 71 − 66 = 4, 3, 5: d̄ = 4, s_d² = (0 + 1 + 1)/2 = 1,
        // half width t_{0.975,2}·1/√3 = 4.302653/1.732051 = 2.484138
        SweepReport.Paired p = pair(r, BASE, "guided", "rte");
        assertEquals("top-k", p.baseline());
        assertEquals(2, p.k());
        assertEquals(List.of(1L, 2L, 3L), p.seeds());
        assertEquals(4, p.mean(), EPS);
        assertEquals(1, p.std(), EPS);
        assertEquals(T_975_2, p.tQuantile(), 1e-8);
        assertEquals(4 - T_975_2 / Math.sqrt(3), p.low(), 1e-8);
        assertEquals(4 + T_975_2 / Math.sqrt(3), p.high(), 1e-8);
        // sst2: the guided runs are the top-k runs, so every difference is 0 and the interval is [0, 0]
        SweepReport.Paired same = pair(r, BASE, "guided", "sst2");
        assertEquals(0, same.mean(), EPS);
        assertEquals(0, same.high() - same.low(), EPS);
        // adapters pair within their family: 61 − 60, 62 − 60, 63 − 60 = 1, 2, 3: d̄ = 2, s_d = 1
        SweepReport.Paired adapters = pair(r, BASE, "guided-adapters", "rte");
        assertEquals("top-k-adapters", adapters.baseline());
        assertEquals(2, adapters.mean(), EPS);
        assertEquals(2 - T_975_2 / Math.sqrt(3), adapters.low(), 1e-8);
        // base: guided × top-k on rte and sst2, guided-adapters × top-k-adapters on rte; large: guided × top-k on rte
        assertEquals(4, r.paired().size());
        assertTrue(r.markdown().contains("| " + BASE + " | rte | 2 | guided | top-k | 3 | +4.00 | [+1.52, +6.48] |"),
                r.markdown());
    }

    @Test
    void loraRunsPairHeadOnTopAgainstGuidedLikeAdapters() throws IOException {
        Path lora = tmp.resolve("lora");
        for (long s = 1; s <= 3; s++) {       // guided 0.71, 0.73, 0.75 against LoRA under a top-layer head 0.70
            write(lora, costs(run("lo", BASE, 4, "rte", "top-lora", "lora", "top", 2, s, 0.70), 4, 0.01, 8.0 / 12));
            write(lora, costs(run("lo", BASE, 4, "rte", "guided-lora", "lora", "auto", 2, s, 0.69 + 0.02 * s), 3, 0.01, 7.0 / 12));
        }
        SweepReport r = SweepReport.read(List.of(lora));
        SweepReport.Paired p = pair(r, BASE, "guided-lora", "rte");
        assertEquals("top-lora", p.baseline());
        assertEquals(List.of(1L, 2L, 3L), p.seeds());
        assertEquals(3, p.mean(), EPS);                               // differences 1, 3, 5 (x100): mean 3, s_d 2
        assertEquals(3 - T_975_2 * 2 / Math.sqrt(3), p.low(), 1e-8);
    }

    @Test
    void oneSeedPairGivesTheDifferenceAndNoInterval() throws IOException {
        SweepReport r = report();
        SweepReport.Paired p = pair(r, LARGE, "guided", "rte");
        assertEquals(5, p.mean(), EPS);                                // 75 − 70
        assertTrue(Double.isNaN(p.low()) && Double.isNaN(p.high()) && Double.isNaN(p.std()));
        assertTrue(r.markdown().contains("| " + LARGE + " | rte | 2 | guided | top-k | 1 | +5.00 | n/a |"));
        JsonNode j = r.json().get("paired").get(0);
        assertEquals(LARGE, j.get("model").asText());
        assertTrue(j.get("ci_low").isNull());
    }

    @Test
    void aConflictingDuplicateIsAnErrorNamingBothFiles() throws IOException {
        Path other = tmp.resolve("rerun");
        Path f = write(other, run("ft", BASE, 4, "rte", "full", "full", "top", 0, 2, 0.7201));
        IOException e = assertThrows(IOException.class, () -> SweepReport.read(List.of(ft, other)));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains(ft.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("different results"), e.getMessage());
    }

    @Test
    void resultsMovedAsideByARerunAreNotRead() throws IOException {
        // a rerun with --rerun-changed moves the old result to <sweep>/stale/<n>/...: superseded, never counted
        ObjectNode old = run("ft", BASE, 4, "rte", "full", "full", "top", 0, 2, 0.10);
        old.put("fingerprint_sha256", "00ff");
        write(ft.resolve("stale").resolve("1"), old);
        SweepReport r = SweepReport.read(List.of(ft));
        assertEquals(72.0, row(r, BASE, "full", 0).cells().get("rte").mean(), EPS);     // (70 + 72 + 74) / 3
    }

    @Test
    void twoDifferentTrainingsInOneSlotAreAnError() throws IOException {
        Path other = tmp.resolve("other-lr");
        ObjectNode o = run("ft", BASE, 4, "rte", "full", "full", "top", 0, 2, 0.72);
        o.put("fingerprint_sha256", "00ff");
        Path f = write(other, o);
        IOException e = assertThrows(IOException.class, () -> SweepReport.read(List.of(ft, other)));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("fingerprint_sha256 differs"),
                e.getMessage());
    }

    @Test
    void withoutFingerprintsDuplicatesAreMatchedBySignature() throws IOException {
        Path a = tmp.resolve("a"), b = tmp.resolve("b"), c = tmp.resolve("c");
        for (Path dir : List.of(a, b, c)) {
            ObjectNode o = run(dir.getFileName().toString(), BASE, 4, "rte", "full", "full", "top", 0, 1, 0.5);
            o.remove("fingerprint_sha256");
            o.put("signature", dir == c ? "lr=1e-5" : "lr=2e-5");
            write(dir, o);
        }
        SweepReport r = SweepReport.read(List.of(a, b));
        assertEquals(List.of("a", "b"), row(r, BASE, "full", 0).experiments());
        assertEquals(1, row(r, BASE, "full", 0).cells().get("rte").seeds().size());
        IOException e = assertThrows(IOException.class, () -> SweepReport.read(List.of(a, c)));
        assertTrue(e.getMessage().contains("signature differs"), e.getMessage());
    }

    @Test
    void rejectsAResultWithoutAModelNamingTheFile() throws IOException {
        ObjectNode o = run("ft", BASE, 4, "rte", "full", "full", "top", 0, 1, 0.5);
        o.remove("model");
        Path f = tmp.resolve("bad").resolve("result.json");
        AtomicFiles.writeJson(f, o);
        IOException e = assertThrows(IOException.class, () -> SweepReport.read(List.of(f.getParent())));
        assertEquals(f + ": result has no 'model'", e.getMessage());
    }

    @Test
    void oneRowCannotMixModes() throws IOException {
        Path other = tmp.resolve("mixed");
        write(other, costs(run("x", BASE, 4, "rte", "guided", "adapters", "auto", 2, 7, 0.6), 3, 0.01, 0.5));
        IOException e = assertThrows(IOException.class, () -> SweepReport.read(List.of(ft, other)));
        assertTrue(e.getMessage().contains("partial/auto") && e.getMessage().contains("adapters/auto"), e.getMessage());
    }

    @Test
    void namesWithCommasAndQuotesRoundTripThroughTheWrittenCsv() throws IOException {
        String task = "qa, \"hard\"", guided = "guided, \"v2\"";
        Path odd = tmp.resolve("odd");
        write(odd, costs(run("odd", LARGE, 6, task, "top-k", "top-k", "top", 2, 1, 0.70), 6, 0.10, 10.0 / 18));
        write(odd, costs(run("odd", LARGE, 6, task, guided, "partial", "auto", 2, 1, 0.75), 5, 0.09, 9.0 / 18));
        Path out = tmp.resolve("odd-out");
        SweepReport.read(List.of(odd)).write(out);
        CSVFormat rfc = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get();
        try (CSVParser p = CSVParser.parse(Files.readString(out.resolve("report.csv")), rfc)) {
            List<CSVRecord> lines = p.getRecords();
            assertEquals(4, lines.size(), "a task line and an average line per method");
            CSVRecord g = lines.stream().filter(l -> l.get("method").equals(guided) && l.get("task").equals(task))
                    .findFirst().orElseThrow(() -> new AssertionError(lines.toString()));
            assertEquals(LARGE, g.get("model"));
            assertEquals(75, Double.parseDouble(g.get("mean")), EPS);
            assertEquals("", g.get("std"), "one seed: no std");
            assertEquals("5", g.get("head_layers"));
        }
        try (CSVParser p = CSVParser.parse(Files.readString(out.resolve("report-paired.csv")), rfc)) {
            CSVRecord one = p.getRecords().get(0);
            assertEquals(List.of(LARGE, guided, "top-k", task, "2", "1"), one.toList().subList(0, 6));
            assertEquals(5, Double.parseDouble(one.get("mean_difference")), EPS);   // 75 − 70
        }
    }

    /** RFC 4180 records (CRLF-terminated; quoted fields with doubled quotes), parsed independently of the writer. */
    private static List<List<String>> parseCsv(String text) {
        List<List<String>> records = new ArrayList<>();
        List<String> rec = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') { field.append('"'); i++; }
                else if (ch == '"') quoted = false;
                else field.append(ch);
            } else if (ch == '"') quoted = true;
            else if (ch == ',') { rec.add(field.toString()); field.setLength(0); }
            else if (ch == '\r' && text.charAt(i + 1) == '\n') {
                rec.add(field.toString());
                field.setLength(0);
                records.add(rec);
                rec = new ArrayList<>();
                i++;
            } else field.append(ch);
        }
        assertEquals(0, field.length() + rec.size(), "CSV ends with CRLF");
        return records;
    }

    @Test
    void csvAndJsonCarryTheSameNumbers() throws IOException {
        SweepReport r = report();
        List<List<String>> csv = parseCsv(r.csv());
        List<String> header = csv.get(0);
        assertEquals(14, header.size());
        JsonNode json = r.json();
        int lines = 0;
        for (JsonNode row : json.get("rows")) {
            for (var t : (Iterable<java.util.Map.Entry<String, JsonNode>>) row.get("tasks")::fields) {
                List<String> line = csv.stream().filter(l -> l.get(0).equals(row.get("model").asText())
                        && l.get(2).equals(row.get("method").asText()) && l.get(5).equals(row.get("k").asText())
                        && l.get(6).equals(t.getKey())).findFirst().orElseThrow();
                assertEquals(14, line.size(), line.toString());
                assertEquals(t.getValue().get("mean").asDouble(), Double.parseDouble(line.get(8)), 0);
                assertEquals(t.getValue().get("inference_cost").asDouble(), Double.parseDouble(line.get(13)), 0);
                lines++;
            }
            lines++;                                                    // the row's average line
        }
        assertEquals(lines + 1, csv.size());
        List<String> large = csv.stream().filter(l -> l.get(0).equals(LARGE) && l.get(6).equals("average")
                && l.get(2).equals("full")).findFirst().orElseThrow();
        assertEquals(80, Double.parseDouble(large.get(8)), EPS);
        List<String> base = csv.stream().filter(l -> l.get(0).equals(BASE) && l.get(2).equals("full")
                && l.get(6).equals("rte")).findFirst().orElseThrow();
        assertEquals("ad, ft", base.get(1));
        assertEquals(2, Double.parseDouble(base.get(9)), EPS);
        List<List<String>> paired = parseCsv(r.pairedCsv());
        assertEquals(1 + r.paired().size(), paired.size());
        List<String> one = paired.get(1);                              // the large model sorts first (',' < '-')
        assertEquals(List.of(LARGE, "guided", "top-k", "rte", "2", "1"), one.subList(0, 6));
        assertEquals(5, Double.parseDouble(one.get(6)), EPS);          // 75 − 70
        assertEquals(List.of("", "", "", ""), one.subList(7, 11));    // no std, t or interval with one pair
        List<String> ci = paired.stream().filter(l -> l.get(0).equals(BASE) && l.get(1).equals("guided")
                && l.get(3).equals("rte")).findFirst().orElseThrow();
        assertEquals(4 - T_975_2 / Math.sqrt(3), Double.parseDouble(ci.get(9)), 1e-8);
        for (JsonNode row : json.get("rows")) {
            if (row.get("model").asText().equals(LARGE) && row.get("method").asText().equals("guided")) {
                assertTrue(row.get("tasks").get("rte").get("std").isNull(), "one seed: std is null in JSON");
            }
        }
    }

    @Test
    void writesEveryOutputFile() throws IOException {
        Path out = tmp.resolve("out");
        String md = report().write(out);
        assertEquals(md, Files.readString(out.resolve("report.md")));
        for (String f : List.of("report.csv", "report-paired.csv", "report.json", "score-vs-compute.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
    }
}

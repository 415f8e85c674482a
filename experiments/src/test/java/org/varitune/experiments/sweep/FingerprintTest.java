package org.varitune.experiments.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.varitune.experiments.report.AtomicFiles;
import org.varitune.transformer.testing.TestBase;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The structured fingerprint: its documented combined hash, JSON round trip, and the changes it lists by key. */
class FingerprintTest extends TestBase {

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void combinedHashIsTheSha256OfTheSortedCanonicalLines() throws Exception {
        Fingerprint fp = Fingerprint.builder().put("train.lr", 2e-5).put("model", "ab12").put("k", 3)
                .put("seed", 7L).put("train.loadBestAtEnd", true).put("vector_bits", 256.0).build();
        // keys sorted; numbers as exact decimals without trailing zeros; strings as JSON literals
        String lines = "k=3\nmodel=\"ab12\"\nseed=7\ntrain.loadBestAtEnd=true\ntrain.lr=0.00002\nvector_bits=256\n";
        assertEquals(sha256(lines), fp.sha256());
    }

    @Test
    void survivesAJsonRoundTripWithTheSameHash() throws Exception {
        Fingerprint fp = Fingerprint.builder().put("examples", "ff00").put("train.lr", 3e-5).put("train.epochs", 1)
                .put("train.initSeed", 42L).put("train.warmupRatio", 0.06).build();
        String text = AtomicFiles.JSON.writeValueAsString(fp.writeTo(AtomicFiles.JSON.createObjectNode()));
        JsonNode back = AtomicFiles.JSON.readTree(text);
        Fingerprint read = Fingerprint.fromJson(back.get("fingerprint"), "test");
        assertEquals(fp.sha256(), read.sha256());
        assertEquals(fp.sha256(), back.get("fingerprint_sha256").asText());
        assertEquals(List.of("examples", "train.lr", "train.epochs", "train.initSeed", "train.warmupRatio"),
                List.copyOf(read.components().keySet()), "insertion order kept");
    }

    @Test
    void listsEachChangedComponentAsOldToNew() {
        Fingerprint old = Fingerprint.builder().put("model", "aa").put("train.lr", 2e-5).put("k", 1).put("gone", "x").build();
        Fingerprint now = Fingerprint.builder().put("model", "aa").put("train.lr", 3e-5).put("k", 1.0).put("seed", 2).build();
        assertEquals(List.of("train.lr: 2.0E-5 -> 3.0E-5", "seed: (absent) -> 2", "gone: x -> (absent)"), now.changesSince(old));
        assertEquals(List.of(), now.changesSince(now));
        assertNotEquals(old.sha256(), now.sha256());
    }

    @Test
    void withoutAComponentMatchesAFingerprintThatNeverHadIt() {
        Fingerprint guided = Fingerprint.builder().put("method", "guided").put("train.mode", "TOP_K").put("k", 2).build();
        Fingerprint topK = Fingerprint.builder().put("method", "top-k").put("train.mode", "TOP_K").put("k", 2).build();
        assertNotEquals(guided.sha256(), topK.sha256());
        assertEquals(guided.without("method").sha256(), topK.without("method").sha256());
        assertEquals(Fingerprint.builder().put("train.mode", "TOP_K").put("k", 2).build().sha256(),
                topK.without("method").sha256());
    }

    @Test
    void rejectsAKeySetTwiceAndANonScalarComponent() {
        Fingerprint.Builder b = Fingerprint.builder().put("k", 1);
        assertThrows(IllegalArgumentException.class, () -> b.put("k", 2));
        assertThrows(IllegalArgumentException.class, () -> b.put("list", List.of(1)));
        JsonNode nested = AtomicFiles.JSON.createObjectNode().set("a", AtomicFiles.JSON.createArrayNode());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Fingerprint.fromJson(nested, "f.json"));
        assertEquals("f.json: fingerprint component a is not a scalar", e.getMessage());
    }
}

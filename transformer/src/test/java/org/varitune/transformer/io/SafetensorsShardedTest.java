package org.varitune.transformer.io;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ShardedSafetensors}: a two-shard checkpoint read through its index, and each inconsistency it rejects. */
class SafetensorsShardedTest extends TestBase {
    private static final String SHARD1 = "model-00001-of-00002.safetensors";
    private static final String SHARD2 = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;
    private float[] word;
    private float[] bias;
    private long[] ids;

    @BeforeEach
    void writeShards() throws IOException {
        word = randn(4 * 3);
        bias = randn(3);
        ids = new long[] {0, 1, 2, 3};
        new SafetensorsWriter().addF32("embeddings.word_embeddings.weight", word, 4, 3)
                .addI64("embeddings.position_ids", ids, 1, 4).write(dir.resolve(SHARD1));
        new SafetensorsWriter().addBf16("pooler.dense.bias", bias, 3).write(dir.resolve(SHARD2));
    }

    private Path index(String weightMap) throws IOException {
        Path index = dir.resolve(Safetensors.INDEX_FILE);
        Files.writeString(index, "{\"metadata\":{\"total_size\":70,\"format\":\"pt\"},\"weight_map\":{" + weightMap + "}}");
        return index;
    }

    private Path goodIndex() throws IOException {
        return index("\"embeddings.word_embeddings.weight\":\"" + SHARD1 + "\","
                + "\"embeddings.position_ids\":\"" + SHARD1 + "\","
                + "\"pooler.dense.bias\":\"" + SHARD2 + "\"");
    }

    private static void assertMessage(Exception e, String... words) {
        for (String w : words) assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
    }

    @Test
    void roundTripsTwoShardsThroughTheIndex() throws IOException {
        Path index = goodIndex();
        try (WeightSource ws = Safetensors.open(dir)) {
            assertInstanceOf(ShardedSafetensors.class, ws);
            assertEquals(index, ws.source());
            assertEquals(List.of("embeddings.position_ids", "embeddings.word_embeddings.weight", "pooler.dense.bias"),
                    List.copyOf(ws.names()));
            assertArrayEquals(word, ws.readFloat("embeddings.word_embeddings.weight"));
            assertArrayEquals(ids, ws.readLong("embeddings.position_ids"));
            float[] b = ws.readFloat("pooler.dense.bias");
            for (int i = 0; i < bias.length; i++) assertEquals(FloatFormats.roundToBf16(bias[i]), b[i], "bias[" + i + "]");
            assertEquals(DType.BF16, ws.info("pooler.dense.bias").dtype());
            assertArrayEquals(new int[] {4, 3}, ws.info("embeddings.word_embeddings.weight").shape());
            assertEquals(Map.of("total_size", "70", "format", "pt"), ws.metadata());
        }
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            s.verify();
            assertEquals(SHARD2, s.shardFor("pooler.dense.bias"));
            assertEquals(List.of(SHARD1, SHARD2), List.copyOf(s.shards()));
        }
    }

    @Test
    void opensShardsOnlyWhenATensorInThemIsRead() throws IOException {
        Path index = goodIndex();
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            Files.delete(dir.resolve(SHARD2));
            assertArrayEquals(word, s.readFloat("embeddings.word_embeddings.weight"));
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> s.readFloat("pooler.dense.bias"));
            assertMessage(e, SHARD2, "pooler.dense.bias", "does not exist", index.toString());
        }
    }

    @Test
    void missingTensorNameNamesTensorAndIndex() throws IOException {
        Path index = goodIndex();
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.info("classifier.bias"));
            assertMessage(e, "classifier.bias", index.toString());
        }
    }

    @Test
    void rejectsTensorMissingFromItsShard() throws IOException {
        Path index = index("\"embeddings.word_embeddings.weight\":\"" + SHARD1 + "\","
                + "\"embeddings.position_ids\":\"" + SHARD1 + "\","
                + "\"pooler.dense.bias\":\"" + SHARD2 + "\",\"pooler.dense.weight\":\"" + SHARD2 + "\"");
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            assertArrayEquals(ids, s.readLong("embeddings.position_ids"));
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> s.readFloat("pooler.dense.bias"));
            assertMessage(e, "'pooler.dense.weight'", SHARD2, "does not contain");
            e = assertThrows(SafetensorsFormatException.class, s::verify);
            assertMessage(e, "'pooler.dense.weight'", SHARD2);
        }
    }

    @Test
    void rejectsTensorAppearingInTwoShards() throws IOException {
        new SafetensorsWriter().addBf16("pooler.dense.bias", bias, 3)
                .addF32("embeddings.word_embeddings.weight", word, 4, 3).write(dir.resolve(SHARD2));
        Path index = goodIndex();
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, s::verify);
            assertMessage(e, "'embeddings.word_embeddings.weight'", "two shards", SHARD1, SHARD2);
            e = assertThrows(SafetensorsFormatException.class, () -> s.readFloat("pooler.dense.bias"));
            assertMessage(e, "'embeddings.word_embeddings.weight'", "two shards", SHARD1, SHARD2);
        }
    }

    @Test
    void rejectsTensorMappedTwiceInTheIndex() throws IOException {
        Path index = index("\"pooler.dense.bias\":\"" + SHARD1 + "\",\"pooler.dense.bias\":\"" + SHARD2 + "\"");
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                () -> ShardedSafetensors.open(index));
        assertMessage(e, "pooler.dense.bias", index.toString(), "duplicate");
    }

    @Test
    void rejectsShardTensorThatTheIndexDoesNotList() throws IOException {
        Path index = index("\"embeddings.word_embeddings.weight\":\"" + SHARD1 + "\","
                + "\"pooler.dense.bias\":\"" + SHARD2 + "\"");
        try (ShardedSafetensors s = ShardedSafetensors.open(index)) {
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> s.readFloat("embeddings.word_embeddings.weight"));
            assertMessage(e, "'embeddings.position_ids'", SHARD1, "does not list");
        }
    }

    @Test
    void rejectsShardOutsideTheIndexDirectory() throws IOException {
        Path index = index("\"pooler.dense.bias\":\"../" + SHARD2 + "\"");
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                () -> ShardedSafetensors.open(index));
        assertMessage(e, "'pooler.dense.bias'", "../" + SHARD2, index.toString());
    }

    @Test
    void rejectsIndexWithoutWeightMapOrWithNonStringShard() throws IOException {
        Path index = dir.resolve("x.index.json");
        Files.writeString(index, "{\"metadata\":{}}");
        assertMessage(assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index)),
                index.toString(), "weight_map");
        Files.writeString(index, "{\"weight_map\":{\"pooler.dense.bias\":2}}");
        assertMessage(assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index)),
                index.toString(), "'pooler.dense.bias'");
        Files.writeString(index, "{\"weight_map\":{\"pooler.dense.bias\":\"" + SHARD2 + "\"");
        assertMessage(assertThrows(SafetensorsFormatException.class, () -> ShardedSafetensors.open(index)),
                index.toString(), "not valid JSON");
    }

    @Test
    void closesOpenedShardsAndRejectsLaterReads() throws IOException {
        ShardedSafetensors s = ShardedSafetensors.open(goodIndex());
        s.readFloat("pooler.dense.bias");
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.readFloat("pooler.dense.bias"));
        assertFalse(s.names().isEmpty());
    }

    @Test
    void rejectsShardNamesThatAreNotPlainFileNamesWithATypedError() throws IOException {
        for (String bad : new String[] {"a\\u0000b.safetensors", "../" + SHARD1, "sub/" + SHARD1, "..", ".", "",
                "x\\\\" + SHARD1, "\\u0007.safetensors", "C:" + SHARD1}) {
            Path index = index("\"embeddings.word_embeddings.weight\":\"" + bad + "\"");
            SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class,
                    () -> ShardedSafetensors.open(index), bad);
            assertMessage(e, index.toString(), "'embeddings.word_embeddings.weight'", "not a plain file name");
        }
    }
}

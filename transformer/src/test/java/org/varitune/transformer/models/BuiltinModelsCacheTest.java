package org.varitune.transformer.models;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.varitune.transformer.io.Safetensors;
import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.io.onnx.OnnxBertConverter;
import org.varitune.transformer.io.onnx.OnnxFixtures;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.testing.TestBase;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The conversion cache: layout of a built directory, reuse, and detection and rebuild of damaged copies. */
@Tag("models")
class BuiltinModelsCacheTest extends TestBase {
    private static final String NAME = "all-MiniLM-L6-v2";

    /** Shared by the tests of this class, so that MiniLM is converted once and then damaged and rebuilt. */
    @TempDir
    static Path root;

    /** Records the listener calls as strings. */
    static final class Recorder implements ProgressListener {
        final List<String> calls = new ArrayList<>();
        @Override public void onStart(String task, long total) { calls.add("start " + task + " " + total); }
        @Override public void onProgress(long done) { calls.add("progress " + done); }
        @Override public void onDone() { calls.add("done"); }
        @Override public void onInfo(String message) { calls.add("info " + message); }
        boolean converted() { return calls.stream().anyMatch(c -> c.startsWith("start")); }
    }

    private static Path ensure(Recorder r) throws IOException { return BuiltinModels.ensure(NAME, root, r); }

    @Test
    void buildsAStandardHfDirectoryWithManifestAndNoLeftovers() throws IOException {
        Path dir = ensure(new Recorder());
        assertEquals(root.resolve("models").resolve(NAME), dir);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json", BuiltinModels.MANIFEST),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertEquals(List.of(NAME), s.map(p -> p.getFileName().toString()).toList(), "temporary directories removed");
        }
        OnnxBertConverter.Result conv = OnnxFixtures.converted(OnnxFixtures.MINILM);
        assertEquals(conv.config(), EncoderConfig.read(dir));
        try (WeightSource src = Safetensors.open(dir)) {
            assertEquals(new java.util.TreeSet<>(conv.weights().keySet()), src.names());
            String q = "encoder.layer.0.attention.self.query.weight";
            assertArrayEquals(new int[]{384, 384}, src.info(q).shape());
            assertArrayEquals(conv.weights().get(q).data(), src.readFloat(q));
        }
        try (var in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            assertArrayEquals(in.readAllBytes(), Files.readAllBytes(dir.resolve("tokenizer.json")));
        }
        assertEquals(BuiltinModels.State.READY, BuiltinModels.status(NAME, root).state());
    }

    @Test
    void reusesAReadyDirectoryWithoutConverting() throws IOException {
        Path dir = ensure(new Recorder());
        FileTime before = Files.getLastModifiedTime(dir.resolve("model.safetensors"));
        Recorder r = new Recorder();
        assertEquals(dir, ensure(r));
        assertFalse(r.converted(), r.calls.toString());
        assertEquals(before, Files.getLastModifiedTime(dir.resolve("model.safetensors")));
    }

    @Test
    void detectsATruncatedWeightFileAndRebuildsIt() throws IOException {
        Path st = ensure(new Recorder()).resolve("model.safetensors");
        long size = Files.size(st);
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            f.setLength(size / 2);
        }
        BuiltinModels.Status s = BuiltinModels.status(NAME, root);
        assertEquals(BuiltinModels.State.CORRUPT, s.state());
        assertTrue(s.detail().contains("model.safetensors: size " + size / 2), s.detail());
        Recorder r = new Recorder();
        ensure(r);
        assertTrue(r.converted());
        assertTrue(r.calls.get(0).startsWith("info " + NAME) && r.calls.get(0).contains("rebuilding"), r.calls.get(0));
        assertEquals(size, Files.size(st));
        assertEquals(BuiltinModels.State.READY, BuiltinModels.status(NAME, root).state());
    }

    @Test
    void detectsAFlippedByteAndRebuilds() throws IOException {
        Path st = ensure(new Recorder()).resolve("model.safetensors");
        String hash = BuiltinModels.sha256(st);
        try (RandomAccessFile f = new RandomAccessFile(st.toFile(), "rw")) {
            long at = f.length() / 3;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x10);
        }
        BuiltinModels.Status s = BuiltinModels.status(NAME, root);
        assertEquals(BuiltinModels.State.CORRUPT, s.state());
        assertTrue(s.detail().contains("model.safetensors: SHA-256"), s.detail());
        Recorder r = new Recorder();
        ensure(r);
        assertTrue(r.converted());
        assertEquals(hash, BuiltinModels.sha256(st));
    }

    @Test
    void rebuildsADirectoryWithoutManifest() throws IOException {
        Path dir = ensure(new Recorder());
        Files.delete(dir.resolve(BuiltinModels.MANIFEST));
        BuiltinModels.Status s = BuiltinModels.status(NAME, root);
        assertEquals(BuiltinModels.State.CORRUPT, s.state());
        assertEquals("no " + BuiltinModels.MANIFEST, s.detail());
        Recorder r = new Recorder();
        ensure(r);
        assertTrue(r.converted());
        assertTrue(r.calls.contains("done"));
        assertEquals(BuiltinModels.State.READY, BuiltinModels.status(NAME, root).state());
    }

    @Test
    void reportsAbsentBeforeFirstUse(@TempDir Path empty) throws IOException {
        BuiltinModels.Status s = BuiltinModels.status("e5-small-v2", empty);
        assertEquals(BuiltinModels.State.ABSENT, s.state());
        assertEquals(empty.resolve("models").resolve("e5-small-v2"), s.directory());
    }

    @Test
    void namesTheMavenCoordinatesWhenTheJarIsMissing(@TempDir Path tmp) {
        BuiltinModels.Builtin fake = new BuiltinModels.Builtin("fake", "no-such-model.onnx", "no-such-tokenizer.json",
                "dev.example:fake-model:1.0", "missing", 1, 8, 2);
        IOException e = assertThrows(IOException.class, () -> BuiltinModels.build(fake, tmp, ProgressListener.NONE));
        assertTrue(e.getMessage().contains("add dev.example:fake-model:1.0 to the classpath"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownNameListingTheBuiltins() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BuiltinModels.get("bert-base"));
        assertTrue(e.getMessage().contains("[all-MiniLM-L6-v2, e5-small-v2]"), e.getMessage());
        assertEquals("e5-small-v2", BuiltinModels.get("E5-SMALL-V2").name());
        assertEquals(BuiltinModels.DEFAULT, BuiltinModels.all().get(0).name());
    }

    @Test
    void cacheRootFollowsTheSystemProperty(@TempDir Path other) {
        String saved = System.getProperty("varitune.cache");
        try {
            System.setProperty("varitune.cache", other.toString());
            assertEquals(other.resolve("models").resolve("e5-small-v2"), BuiltinModels.directory("e5-small-v2"));
        } finally {
            if (saved == null) System.clearProperty("varitune.cache"); else System.setProperty("varitune.cache", saved);
        }
    }

    @Test
    void resolverAcceptsABuiltinNameOrAModelDirectory(@TempDir Path tmp) throws IOException {
        String saved = System.getProperty("varitune.cache");
        try {
            System.setProperty("varitune.cache", root.toString());
            assertEquals(ensure(new Recorder()), ModelResolver.resolve("all-minilm-l6-v2"));
        } finally {
            if (saved == null) System.clearProperty("varitune.cache"); else System.setProperty("varitune.cache", saved);
        }
        Files.writeString(tmp.resolve("config.json"), "{}");
        assertEquals(tmp, ModelResolver.resolve(tmp.toString()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelResolver.resolve(tmp.resolve("nope").toString()));
        assertTrue(e.getMessage().contains("neither a built-in model [all-MiniLM-L6-v2, e5-small-v2]")
                && e.getMessage().contains("no such directory"), e.getMessage());
    }
}

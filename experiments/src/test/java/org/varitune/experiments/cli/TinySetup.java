package org.varitune.experiments.cli;

import org.varitune.transformer.kernels.CpuKernels;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.EncoderConfig;
import org.varitune.transformer.model.TinyModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A tiny random BERT model directory with a vocab.txt, and a synthetic GLUE SST-2 directory, for CLI tests. */
final class TinySetup {
    private TinySetup() {}

    static final List<String> POSITIVE = List.of("good", "great", "fine", "lovely", "superb", "nice", "warm", "bright");
    static final List<String> NEGATIVE = List.of("bad", "awful", "dull", "poor", "grim", "sad", "cold", "dark");
    static final List<String> NEUTRAL = List.of("the", "movie", "plot", "is", "a", "film", "story", "cast");

    /** config.json + model.safetensors (vocab 50: [PAD] [UNK] [CLS] [SEP] [MASK] + 24 words + fillers) + vocab.txt. */
    static Path model(Path dir, long seed) throws IOException {
        EncoderConfig c = TinyModels.bert();
        Encoder e = TinyModels.random(c, new CpuKernels(), true, new Random(seed));
        TinyModels.save(e, dir, "bert.", null);
        List<String> vocab = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        vocab.addAll(POSITIVE);
        vocab.addAll(NEGATIVE);
        vocab.addAll(NEUTRAL);
        while (vocab.size() < c.vocabSize()) vocab.add("[unused" + vocab.size() + "]");
        Files.write(dir.resolve("vocab.txt"), vocab);
        return dir;
    }

    /** {@code dir/SST-2/{train,dev}.tsv}: sentences mixing neutral words with class words; label 1 = positive. */
    static Path sst2(Path root, int train, int dev, long seed) throws IOException {
        Random r = new Random(seed);
        Path d = Files.createDirectories(root.resolve("SST-2"));
        Files.write(d.resolve("train.tsv"), lines(train, r));
        Files.write(d.resolve("dev.tsv"), lines(dev, r));
        return root;
    }

    private static List<String> lines(int n, Random r) {
        List<String> out = new ArrayList<>(List.of("sentence\tlabel"));
        for (int i = 0; i < n; i++) {
            int label = i % 2;
            List<String> words = label == 1 ? POSITIVE : NEGATIVE;
            StringBuilder sb = new StringBuilder();
            int len = 3 + r.nextInt(5);
            for (int w = 0; w < len; w++) {
                sb.append(w == 0 ? "" : " ").append(r.nextInt(3) == 0 ? words.get(r.nextInt(8)) : NEUTRAL.get(r.nextInt(8)));
            }
            out.add(sb + " " + words.get(r.nextInt(8)) + " \t" + label);
        }
        return out;
    }
}

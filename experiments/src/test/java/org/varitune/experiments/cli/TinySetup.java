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

    /**
     * The model of {@link #model} with the same seed, written as HF writes a DistilBERT checkpoint (tensors renamed,
     * token type 0 folded into the positions, no pooler; {@link TinyModels#saveAsDistilBert}), with the same vocab.txt.
     * For single texts it computes the BERT model's hidden states.
     */
    static Path distilBertModel(Path dir, long seed) throws IOException {
        Path bert = model(dir.resolveSibling(dir.getFileName() + "-bert-source"), seed);
        Encoder e = Encoder.load(bert, new CpuKernels());
        TinyModels.saveAsDistilBert(e, "distilbert.", dir);
        Files.copy(bert.resolve("vocab.txt"), dir.resolve("vocab.txt"));
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

    /**
     * A synthetic GLUE directory with every task in its exact file layout (header or not, column names), texts
     * made of the tiny vocabulary, labels balanced; STS-B scores spread over [0, 5].
     */
    static Path glueAll(Path root, int train, int dev, long seed) throws IOException {
        Random r = new Random(seed);
        for (org.varitune.experiments.data.GlueTask t : org.varitune.experiments.data.GlueTask.values()) {
            Path d = Files.createDirectories(root.resolve(t.dirName()));
            for (String split : t.labeledSplits()) {
                Files.write(d.resolve(split + ".tsv"), glueLines(t, split.equals("train") ? train : dev, r));
            }
        }
        return root;
    }

    private static List<String> glueLines(org.varitune.experiments.data.GlueTask t, int n, Random r) {
        List<String> cols = t == org.varitune.experiments.data.GlueTask.COLA ? org.varitune.experiments.data.GlueTask.COLA_COLUMNS
                : t.header() != null ? t.header()
                : t == org.varitune.experiments.data.GlueTask.STSB ? List.of("index", "genre", "filename", "year", "old_index",
                        "source1", "source2", "sentence1", "sentence2", "score")
                : List.of("index", "promptID", "pairID", "genre", "sentence1", "sentence2", "gold_label");
        List<String> out = new ArrayList<>();
        if (t != org.varitune.experiments.data.GlueTask.COLA) out.add(String.join("\t", cols));
        for (int i = 0; i < n; i++) {
            int y = t.isRegression() ? 0 : i % t.labelNames().size();
            List<String> words = y % 2 == 1 ? POSITIVE : NEGATIVE;
            String[] f = new String[cols.size()];
            for (int c = 0; c < f.length; c++) {
                String name = cols.get(c);
                if (name.equals(t.textAColumn()) || name.equals(t.textBColumn())) {
                    f[c] = NEUTRAL.get(r.nextInt(8)) + " " + words.get(r.nextInt(8)) + " " + NEUTRAL.get(r.nextInt(8));
                } else if (name.equals(t.targetColumn())) {
                    f[c] = t.isRegression() ? String.format(java.util.Locale.ROOT, "%.2f", 5.0 * i / Math.max(1, n - 1))
                            : t.labelNames().get(y);
                } else {
                    f[c] = Integer.toString(i);
                }
            }
            out.add(String.join("\t", f));
        }
        return out;
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

package org.varitune.transformer.model;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads HF checkpoints into an {@link Encoder} by exact parameter name (nanoGPT {@code from_pretrained}): the encoder
 * prefix is detected among {@code ""}, {@code "bert."}, {@code "roberta."}; legacy {@code LayerNorm.gamma/beta}
 * names are read as {@code weight/bias}; every expected tensor must exist with the expected shape; tensors in the
 * encoder's namespace that nothing uses are an error (both listed by name). Heads and other top-level modules
 * ({@code cls.*}, {@code lm_head.*}, {@code classifier.*}, ...) are ignored, as are the buffers
 * {@code embeddings.position_ids} and {@code embeddings.token_type_ids}, and the layers above {@code keepLayers}.
 */
public final class WeightLoader {
    private WeightLoader() {}

    static final List<String> PREFIXES = List.of("", "bert.", "roberta.");
    private static final Set<String> BUFFERS = Set.of("embeddings.position_ids", "embeddings.token_type_ids");
    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");
    private static final Set<String> ENCODER_ROOTS = Set.of("embeddings", "encoder", "pooler");

    /** Builds the encoder for {@code config} truncated to {@code keepLayers} layers and fills it from {@code src}. */
    public static Encoder load(WeightSource src, EncoderConfig config, Kernels kernels, int keepLayers)
            throws IOException {
        Set<String> names = src.names();
        String prefix = detectPrefix(names, src);
        boolean hasPooler = names.contains(prefix + "pooler.dense.weight");
        boolean keepPooler = hasPooler && keepLayers == config.numHiddenLayers();
        Encoder enc = new Encoder(config.withNumHiddenLayers(keepLayers), kernels, keepPooler);

        Map<String, Parameter> expected = enc.parameterMap();
        List<String> missing = new ArrayList<>();
        List<String> misshapen = new ArrayList<>();
        Set<String> used = new TreeSet<>();
        for (Parameter p : expected.values()) {
            String key = resolve(names, prefix, p.name());
            if (key == null) { missing.add(prefix + p.name()); continue; }
            used.add(key);
            int[] shape = src.info(key).shape();
            if (!Arrays.equals(shape, p.shape())) {
                misshapen.add(key + " has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(p.shape()));
                continue;
            }
            p.copyFrom(src.readFloat(key), shape);
        }
        List<String> unused = new ArrayList<>();
        for (String name : names) {
            if (used.contains(name) || !name.startsWith(prefix)) continue;
            String local = name.substring(prefix.length());
            String root = local.contains(".") ? local.substring(0, local.indexOf('.')) : local;
            if (!ENCODER_ROOTS.contains(root) || BUFFERS.contains(local)) continue;       // heads, buffers
            Matcher m = LAYER.matcher(local);
            if (m.find() && Integer.parseInt(m.group(1)) >= keepLayers
                    && Integer.parseInt(m.group(1)) < config.numHiddenLayers()) continue;  // truncated away
            if (local.startsWith("pooler.") && !keepPooler) continue;
            unused.add(name);
        }
        if (!missing.isEmpty() || !misshapen.isEmpty() || !unused.isEmpty()) {
            StringBuilder sb = new StringBuilder(src.source() + ": checkpoint does not match the "
                    + config.modelType() + " config (prefix '" + prefix + "')");
            if (!missing.isEmpty()) sb.append("\n  missing: ").append(missing);
            if (!misshapen.isEmpty()) sb.append("\n  wrong shape: ").append(misshapen);
            if (!unused.isEmpty()) sb.append("\n  unused: ").append(unused);
            throw new IOException(sb.toString());
        }
        return enc;
    }

    private static String detectPrefix(Set<String> names, WeightSource src) throws IOException {
        List<String> found = new ArrayList<>();
        for (String p : PREFIXES) if (names.contains(p + "embeddings.word_embeddings.weight")) found.add(p);
        if (found.size() == 1) return found.get(0);
        if (found.isEmpty()) {
            throw new IOException(src.source() + ": no embeddings.word_embeddings.weight under any of the prefixes "
                    + PREFIXES + " - is this a BERT/RoBERTa checkpoint?");
        }
        throw new IOException(src.source() + ": ambiguous checkpoint, encoder weights under several prefixes " + found);
    }

    /** The checkpoint key for a parameter: exact name, else the legacy gamma/beta spelling; null if absent. */
    private static String resolve(Set<String> names, String prefix, String name) {
        String key = prefix + name;
        if (names.contains(key)) return key;
        if (name.contains("LayerNorm.")) {
            String legacy = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            if (names.contains(legacy)) return legacy;
        }
        return null;
    }
}

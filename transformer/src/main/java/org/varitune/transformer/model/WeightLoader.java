package org.varitune.transformer.model;

import org.varitune.transformer.io.WeightSource;
import org.varitune.transformer.kernels.Kernels;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Loads HF checkpoints into an {@link Encoder} by exact parameter name (nanoGPT {@code from_pretrained}): the encoder
 * prefix is detected among {@code ""} and the families' ({@link ModelFamilies#prefixes()}: {@code bert.},
 * {@code roberta.}, ...); legacy {@code LayerNorm.gamma/beta} names are read as {@code weight/bias}; every expected
 * tensor must exist with the expected shape; tensors in the encoder's namespace ({@link ModelFamily#encoderRoots()})
 * that nothing uses are an error (both listed by name). Heads and other top-level modules ({@code cls.*},
 * {@code lm_head.*}, {@code classifier.*}, ...) are ignored, as are the family's buffers
 * ({@code embeddings.position_ids}, ...) and the layers above {@code keepLayers}.
 */
public final class WeightLoader {
    private WeightLoader() {}


    /** Builds the encoder for {@code config} truncated to {@code keepLayers} layers and fills it from {@code src}. */
    public static Encoder load(WeightSource src, EncoderConfig config, Kernels kernels, int keepLayers)
            throws IOException {
        Set<String> names = src.names();
        ModelFamily family = config.family();
        String prefix = detectPrefix(names, src, family);
        boolean hasPooler = family.pooler().isPresent() && names.contains(prefix + family.pooler().get() + ".weight");
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
            if (!family.encoderRoots().contains(root) || family.buffers().contains(local)) continue;   // heads, buffers
            Optional<Integer> layer = family.layerIndex(local);
            if (layer.isPresent() && layer.get() >= keepLayers && layer.get() < config.numHiddenLayers()) continue;  // truncated away
            if (family.pooler().isPresent() && local.startsWith(family.pooler().get() + ".") && !keepPooler) continue;
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

    /**
     * The encoder prefix of a checkpoint of {@code family}: {@code ""} or any registered family's prefix
     * ({@link ModelFamilies#prefixes()}; the config, not the prefix, decides the architecture).
     */
    public static String detectPrefix(Set<String> names, WeightSource src, ModelFamily family) throws IOException {
        List<String> prefixes = ModelFamilies.prefixes();
        List<String> found = new ArrayList<>();
        for (String p : prefixes) if (names.contains(p + "embeddings.word_embeddings.weight")) found.add(p);
        if (found.size() == 1) return found.get(0);
        if (found.isEmpty()) {
            throw new IOException(src.source() + ": no embeddings.word_embeddings.weight under any of the prefixes "
                    + prefixes + " - is this a " + family.modelType() + " checkpoint?");
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

package org.varitune.transformer.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PTX modules of the GPU backend: one per CUDA source {@code transformer/src/main/cuda/<file>.cu}, compiled by
 * {@code tools/cuda/build_ptx.sh} into the resource {@code org/varitune/transformer/kernels/cuda/<file>.ptx}, with the
 * {@code extern "C"} kernels ({@code .entry} names) that the host code launches.
 */
public enum PtxModule {
    ADD("add", "add_f32"),
    ADAMW("adamw", "adamw_update"),
    ATTENTION("attention", "attention_probs", "attention_p_x", "attention_pt_x", "attention_dots",
            "attention_softmax_backward"),
    DROPOUT("dropout", "dropout_apply"),
    EMBEDDINGS("embeddings", "embeddings_forward", "embeddings_backward"),
    GELU("gelu", "gelu_forward", "gelu_backward"),
    LAYERNORM("layernorm", "layernorm_forward", "layernorm_backward_dx", "layernorm_backward_partial"),
    MATMUL("matmul", "sgemm_nt_f32", "sgemm_nn_f32", "sgemm_tn_f32"),
    MATMUL_TF32("matmul_tf32", "sgemm_nt_tf32", "sgemm_nn_tf32", "sgemm_tn_tf32"),
    REDUCE("reduce", "colsum_partial", "colsum_accumulate"),
    VARIABILITY("variability", "shift_rows_f64", "rank_update_packed_f64");

    /** Classpath folder of the PTX resources. */
    public static final String RESOURCE_DIR = "org/varitune/transformer/kernels/cuda/";
    private static final Pattern HEADER = Pattern.compile(
            "^// varitune-ptx source=(\\S+)\\.cu sha256=([0-9a-f]{64}) nvcc=(\\S+) arch=(\\S+)$");
    private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*\\(");

    private final String file;
    private final List<String> entries;

    PtxModule(String file, String... entries) {
        this.file = file;
        this.entries = List.of(entries);
    }

    /** Base name shared by the {@code .cu} source and the {@code .ptx} resource, e.g. {@code matmul}. */
    public String file() { return file; }

    /** The kernel names this module must declare, in source order. */
    public List<String> entries() { return entries; }

    /** Classpath resource name of the PTX, e.g. {@code org/varitune/transformer/kernels/cuda/matmul.ptx}. */
    public String resource() { return RESOURCE_DIR + file + ".ptx"; }

    /** The PTX text from the classpath; an error names the resource and the build script when it is missing. */
    public String readPtx() {
        try (InputStream in = PtxModule.class.getClassLoader().getResourceAsStream(resource())) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + resource() + " is missing from the classpath "
                        + "(run tools/cuda/build_ptx.sh and rebuild)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading PTX resource " + resource(), e);
        }
    }

    /** The first-line header that {@code build_ptx.sh} writes: which source, its SHA-256, and the compiler. */
    public record Header(String source, String sha256, String nvcc, String arch) {}

    /**
     * Parses the header line of a PTX file.
     *
     * @param where names the file in the error message
     * @throws IllegalArgumentException when the first line is not a {@code build_ptx.sh} header
     */
    public static Header parseHeader(String ptx, String where) {
        int nl = ptx.indexOf('\n');
        String first = nl < 0 ? ptx : ptx.substring(0, nl);
        Matcher m = HEADER.matcher(first.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(where + ": line 1 is not a varitune-ptx header (run tools/cuda/build_ptx.sh): '"
                    + (first.length() > 120 ? first.substring(0, 120) + "..." : first) + "'");
        }
        return new Header(m.group(1) + ".cu", m.group(2), m.group(3), m.group(4));
    }

    /** The {@code .entry} (kernel) names a PTX text declares, sorted. */
    public static Set<String> declaredEntries(String ptx) {
        Set<String> names = new TreeSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) names.add(m.group(1));
        return names;
    }
}

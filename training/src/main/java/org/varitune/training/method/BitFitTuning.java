package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.layers.EncoderLayer;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.model.LayerWiring;
import org.varitune.transformer.model.LinearRole;
import org.varitune.transformer.tensor.Parameter;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * {@code bitfit}: BitFit (Ben Zaken, Ravfogel and Goldberg, ACL 2022), bias-terms fine-tuning. In the layers the plan
 * tunes only the chosen bias vectors train (and the head); every weight matrix and LayerNorm gain stays frozen. Per
 * layer, in the names of the authors' code ({@code benzakenelad/BitFit}, {@code glue_evaluator.py},
 * {@code BIAS_LAYER_NAME_TO_LATEX}) and the {@link LinearRole} or LayerNorm that holds each:
 * <pre>
 *   b_q    attention.self.query.bias        query               DistilBERT attention.q_lin.bias
 *   b_k    attention.self.key.bias          key                            attention.k_lin.bias
 *   b_v    attention.self.value.bias        value                          attention.v_lin.bias
 *   b_m1   attention.output.dense.bias      attention-output               attention.out_lin.bias
 *   b_LN1  attention.output.LayerNorm.bias  layer-norm                     sa_layer_norm.bias
 *   b_m2   intermediate.dense.bias          intermediate                   ffn.lin1.bias
 *   b_m3   output.dense.bias                output                         ffn.lin2.bias
 *   b_LN2  output.LayerNorm.bias            layer-norm                     output_layer_norm.bias
 * </pre>
 * {@code all} (the default) trains all eight, which is what the authors' code trains with its default
 * {@code --bias-terms all}. The paper's small variant, "only two bias components (the 'query' and 'middle-of-MLP'
 * bias terms)" (its introduction), is {@code --bitfit-biases query,intermediate}: the authors' code maps b_m2, the
 * middle of the MLP, to {@code intermediate.dense.bias}. The roles are mapped by the family
 * ({@link LayerWiring#linear}), so one list names the same tensors for BERT, RoBERTa and DistilBERT.
 * <p>
 * This project's choices, not the paper's: only the layers the {@link LayerPlan} tunes train their biases (the
 * authors train the biases of every layer; {@code --tune-layers} = l does that here). The embeddings' LayerNorm bias
 * ({@code embeddings.LayerNorm.bias}, which the authors' {@code all} trains too: their filter is every name holding
 * {@code bias}) trains only when the plan tunes layer 0, which {@code bitfit}'s block ({@link
 * org.varitune.training.TuningMode.Block#ANY}, layers M−k+1..M, k &gt;= 1) never does. The head is this project's head
 * (its {@code pooler.dense} weight and bias and {@code classifier}, all trained, as in every mode); the authors train
 * HF's {@code classifier} and only the bias of HF's pooler.
 * <p>
 * Nothing is inserted and nothing is exported beside the checkpoint: the export is a plain HF checkpoint whose tuned
 * biases changed.
 */
public final class BitFitTuning implements TuningMethod {

    /** A bias of an encoder layer, by what it belongs to. */
    public enum Bias implements Spelled {
        QUERY("query", LinearRole.QUERY), KEY("key", LinearRole.KEY), VALUE("value", LinearRole.VALUE),
        ATTENTION_OUTPUT("attention-output", LinearRole.ATTENTION_OUTPUT),
        INTERMEDIATE("intermediate", LinearRole.INTERMEDIATE), OUTPUT("output", LinearRole.OUTPUT),
        /** Both LayerNorms of a layer (attention and output), and the embeddings' when the plan tunes layer 0. */
        LAYER_NORM("layer-norm", null);

        private final String spelling;
        private final LinearRole role;

        Bias(String spelling, LinearRole role) {
            this.spelling = spelling;
            this.role = role;
        }

        /** The Linear whose bias this is, or null for {@link #LAYER_NORM}. */
        public LinearRole role() { return role; }

        @Override public String spelling() { return spelling; }

        @Override public String toString() { return spelling; }
    }

    /** The value of {@link #BIASES} that names every bias. */
    public static final String ALL = "all";

    /**
     * {@code --bitfit-biases} / {@code bitfit_biases}: {@code all} or a comma list of {@link Bias} spellings
     * ({@code query,intermediate}; a YAML list arrives joined the same way), each once. Parsed to a set.
     */
    public static final MethodOption<Set<Bias>> BIASES = new MethodOption<>("bitfit-biases", "all|BIAS[,BIAS...]",
            "all (default, every bias of the tuned layers, as the authors' code) or biases by name: query, key, value, "
                    + "attention-output, intermediate, output, layer-norm (the paper's small variant: query,intermediate).",
            BitFitTuning::parseBiases);

    /** BitFit's options, for the command line and the YAML ({@link TuningMethods} registers them). */
    public static final List<MethodOption<?>> OPTIONS = List.of(BIASES);

    /**
     * The default peak learning rate of bitfit runs: 1e-3, the default {@code --learning-rate} of the authors'
     * {@code run_glue.py} (and the rate of their README's BitFit example). Which rates the paper itself reports was not
     * confirmed here, so take this as the authors' code's value, not the paper's.
     */
    public static final double DEFAULT_LR = 1e-3;

    private final Set<Bias> biases;

    /** @param biases which biases train, at least one */
    public BitFitTuning(Set<Bias> biases) {
        Objects.requireNonNull(biases, "biases");
        if (biases.isEmpty()) throw new IllegalArgumentException("bitfit biases (--bitfit-biases, bitfit_biases): none given");
        this.biases = java.util.Collections.unmodifiableSet(EnumSet.copyOf(biases));
    }

    /** BitFit with the options of a run (option name -> value as given): {@link #BIASES}, default {@code all}. */
    public static BitFitTuning of(Map<String, String> options) {
        return new BitFitTuning(BIASES.value(options, EnumSet.allOf(Bias.class)));
    }

    private static Set<Bias> parseBiases(String v) {
        if (v.strip().equals(ALL)) return EnumSet.allOf(Bias.class);
        List<Bias> list = MethodOption.list(v, b -> MethodOption.spelled(Bias.class, b));
        if (new HashSet<>(list).size() != list.size()) throw new IllegalArgumentException("names a bias twice");
        return EnumSet.copyOf(list);
    }

    /** Which biases train, in declaration order. */
    public Set<Bias> biases() { return biases; }

    /**
     * The chosen biases of layers {@code max(firstTuned, 1)..lastTuned}, and the embeddings' LayerNorm bias when the
     * plan tunes layer 0 and {@link Bias#LAYER_NORM} is chosen. Weights never.
     */
    @Override
    public Set<Parameter> trainable(Encoder encoder, LayerPlan plan) {
        Set<Parameter> t = new HashSet<>();
        if (plan.tunes(0) && biases.contains(Bias.LAYER_NORM)) {
            for (Parameter p : encoder.embeddings().parameters()) if (p.name().endsWith(".bias")) t.add(p);
        }
        for (int l = Math.max(plan.firstTuned(), 1); l <= plan.lastTuned(); l++) {
            EncoderLayer layer = encoder.layers().get(l - 1);
            for (Bias b : biases) if (b.role() != null) t.add(layer.linear(b.role()).bias());
            if (biases.contains(Bias.LAYER_NORM)) {
                LayerWiring wiring = layer.wiring();                           // the family names its LayerNorms
                for (Parameter p : layer.parameters()) if (wiring.isNorm(p.name()) && p.name().endsWith(".bias")) t.add(p);
            }
        }
        return t;
    }

    /** {@code biases=all}, or {@code biases=query+intermediate} (declaration order): the run record's value. */
    public String spec() {
        if (biases.size() == Bias.values().length) return "biases=" + ALL;
        StringJoiner j = new StringJoiner("+");
        biases.forEach(b -> j.add(b.spelling()));
        return "biases=" + j;
    }

    @Override public String describe() { return "bitfit (" + spec() + ")"; }

    /** {@link #spec()}, recorded under {@code bitfit}. */
    @Override public Optional<String> recordedOptions() { return Optional.of(spec()); }
}

package org.varitune.training;

import org.varitune.training.method.TuningMethod;
import org.varitune.training.method.TuningMethods;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Decides which parameters train and applies it with {@link Parameter#setTrainable}. Two kinds:
 * <ul>
 *   <li>by plan ({@link #of(LayerPlan, TuningMethod)}): in the layers the {@link LayerPlan} tunes, what the
 *       {@link TuningMethod} says trains ({@link TuningMethod#trainable}: whole layers, adapters and LayerNorms, LoRA's
 *       A and B), taken from the model's own layer objects (no name is parsed for a number). The head's
 *       parameters ({@code classifier.*}, the head's {@code pooler.dense.*}) always train; every other encoder
 *       parameter (frozen layers, the encoder's own pooler, layers above the head) is frozen.</li>
 *   <li>by name ({@link #matching}): a parameter trains iff its full name matches the regex.</li>
 * </ul>
 * Either can then freeze more with {@link #exceptMatching} (e.g. keep the embeddings frozen under FULL).
 */
public final class FreezePolicy {
    private final LayerPlan plan;           // null for a name-based policy
    private final TuningMethod method;      // null for a name-based policy
    private final Pattern trainOnly;        // name-based: trains iff matches
    private final List<Pattern> frozen;     // extra freezing, on top of either kind

    private FreezePolicy(LayerPlan plan, TuningMethod method, Pattern trainOnly, List<Pattern> frozen) {
        this.plan = plan;
        this.method = method;
        this.trainOnly = trainOnly;
        this.frozen = List.copyOf(frozen);
    }

    /** The policy of a layer plan and a method: what the method trains in the plan's tuned layers, and the head. */
    public static FreezePolicy of(LayerPlan plan, TuningMethod method) {
        return new FreezePolicy(java.util.Objects.requireNonNull(plan, "plan"), java.util.Objects.requireNonNull(method, "method"),
                null, List.of());
    }

    /** {@link #of(LayerPlan, TuningMethod)} with the plan's mode's method at its default options. */
    public static FreezePolicy of(LayerPlan plan) {
        return of(plan, TuningMethods.defaults(plan.mode()));
    }

    /** A name-based policy: a parameter trains iff its whole name matches {@code regex}. */
    public static FreezePolicy matching(String regex) {
        return new FreezePolicy(null, null, Pattern.compile(regex), List.of());
    }

    /** This policy, additionally freezing every parameter whose whole name matches {@code regex}. */
    public FreezePolicy exceptMatching(String regex) {
        List<Pattern> f = new ArrayList<>(frozen);
        f.add(Pattern.compile(regex));
        return new FreezePolicy(plan, method, trainOnly, f);
    }

    /** The plan of a plan-based policy, or null for a name-based one. */
    public LayerPlan plan() { return plan; }

    /**
     * Inserts the method's modules (adapters, LoRA) into the layers the plan tunes, initialised from {@code rng}
     * ({@link TuningMethod#insert}). Modifies the encoder; a no-op for a name-based policy.
     */
    public void insert(Encoder encoder, Random rng) {
        if (plan != null) method.insert(encoder, plan, rng);
    }

    /**
     * Sets {@link Parameter#setTrainable} on every parameter of the model and of the encoder (its own pooler and the
     * layers above the head: false). Fails if the model's head is not on the plan's head layer, or if the method finds a
     * tuned layer without its modules ({@link TuningMethod#trainable}). Modifies the parameters' trainable flags.
     */
    public void apply(SequenceClassifier model) {
        Encoder enc = model.encoder();
        for (Parameter p : enc.parameters()) p.setTrainable(false);       // layers above the head, pooler
        if (plan == null) {
            for (Parameter p : model.parameters()) p.setTrainable(trainOnly.matcher(p.name()).matches() && !extraFrozen(p));
            return;
        }
        if (model.headLayer() != plan.headLayer()) {
            throw new IllegalArgumentException(plan.mode() + " plan puts the head on layer " + plan.headLayer()
                    + " but the model's head is on layer " + model.headLayer());
        }
        Set<Parameter> trains = new HashSet<>(model.head().parameters());
        trains.addAll(method.trainable(enc, plan));
        for (Parameter p : model.parameters()) p.setTrainable(trains.contains(p) && !extraFrozen(p));
    }

    private boolean extraFrozen(Parameter p) {
        for (Pattern f : frozen) if (f.matcher(p.name()).matches()) return true;
        return false;
    }
}

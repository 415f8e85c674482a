package org.varitune.training.method;

import org.varitune.training.LayerPlan;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * A tuning method as HF PEFT shapes one: a config plus one module class. The {@link LayerPlan} says which layers are
 * tuned; the method says what that means inside them. It inserts its modules at the hook points of those layers
 * ({@link org.varitune.transformer.layers.EncoderLayer#linear} for a {@link
 * org.varitune.transformer.layers.Linear.Delta}, the adapter sites), names the encoder parameters that train (the
 * head's always do), and writes its own files into an export. Its options ({@link MethodOption}: flag, YAML key, help)
 * are declared in its class. {@link TuningMethods} builds the method of a run; adding one is its class plus a line
 * there ({@code docs/adding-a-tuning-method.md}).
 */
public interface TuningMethod {

    /**
     * Inserts this method's modules into the layers {@code plan} tunes, bottom layer first, initialised from
     * {@code rng}. Modifies the encoder. Default: nothing to insert.
     */
    default void insert(Encoder encoder, LayerPlan plan, Random rng) {}

    /**
     * The encoder parameters that train under {@code plan} (the head's are added by the caller); every other encoder
     * parameter is frozen.
     *
     * @throws IllegalStateException when a tuned layer lacks the modules {@link #insert} puts there
     */
    Set<Parameter> trainable(Encoder encoder, LayerPlan plan);

    /**
     * Writes this method's own files into an export directory (LoRA: PEFT's unmerged adapter), after the merged
     * checkpoint. Default: none.
     *
     * @param sourceModelDir the HF directory the model was tuned from
     */
    default void exportExtras(SequenceClassifier model, Path sourceModelDir, Path exportDir) throws IOException {}

    /** One line for logs and metrics.json. */
    String describe();

    /**
     * This method's resolved options in one line, recorded in the run record (and so in the fingerprint) under the
     * mode's name ({@code lora: r=8,alpha=8.0,...}); empty for a method without options (default).
     */
    default Optional<String> recordedOptions() { return Optional.empty(); }

    /**
     * Whether the method tunes every layer 1..l up to the head, whatever k says (LoRA with {@code --lora-layers all});
     * the run's plan then tunes 1..l. Default false: the plan's block M−k+1..M.
     */
    default boolean tunesEveryLayerToTheHead() { return false; }
}

package org.varitune.training.method;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.varitune.training.SequenceClassifier;
import org.varitune.transformer.io.Spelled;
import org.varitune.transformer.model.Encoder;
import org.varitune.transformer.tensor.Parameter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A tuning method's modules that an export keeps apart from HF's tensors, because HF's
 * {@code <Family>ForSequenceClassification} has no place for them (adapters: {@link AdapterTuning#EXPORT}). LoRA
 * needs none: it is merged into HF's weights. An export holding such modules writes
 * <ul>
 *   <li>their description into {@code config.json} under {@code varitune.<key()>} ({@code varitune.adapters}; null
 *       when the model holds none), which names varitune's own architecture, as HF's class does not compute them;</li>
 *   <li>their tensors, under their own names (no encoder prefix), into {@link #file()} beside
 *       {@code model.safetensors}, which holds none of them, with {@link #metadata} in its header.</li>
 * </ul>
 * {@code org.varitune.training.export.ModelExport} reads and writes every kind registered in
 * {@link TuningMethods#exportedModules()} through these methods alone. A description is a JSON object; two models
 * with equal modules (same places, same shapes, same options) have equal descriptions, whatever format wrote them.
 */
public interface ExportedModules {

    /** The key of the description under the {@code varitune} object of {@code config.json}, e.g. {@code adapters}. */
    String key();

    /** The file beside {@code model.safetensors} that holds the tensors, e.g. {@code adapters.safetensors}. */
    String file();

    /**
     * The description of the modules {@code model} holds in its layers 1..{@link SequenceClassifier#headLayer()} (the
     * layers an export keeps), as written into {@code config.json}; empty when it holds none. Modifies nothing.
     *
     * @throws IllegalArgumentException when one description cannot hold them (adapters: sites or activation differ
     *                                  across layers), naming the layers
     */
    Optional<ObjectNode> describe(SequenceClassifier model);

    /**
     * The tensors to write into {@link #file()}, in the kept layers, none of them written into
     * {@code model.safetensors}; empty when the model holds none of these modules.
     */
    List<Parameter> parameters(SequenceClassifier model);

    /** The header metadata of {@link #file()} for {@code description} (as {@link #describe} or {@link #read} give it). */
    Map<String, String> metadata(ObjectNode description);

    /**
     * Validates a description read from {@code config.json} and returns it in the current form, so that it equals the
     * {@link #describe} of the same modules (an older format's fields and enum names rewritten). Modifies nothing.
     *
     * @param description   the non-null JSON under {@code varitune.<key()>}
     * @param formatVersion the export's {@code varitune.format_version}
     *                      ({@code org.varitune.training.export.ExportInfo#FORMAT_VERSION} and below)
     * @param headLayer     the export's head layer: the modules must lie in layers 1..headLayer
     * @throws IllegalArgumentException naming the field ({@code varitune.adapters.layers}) and the value
     */
    ObjectNode read(JsonNode description, int formatVersion, int headLayer);

    /**
     * Inserts the modules {@code description} (as {@link #read} returns it) describes into {@code encoder} and fills
     * them from {@code file}. Modifies the encoder.
     *
     * @throws IOException naming {@code file}: missing or unreadable, its metadata disagreeing with the description,
     *                     a tensor missing, misshapen or unused, a module in a layer beyond the encoder
     */
    void load(Encoder encoder, ObjectNode description, Path file) throws IOException;

    /**
     * An enum value as export format {@code formatVersion} wrote it: its {@link Spelled} spelling from version 3, its
     * Java name in versions 1 and 2.
     *
     * @param where the key in errors, e.g. {@code varitune.adapters.activation}
     * @throws IllegalArgumentException naming {@code where}, the text and the accepted values
     */
    static <E extends Enum<E> & Spelled> E enumValue(Class<E> type, String text, int formatVersion, String where) {
        if (formatVersion >= 3) return Spelled.parse(type, text, where);
        try {
            return Enum.valueOf(type, text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + " '" + text + "' is not one of "
                    + Arrays.toString(type.getEnumConstants()) + " (format_version " + formatVersion + ")");
        }
    }
}

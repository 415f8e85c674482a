package org.varitune.transformer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Optional;
import java.util.Set;

/**
 * Everything varitune knows about one HF encoder architecture ({@code model_type}), in one place: its
 * {@code config.json} keys, its checkpoint prefix and tensor names, its embedding rule, the wiring of a layer, its
 * default classification head and the architecture names an export writes. The code that runs the encoder
 * ({@link Encoder}, {@link org.varitune.transformer.layers.Embeddings}, {@link WeightLoader}) asks the family and
 * never tests a model type. {@link ModelFamilies} lists the families; adding an architecture is one implementation
 * plus one line there ({@code docs/adding-an-architecture.md}).
 *
 * <p>Every family here is a post-LN encoder ({@code y = LN(x + sublayer(x))}, twice per layer) with learned absolute
 * positions; a family only names and wires the pieces.
 */
public interface ModelFamily {

    /** HF {@code model_type}, e.g. {@code bert}. */
    String modelType();

    /** The encoder's prefix in a task checkpoint ({@code bert.}); a bare encoder checkpoint has none. */
    String prefix();

    /** HF {@code architectures} entry of the bare encoder ({@code BertModel}). */
    String encoderArchitecture();

    /**
     * Reads this family's {@code config.json} keys into the common config (defaults as HF's config class has them).
     *
     * @throws IllegalArgumentException naming the key when a required key is missing, mistyped or unsupported
     */
    EncoderConfig readConfig(JsonNode root);

    /** This family's {@code config.json} keys for {@code config} (with {@code model_type} and the architecture). */
    ObjectNode writeConfig(EncoderConfig config);

    /** Whether the embeddings add {@code token_type_embeddings[tt]} (and the model reads token type ids at all). */
    boolean tokenTypes();

    /**
     * Position ids (B, T) of a batch: BERT {@code t}; RoBERTa numbers the non-pad tokens from
     * {@code padding_idx + 1}. Returns a new array.
     */
    int[] positionIds(int[] inputIds, int B, int T, EncoderConfig config);

    /**
     * The row of the position table that is HF's {@code padding_idx} (zero, receiving no gradient), if any: RoBERTa's
     * {@code pad_token_id}.
     */
    Optional<Integer> positionPaddingRow(EncoderConfig config);

    /** The longest sequence the position table allows: {@code max_position_embeddings} less any position offset. */
    default int maxSequenceLength(EncoderConfig config) { return config.maxPositionEmbeddings(); }

    /** Names and wiring of layer {@code index} (0-based, as in the tensor names). */
    LayerWiring layer(int index);

    /**
     * The 0-based layer index a tensor name (without prefix) belongs to, or empty when it is not a layer's tensor
     * (embeddings, pooler, head).
     */
    Optional<Integer> layerIndex(String localName);

    /** Top-level modules of the encoder's namespace ({@code embeddings}, {@code encoder}, {@code pooler}). */
    Set<String> encoderRoots();

    /** Tensors of the encoder's namespace that are buffers, not parameters ({@code embeddings.position_ids}). */
    default Set<String> buffers() { return Set.of("embeddings.position_ids", "embeddings.token_type_ids"); }

    /** The encoder's pooler Linear ({@code pooler.dense}), if the family has one. */
    Optional<String> pooler();

    /** The HF {@code *ForSequenceClassification} head of this family. */
    HeadSpec head();
}

package org.varitune.transformer.model;

import java.util.List;

/**
 * What a forward pass returns. {@code hiddenStates} follows HF's {@code output_hidden_states=True} order: index 0 is
 * the embeddings output, index l the output of layer l (1-based), each (B, T, C) row-major; when the forward stopped
 * at layer l it holds l + 1 entries. {@code pooled} is (B, C) when a pooler ran, else null.
 */
public record EncoderOutput(List<float[]> hiddenStates, float[] pooled, int batch, int seq, int hidden) {
    /** The last computed hidden state, (B, T, C). */
    public float[] last() { return hiddenStates.get(hiddenStates.size() - 1); }

    /** Number of layers run (hiddenStates.size() − 1). */
    public int layers() { return hiddenStates.size() - 1; }
}

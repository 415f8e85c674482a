package org.varitune.transformer.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Named tensors from a checkpoint, read by exact HF name: one safetensors file ({@link SafetensorsFile}) or a sharded
 * checkpoint ({@link ShardedSafetensors}). {@link Safetensors#open(Path)} picks the right one. The encoder loader
 * reads through this interface only.
 *
 * <p>Asking for a name that {@link #names()} does not hold throws {@link IllegalArgumentException} naming the tensor
 * and {@link #source()}. Every read returns a fresh array that the caller owns. Close the source when done; reads
 * after {@link #close()} throw {@link IllegalStateException}.
 */
public interface WeightSource extends Closeable {

    /** @return the tensor names, sorted, without the {@code __metadata__} key; unmodifiable */
    Set<String> names();

    /**
     * @param name exact tensor name
     * @return true when {@code name} is one of {@link #names()}
     */
    default boolean contains(String name) {
        return names().contains(name);
    }

    /**
     * The header entry of one tensor.
     *
     * @param name exact tensor name
     * @return its dtype, shape and byte range
     * @throws IllegalArgumentException when the name is absent (the message names it and the file)
     * @throws IOException              when a shard holding it cannot be opened or is inconsistent with its index
     */
    TensorInfo info(String name) throws IOException;

    /**
     * Reads a floating-point tensor into a new row-major array: F32 as stored, F16 and BF16 widened exactly
     * (subnormals, infinities and NaN kept), F64 rounded to the nearest float.
     *
     * @param name exact tensor name
     * @return the values, length {@code info(name).numel()}
     * @throws SafetensorsFormatException when the dtype is not a float type, or the tensor is too large for one array
     * @throws IllegalArgumentException   when the name is absent
     */
    float[] readFloat(String name) throws IOException;

    /**
     * Reads an integer tensor into a new row-major array: I64 as stored; I32, I16, I8 sign-extended; U32, U16, U8 and
     * BOOL zero-extended.
     *
     * @param name exact tensor name
     * @return the values, length {@code info(name).numel()}
     * @throws SafetensorsFormatException when the dtype is not an integer type readable as long
     * @throws IllegalArgumentException   when the name is absent
     */
    long[] readLong(String name) throws IOException;

    /** @return the string-to-string metadata (a file's {@code __metadata__}, or an index's {@code metadata}); unmodifiable */
    Map<String, String> metadata();

    /** @return the file this source was opened from: the {@code .safetensors} file or the index json */
    Path source();

    /** Releases the file handles (and, for shards, every opened shard). Idempotent. */
    @Override
    void close() throws IOException;
}

/**
 * Reading and writing checkpoints in the safetensors format.
 *
 * <ul>
 *   <li>{@link org.varitune.transformer.io.Safetensors#open} opens a {@code .safetensors} file, a sharded
 *       checkpoint's {@code model.safetensors.index.json}, or an HF model directory, as a
 *       {@link org.varitune.transformer.io.WeightSource} that the encoder loader reads by exact HF tensor name.</li>
 *   <li>{@link org.varitune.transformer.io.SafetensorsFile} memory-maps one file in windows of at most 1 GiB and
 *       validates its header on open; {@link org.varitune.transformer.io.ShardedSafetensors} opens shards on first
 *       use and checks each against the index.</li>
 *   <li>{@link org.varitune.transformer.io.SafetensorsWriter} writes F32, BF16, F64, I64 and I32 tensors atomically.</li>
 * </ul>
 *
 * Malformed input fails with {@link org.varitune.transformer.io.SafetensorsFormatException}, whose message names the
 * file and the tensor or key.
 */
package org.varitune.transformer.io;

package org.varitune.transformer.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Entry point for reading checkpoints in safetensors form, whatever their layout. */
public final class Safetensors {
    /** File name of a single-file checkpoint in an HF model directory. */
    public static final String SINGLE_FILE = "model.safetensors";
    /** File name of a sharded checkpoint's index in an HF model directory. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private Safetensors() {}

    /**
     * Opens a checkpoint:
     * <ul>
     *   <li>a file whose name ends in {@code .json}: a sharded checkpoint's index ({@link ShardedSafetensors});</li>
     *   <li>any other file: one safetensors file ({@link SafetensorsFile});</li>
     *   <li>a directory: its {@value #SINGLE_FILE} if present, else its {@value #INDEX_FILE}.</li>
     * </ul>
     *
     * @param path a file or an HF model directory
     * @return an open source; the caller closes it
     * @throws NoSuchFileException when the path does not exist, or a directory holds neither file (the message
     *                             lists both names looked for)
     */
    public static WeightSource open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) return SafetensorsFile.open(single);
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) return ShardedSafetensors.open(index);
            String hint = Files.exists(path.resolve("pytorch_model.bin")) || Files.exists(path.resolve("pytorch_model.bin.index.json"))
                    ? "; it has PyTorch pickle weights (pytorch_model.bin), which varitune does not read: save the model "
                      + "with safe_serialization=True or convert it to safetensors"
                    : "";
            throw new NoSuchFileException(path.toString(), null,
                    "model directory holds neither " + SINGLE_FILE + " nor " + INDEX_FILE + hint);
        }
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such safetensors file, index or model directory");
        }
        Path name = path.getFileName();
        if (name != null && name.toString().endsWith(".json")) return ShardedSafetensors.open(path);
        return SafetensorsFile.open(path);
    }
}

package io.github.nablagfn.examples.train;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The shipped weights are classpath resources; the loaders read files, so they are copied out first. */
public final class Resources {
  private Resources() {}

  /**
   * Copies the classpath resource {@code name} (e.g. {@code /weights/classifier-mnist.safetensors}) to a
   * temporary file in {@code dir} (the system temp directory if null), deleted on exit; a missing resource
   * is an IOException naming it.
   */
  public static Path copy(String name, Path dir) throws IOException {
    try (InputStream in = Resources.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("resource " + name + " is not on the classpath (rebuild with bin/nabla, or pass a file)");
      }
      Path tmp = dir == null ? Files.createTempFile("resource-", ".safetensors")
          : Files.createTempFile(dir, "resource-", ".safetensors");
      tmp.toFile().deleteOnExit();
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      return tmp;
    }
  }

  /**
   * The tensors of a safetensors file whose names start with {@code prefix}, with the prefix removed
   * (a pretraining checkpoint keeps the weights under {@code param.} and {@code ema.}); "" takes them all.
   */
  public static java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> tensors(Path file, String prefix)
      throws IOException {
    java.util.Map<String, org.nd4j.linalg.api.ndarray.INDArray> out = new java.util.LinkedHashMap<>();
    io.github.nablagfn.core.io.Safetensors.read(file).tensors().forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
  }
}

package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.io.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates the PyTorch twin's fixtures in {@code ../shared/bench/torch-twin/fixtures} beside the
 * checkout (system property {@code nabla.shared.dir}, set by the build, or found by walking up from
 * the working directory) and reads them with our own safetensors reader.
 */
public final class TwinFixtures {
  private TwinFixtures() {}

  /** The fixtures directory; fails the test with a clear message when it is missing. */
  public static Path dir() {
    String prop = System.getProperty("nabla.shared.dir");
    if (prop != null) {
      Path p = Paths.get(prop, "bench", "torch-twin", "fixtures");
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    Path cur = Paths.get("").toAbsolutePath();
    while (cur != null) {
      Path p = cur.resolve("shared").resolve("bench").resolve("torch-twin").resolve("fixtures");
      if (Files.isDirectory(p)) {
        return p;
      }
      cur = cur.getParent();
    }
    throw new IllegalStateException("PyTorch twin fixtures not found: expected ../shared/bench/torch-twin/fixtures"
        + " beside the repository (or -Dnabla.shared.dir=<shared dir>)");
  }

  /** Reads one fixture file, e.g. {@code "scheduler.safetensors"}. */
  public static Safetensors.Contents read(String name) {
    try {
      return Safetensors.read(dir().resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

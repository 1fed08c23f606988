package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.io.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The PyTorch twin's fixtures (golden inputs and outputs of a PyTorch reference implementation of
 * the same models; see {@code docs/design.md}, "The twin"), shipped in this module's test resources
 * under {@code twin-fixtures/} with a README giving their provenance and SHA-256 digests.
 *
 * <p>They are read from the test classpath: as files when the resources are a directory (this
 * module's own tests), or copied once per JVM into a temporary directory when they come inside the
 * test jar (the other modules' tests), since the model loaders take file paths.
 */
public final class TwinFixtures {
  /** Every file of the fixture set, as the twin names them. */
  public static final List<String> FILES = List.of("classifier.safetensors", "f32_vs_f64_errors.json",
      "flow.safetensors", "nabla_transition.safetensors", "scheduler.safetensors", "unet.safetensors",
      "unet_forward.safetensors", "unet_policy.safetensors");
  private static final String ROOT = "twin-fixtures/";
  private static Path dir;

  private TwinFixtures() {}

  /** The directory holding every file of {@link #FILES}; fails with a message naming what is missing. */
  public static synchronized Path dir() {
    if (dir == null) {
      dir = locate();
    }
    return dir;
  }

  private static Path locate() {
    ClassLoader loader = TwinFixtures.class.getClassLoader();
    URL readme = loader.getResource(ROOT + "README.md");
    if (readme == null) {
      throw new IllegalStateException("PyTorch twin fixtures not found: expected the test resource directory "
          + ROOT + " (nabla-core/src/test/resources/" + ROOT + ") on the test classpath");
    }
    try {
      if ("file".equals(readme.getProtocol())) {
        Path d = Paths.get(readme.toURI()).getParent();
        for (String f : FILES) {
          if (!Files.isRegularFile(d.resolve(f))) {
            throw new IllegalStateException("PyTorch twin fixture missing: " + d.resolve(f));
          }
        }
        return d;
      }
      Path d = Files.createTempDirectory("nabla-twin-fixtures");
      d.toFile().deleteOnExit();
      for (String f : copied()) {
        try (InputStream in = loader.getResourceAsStream(ROOT + f)) {
          if (in == null) {
            throw new IllegalStateException("PyTorch twin fixture missing from the test classpath: " + ROOT + f
                + " (beside " + readme + ")");
          }
          Path target = d.resolve(f);
          Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
          target.toFile().deleteOnExit();
        }
      }
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException("copying the PyTorch twin fixtures out of " + readme, e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException("unreadable fixture location " + readme, e);
    }
  }

  private static List<String> copied() {
    List<String> all = new java.util.ArrayList<>(FILES);
    all.add("README.md");
    return all;
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

package io.github.nablagfn.core.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends one JSON object per iteration to a file (JSON Lines), flushed after every line. Keys are the
 * {@link IterationRecord} components in snake_case ({@code iteration}, {@code loss_forward},
 * {@code reward_mean}, {@code wall_millis}, ...), written by Jackson: numbers in the JSON format whatever
 * the default locale, a non-finite value as the string {@code "NaN"} / {@code "Infinity"}. docs/metrics.md
 * lists every key.
 */
public final class JsonlListener implements TrainingListener, AutoCloseable {
  private static final ObjectMapper JSON = mapper();

  /** A new mapper configured as for every metrics file nabla writes: record components as snake_case keys. */
  public static ObjectMapper mapper() {
    return new ObjectMapper()
        .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
  }
  private final BufferedWriter out;

  public JsonlListener(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND);
  }

  @Override
  public void onIteration(IterationRecord r) {
    try {
      out.write(JSON.writeValueAsString(r));
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}

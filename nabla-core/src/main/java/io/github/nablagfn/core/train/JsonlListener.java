package io.github.nablagfn.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends one JSON object per iteration to a file (JSON Lines), each line written as soon as its iteration
 * ends. Keys are those of {@link IterationRecord#toJson()} ({@code iteration}, {@code loss_<term>} per named
 * loss term, {@code reward_mean}, {@code wall_millis}, ...), written by Jackson: numbers in the
 * JSON format whatever the default locale, a non-finite value as the string {@code "NaN"} /
 * {@code "Infinity"}. docs/metrics.md lists every key.
 *
 * <p>Made for resumed runs: an existing file is continued, not replaced. A last line cut short by a kill is
 * removed when the listener opens the file, and when an iteration is recorded again (a run resumed from a
 * checkpoint older than its last metrics line) the lines from that iteration on are replaced, so the file
 * holds each iteration once, in order.
 */
public final class JsonlListener implements TrainingListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JsonlListener.class);
  private static final ObjectMapper JSON = mapper();
  private final Path file;
  private final FileChannel out;
  /** Per line already in the file: its iteration and where it starts. */
  private final List<long[]> lines = new ArrayList<>();

  /** A new mapper configured as for every metrics file nabla writes: record components as snake_case keys. */
  public static ObjectMapper mapper() {
    return new ObjectMapper()
        .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
  }

  public JsonlListener(Path file) throws IOException {
    this.file = file;
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    this.out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      scan();
    } catch (IOException | RuntimeException e) {
      out.close();
      throw e;
    }
  }

  /** Indexes the existing lines; cuts a torn last line off. A damaged line before the last is an error. */
  private void scan() throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int start = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      String line = new String(bytes, start, end - start, StandardCharsets.UTF_8);
      boolean complete = end < bytes.length;
      long iteration = -1;
      try {
        JsonNode n = line.isBlank() ? null : JSON.readTree(line);
        if (n != null && n.path("iteration").canConvertToLong()) {
          iteration = n.path("iteration").asLong();
        }
      } catch (IOException e) {
        iteration = -1;
      }
      if (!line.isBlank() && (iteration < 0 || !complete)) {
        if (complete && end + 1 < bytes.length) {
          throw new IOException(file + ": byte " + start + " starts a line that is not an iteration record: " + line);
        }
        LOG.warn("{}: removing its last line, cut short by an interrupted write: {}", file, line);
        out.truncate(start);
        break;
      }
      if (!line.isBlank()) {
        lines.add(new long[] {iteration, start});
      }
      start = end + 1;
    }
    out.position(out.size());
  }

  @Override
  public void onIteration(IterationRecord r) {
    try {
      int from = lines.size();
      while (from > 0 && lines.get(from - 1)[0] >= r.iteration()) {
        from--;
      }
      if (from < lines.size()) {
        long cut = lines.get(from)[1];
        lines.subList(from, lines.size()).clear();
        out.truncate(cut);
        out.position(cut);
      }
      lines.add(new long[] {r.iteration(), out.position()});
      ByteBuffer buf = ByteBuffer.wrap((JSON.writeValueAsString(r) + "\n").getBytes(StandardCharsets.UTF_8));
      while (buf.hasRemaining()) {
        out.write(buf);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not append iteration " + r.iteration() + " to " + file, e);
    }
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}

package io.github.nablagfn.core.train;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.io.FaultPoints;
import io.github.nablagfn.core.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Trainer checkpoints in a directory: {@code checkpoint-NNNNNNNN.safetensors} (parameters and optimizer
 * states) and its manifest {@code checkpoint-NNNNNNNN.json} (format, iteration, SHA-256 of the tensor
 * file, configuration, provenance, history). Both are written to a temporary file and renamed, the
 * manifest last, so a checkpoint exists only once it is complete; the newest manifest names the
 * checkpoint to resume from. Loading verifies the checksum and refuses a corrupt file.
 */
final class Checkpoints {
  static final String FORMAT = "nabla-checkpoint-v1";
  private static final Pattern MANIFEST = Pattern.compile("checkpoint-(\\d{8})\\.json");
  private static final Pattern TENSORS = Pattern.compile("checkpoint-(\\d{8})\\.safetensors");
  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoints() {}

  /** A loaded checkpoint. */
  record Loaded(long iteration, Map<String, INDArray> tensors, Map<String, String> config, List<IterationRecord> history,
      Path manifest) {}

  static Path tensorFile(Path dir, long iteration) {
    return dir.resolve(String.format(java.util.Locale.ROOT, "checkpoint-%08d.safetensors", iteration));
  }

  static Path manifestFile(Path dir, long iteration) {
    return dir.resolve(String.format(java.util.Locale.ROOT, "checkpoint-%08d.json", iteration));
  }

  static void write(Path dir, long iteration, Map<String, INDArray> tensors, Map<String, String> config,
      Map<String, String> provenance, List<IterationRecord> history, int keep) throws IOException {
    Files.createDirectories(dir);
    Path tensorFile = tensorFile(dir, iteration);
    Safetensors.write(tensorFile, tensors, Map.of("format", FORMAT, "iteration", Long.toString(iteration)));
    ObjectNode m = JSON.createObjectNode();
    m.put("format", FORMAT);
    m.put("iteration", iteration);
    m.put("tensors", tensorFile.getFileName().toString());
    m.put("sha256", sha256(tensorFile));
    m.set("config", JSON.valueToTree(config));
    m.set("provenance", JSON.valueToTree(provenance));
    m.set("history", JSON.valueToTree(history));
    Path manifest = manifestFile(dir, iteration);
    AtomicFiles.write(manifest, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    prune(dir, keep);
  }

  /** Iterations of the complete checkpoints in {@code dir}, newest first. */
  static List<Long> list(Path dir) throws IOException {
    List<Long> its = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return its;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(p -> {
        Matcher mt = MANIFEST.matcher(p.getFileName().toString());
        if (mt.matches()) {
          its.add(Long.parseLong(mt.group(1)));
        }
      });
    }
    its.sort((a, b) -> Long.compare(b, a));
    return its;
  }

  /**
   * Deletes all but the newest {@code keep} checkpoints, each manifest first (so a checkpoint never
   * appears complete without its tensors), and tensor files left without a manifest by an interrupted
   * write or prune (never the newest checkpoint's).
   */
  private static void prune(Path dir, int keep) throws IOException {
    List<Long> its = list(dir);
    for (int i = keep; i < its.size(); i++) {
      FaultPoints.reachPoint("before deleting checkpoint " + its.get(i));
      Files.deleteIfExists(manifestFile(dir, its.get(i)));
      FaultPoints.reachPoint("between the deletions of checkpoint " + its.get(i));
      Files.deleteIfExists(tensorFile(dir, its.get(i)));
    }
    List<Path> orphans = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(p -> {
        Matcher mt = TENSORS.matcher(p.getFileName().toString());
        if (mt.matches() && !Files.exists(manifestFile(dir, Long.parseLong(mt.group(1))))) {
          orphans.add(p);
        }
      });
    }
    for (Path p : orphans) {
      Files.deleteIfExists(p);
    }
  }

  /** The newest checkpoint, verified (a damaged one throws); empty if the directory holds none. */
  static Optional<Loaded> latest(Path dir) throws IOException {
    List<Long> its = list(dir);
    return its.isEmpty() ? Optional.empty() : Optional.of(load(manifestFile(dir, its.get(0))));
  }

  /**
   * The newest checkpoint that loads and verifies; empty if the directory holds none. Each newer one that
   * fails is passed to {@code skipped} with the reason (its file and what is wrong) and left in place. If
   * every checkpoint fails, a {@link CheckpointException} lists each with its reason: a run never starts
   * over silently.
   */
  static Optional<Loaded> newestIntact(Path dir, java.util.function.Consumer<CheckpointException> skipped)
      throws IOException {
    List<Long> its = list(dir);
    List<String> reasons = new ArrayList<>();
    for (long it : its) {
      try {
        return Optional.of(load(manifestFile(dir, it)));
      } catch (CheckpointException e) {
        reasons.add(e.getMessage());
        skipped.accept(e);
      }
    }
    if (!reasons.isEmpty()) {
      throw new CheckpointException(dir + ": no intact checkpoint among " + its.size() + ": "
          + String.join("; ", reasons));
    }
    return Optional.empty();
  }

  static Loaded load(Path manifest) throws IOException {
    JsonNode m;
    try {
      m = JSON.readTree(manifest.toFile());
    } catch (IOException e) {
      throw new CheckpointException(manifest + ": manifest is not valid JSON (" + e.getMessage() + ")", e);
    }
    if (m == null || !FORMAT.equals(m.path("format").asText())) {
      throw new CheckpointException(manifest + ": not a nabla checkpoint manifest (format = "
          + (m == null ? "none" : m.path("format").asText()) + ", expected " + FORMAT + ")");
    }
    String tensorName = m.path("tensors").asText();
    if (!tensorName.matches("checkpoint-\\d{8,}\\.safetensors")) {
      throw new CheckpointException(manifest + ": tensor file name '" + tensorName
          + "' is not a checkpoint file beside the manifest");
    }
    Path tensorFile = manifest.resolveSibling(tensorName);
    if (!Files.isRegularFile(tensorFile)) {
      throw new CheckpointException(manifest + ": its tensor file " + tensorFile.getFileName() + " is missing");
    }
    String expected = m.path("sha256").asText();
    String actual = sha256(tensorFile);
    if (!actual.equals(expected)) {
      throw new CheckpointException(tensorFile + ": checksum mismatch (SHA-256 " + actual + ", manifest says "
          + expected + "); the checkpoint is corrupt");
    }
    Map<String, INDArray> tensors = Safetensors.read(tensorFile).tensors();
    Map<String, String> config;
    List<IterationRecord> history;
    try {
      config = JSON.convertValue(m.path("config"), new TypeReference<Map<String, String>>() {});
      history = JSON.convertValue(m.path("history"), new TypeReference<List<IterationRecord>>() {});
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(manifest + ": config or history malformed (" + e.getMessage() + ")", e);
    }
    if (config == null || history == null || !m.path("iteration").canConvertToLong()) {
      throw new CheckpointException(manifest + ": config, history or iteration missing");
    }
    long iteration = m.path("iteration").asLong();
    Matcher named = MANIFEST.matcher(manifest.getFileName().toString());
    if (named.matches() && Long.parseLong(named.group(1)) != iteration) {
      throw new CheckpointException(manifest + ": iteration " + iteration + " inside, " + named.group(1)
          + " in its name; the manifest was edited or misplaced");
    }
    if (history.size() != iteration || history.contains(null)) {
      throw new CheckpointException(manifest + ": its history holds " + history.size() + " records for "
          + iteration + " iterations");
    }
    return new Loaded(iteration, tensors, config, history, manifest);
  }

  /** SHA-256 of a file, read in 1 MiB blocks (memory does not grow with the file); see {@link AtomicFiles#sha256}. */
  static String sha256(Path file) throws IOException {
    return AtomicFiles.sha256(file);
  }
}

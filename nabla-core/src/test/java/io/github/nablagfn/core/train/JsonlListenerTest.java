package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.jsonl across kills and resumes: each iteration once, in order; a torn last line dropped. */
class JsonlListenerTest {
  @TempDir Path dir;

  private static IterationRecord record(long i) {
    return new IterationRecord(i, LossTerms.of("forward_balance", 0.5 * i, "backward_balance", 0.0, "terminal", 0.0,
        "regulariser", 0.0), LossTerms.none(), 0.5 * i, i, 0, 1, 0, true, 10);
  }

  private static List<Long> iterations(Path file) throws Exception {
    ObjectMapper json = new ObjectMapper();
    return Files.readAllLines(file).stream().map(l -> {
      try {
        return json.readTree(l).get("iteration").asLong();
      } catch (Exception e) {
        throw new AssertionError("unparsable line " + l, e);
      }
    }).toList();
  }

  @Test
  void aResumedRunReplacesTheIterationsItRedoesAndATornLineIsDropped() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    try (JsonlListener l = new JsonlListener(file)) {
      for (int i = 0; i < 5; i++) {
        l.onIteration(record(i));
      }
    }
    // killed while writing iteration 5's line
    Files.writeString(file, "{\"iteration\":5,\"loss_for", StandardOpenOption.APPEND);
    // resumed from a checkpoint at iteration 3: iterations 3 and 4 are done again
    try (JsonlListener l = new JsonlListener(file)) {
      assertThat(iterations(file)).containsExactly(0L, 1L, 2L, 3L, 4L);
      l.onIteration(record(3));
      assertThat(iterations(file)).containsExactly(0L, 1L, 2L, 3L);
      l.onIteration(record(4));
      l.onIteration(record(5));
    }
    assertThat(iterations(file)).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).endsWith("\n");
  }

  @Test
  void aDamagedLineBeforeTheLastIsAnErrorNamingIt() throws Exception {
    Path file = dir.resolve("metrics.jsonl");
    Files.writeString(file, "{\"iteration\":0}\nnot json\n{\"iteration\":2}\n");
    assertThatThrownBy(() -> new JsonlListener(file)).hasMessageContaining("metrics.jsonl")
        .hasMessageContaining("not an iteration record: not json");
  }
}

package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsFilesTest {
  @TempDir Path dir;

  @Test
  void evaluationsRoundTripWithSnakeCaseKeysWhateverTheLocale() throws Exception {
    Locale before = Locale.getDefault();
    Locale.setDefault(Locale.forLanguageTag("de-DE")); // comma decimals: a printf writer would break JSON here
    try {
      Path file = dir.resolve("eval.jsonl");
      EvalRecord a = new EvalRecord(0, -0.623, 0.825, 0.039, 0.0);
      EvalRecord b = new EvalRecord(20, -0.25, 0.91, 0.028, Double.NaN);
      MetricsFiles.appendEval(file, a);
      MetricsFiles.appendEval(file, b);
      assertThat(Files.readAllLines(file).get(0))
          .isEqualTo("{\"iteration\":0,\"reward\":-0.623,\"accuracy\":0.825,\"diversity\":0.039,\"fid_to_base\":0.0}");
      assertThat(MetricsFiles.readEvals(file)).containsExactly(a, b); // NaN survives as "NaN"
      MetricsFiles.toCsv(file, dir.resolve("eval.csv"));
      assertThat(Files.readAllLines(dir.resolve("eval.csv"))).containsExactly(
          "iteration,reward,accuracy,diversity,fid_to_base", "0,-0.623,0.825,0.039,0.0", "20,-0.25,0.91,0.028,NaN");
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void aTornLastLineIsSkippedAndABrokenMiddleLineNamed() throws Exception {
    Path file = dir.resolve("eval.jsonl");
    MetricsFiles.appendEval(file, new EvalRecord(0, 1, 0.5, 0.1, 0));
    Files.writeString(file, "{\"iteration\":5,\"rew", java.nio.file.StandardOpenOption.APPEND); // killed mid-write
    MetricsFiles.toCsv(file, dir.resolve("eval.csv")); // the CSV copy leaves the torn line out
    assertThat(Files.readAllLines(dir.resolve("eval.csv"))).hasSize(2);
    assertThat(MetricsFiles.readEvals(file)).hasSize(1);
    // reading repaired the file: the next evaluation starts its own line
    MetricsFiles.appendEval(file, new EvalRecord(5, 2, 0.6, 0.1, 1));
    assertThat(MetricsFiles.readEvals(file)).extracting(EvalRecord::iteration).containsExactly(0L, 5L);

    Files.write(file, List.of("{\"iteration\":0,\"reward\":1,\"accuracy\":0.5,\"diversity\":0.1,\"fid_to_base\":0}",
        "garbage", "{\"iteration\":1,\"reward\":1,\"accuracy\":0.5,\"diversity\":0.1,\"fid_to_base\":0}"));
    assertThatThrownBy(() -> MetricsFiles.readEvals(file)).hasMessageContaining("eval.jsonl line 2");
  }
}

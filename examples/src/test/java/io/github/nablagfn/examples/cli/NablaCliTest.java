package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end at toy sizes: files written, exit codes, errors naming the option. */
class NablaCliTest {
  @TempDir Path dir;

  @Test
  void quickstartWritesTheRunDirectory() throws Exception {
    int code = Nabla.run("quickstart", "--base", TwinFixtures.dir().resolve("unet.safetensors").toString(),
        "--runs-dir", dir.toString(), "--name", "tiny", "--iterations", "2", "--batch", "2", "--steps", "4",
        "--eval-every", "1", "--eval-per-class", "2");
    assertThat(code).isZero();
    Path run = dir.resolve("tiny");
    for (String f : new String[] {"config.json", "metrics.jsonl", "eval.jsonl", "before.png", "after.png",
        "reward.png", "eval-reward.png", "eval-diversity.png", "eval-fid.png"}) {
      assertThat(run.resolve(f)).as(f).isNotEmptyFile();
    }
    List<String> evals = Files.readAllLines(run.resolve("eval.jsonl"));
    assertThat(evals).hasSize(3); // iterations 0, 1, 2
    ObjectMapper json = new ObjectMapper();
    JsonNode first = json.readTree(evals.get(0));
    assertThat(first.get("fid_to_base").asDouble()).isZero(); // the base against itself
    assertThat(json.readTree(evals.get(2)).get("iteration").asInt()).isEqualTo(2);
    assertThat(Files.readAllLines(run.resolve("metrics.jsonl"))).hasSize(2);
    assertThat(json.readTree(run.resolve("config.json").toFile()).get("iterations").asInt()).isEqualTo(2);
    try (var s = Files.list(run.resolve("checkpoints"))) {
      assertThat(s.filter(p -> p.toString().endsWith(".safetensors")).count()).isPositive();
    }
  }

  @Test
  void badOptionsExitWithTwoAndNameTheOption() {
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured));
    try {
      assertThat(Nabla.run("quickstart", "--batch", "0", "--runs-dir", dir.toString())).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--no-such-option")).isEqualTo(2);
      assertThat(Nabla.run("quickstart", "--base", dir.resolve("missing.safetensors").toString(),
          "--runs-dir", dir.toString())).isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    assertThat(captured.toString()).contains("--batch = 0; expected >= 1").contains("--no-such-option")
        .contains("missing.safetensors");
  }

  @Test
  void everySubcommandHasHelp() {
    for (String c : new String[] {"quickstart", "pretrain", "train-reward", "sample", "bench"}) {
      assertThat(Nabla.run(c, "--help")).as(c).isZero();
    }
  }
}

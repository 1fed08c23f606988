package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.github.nablagfn.core.io.SafetensorsException;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of a real checkpoint (its JSON manifest and its tensor file: bit flips, byte
 * overwrites, truncation, edited fields): loading either succeeds or fails with a
 * {@link CheckpointException} (or the tensor reader's {@link SafetensorsException}) naming the file,
 * within 2 s. Longer run: {@code -Dfuzz.cases=N}.
 */
class CheckpointFuzzTest {
  private static final int CASES = Integer.getInteger("fuzz.cases", 1000);
  @TempDir Path dir;

  @Test
  void mutatedCheckpointsLoadOrFailNamingTheFile() throws IOException {
    Path src = dir.resolve("src");
    NablaTrainer.builder()
        .policy(MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 1, 4, 0, PredictionType.EPSILON), Rng.of(1)))
        .flow(FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 1, 4, 0, PredictionType.EPSILON)
            .withZeroOutput(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 4)).reward(new LinearReward(new double[] {1, 0}).scaled(1))
        .objective(Objectives.residualNablaDb()).batchSize(2).seed(1).checkpointDir(src).build().fit(1);
    byte[] manifest = Files.readAllBytes(Checkpoints.manifestFile(src, 1));
    byte[] tensors = Files.readAllBytes(Checkpoints.tensorFile(src, 1));
    String text = new String(manifest, StandardCharsets.UTF_8);
    String[] edits = {"\"iteration\"", "\"sha256\"", "\"tensors\"", "\"config\"", "\"history\"", "\"format\""};
    for (int i = 0; i < CASES; i++) {
      Rng rng = Rng.of(7000 + i);
      Path d = dir.resolve("c" + i);
      Files.createDirectories(d);
      byte[] m = manifest.clone();
      byte[] t = tensors.clone();
      switch (rng.nextInt(5)) {
        case 0 -> flip(m, rng);
        case 1 -> flip(t, rng);
        case 2 -> m = Arrays.copyOf(m, rng.nextInt(m.length));
        case 3 -> t = Arrays.copyOf(t, rng.nextInt(t.length));
        default -> { // a field's value replaced by something of another kind
          String key = edits[rng.nextInt(edits.length)];
          String value = new String[] {"null", "-1", "\"../../etc/passwd\"", "[]", "{}", "1e999", "\"x\""}[rng.nextInt(7)];
          int at = text.indexOf(key);
          int colon = text.indexOf(':', at);
          int end = colon + 1;
          int depth = 0;
          boolean inString = false;
          for (; end < text.length(); end++) { // the end of this value
            char ch = text.charAt(end);
            if (ch == '"' && text.charAt(end - 1) != '\\') {
              inString = !inString;
            } else if (!inString && (ch == '{' || ch == '[')) {
              depth++;
            } else if (!inString && (ch == '}' || ch == ']')) {
              if (depth == 0) {
                break;
              }
              depth--;
            } else if (!inString && depth == 0 && ch == ',') {
              break;
            }
          }
          m = (text.substring(0, colon + 1) + " " + value + text.substring(end)).getBytes(StandardCharsets.UTF_8);
        }
      }
      Files.write(Checkpoints.manifestFile(d, 1), m);
      Files.write(Checkpoints.tensorFile(d, 1), t);
      assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
        try {
          Checkpoints.latest(d);
        } catch (CheckpointException | SafetensorsException e) {
          assertThat(e.getMessage()).as("names the file").contains(d.toString());
        } catch (IOException | RuntimeException e) {
          throw new AssertionError("case " + " not our exception: " + e, e);
        }
      });
    }
  }

  private static void flip(byte[] b, Rng rng) {
    for (int e = 1 + rng.nextInt(3); e > 0; e--) {
      int p = rng.nextInt(b.length);
      b[p] = rng.nextInt(2) == 0 ? (byte) (b[p] ^ (1 << rng.nextInt(8))) : (byte) rng.nextInt(256);
    }
  }
}

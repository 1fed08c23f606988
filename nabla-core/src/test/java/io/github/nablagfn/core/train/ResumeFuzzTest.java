package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The resume-time checks, fuzzed: seeded edits of a real checkpoint that keep it intact for the loader
 * (checksum recomputed) but change what it holds — a configuration value changed or removed, a tensor
 * removed, reshaped, retyped, added or replaced by non-finite values, the iteration or the history
 * edited. A trainer resuming from it either resumes or refuses with an exception naming the checkpoint,
 * within 2 s per case, never anything else. Longer run: {@code -Dfuzz.cases=N}.
 */
class ResumeFuzzTest {
  private static final int CASES = Integer.getInteger("fuzz.cases", 1000);
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static NablaTrainer.Builder builder(Path ckpt) {
    return NablaTrainer.builder()
        .policy(MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 1, 4, 0, PredictionType.EPSILON), Rng.of(1)))
        .flow(FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 1, 4, 0, PredictionType.EPSILON)
            .withZeroOutput(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 4)).reward(new LinearReward(new double[] {1, 0}).scaled(1))
        .objective(Objectives.residualNablaDb()).batchSize(2).seed(1).checkpointDir(ckpt);
  }

  @Test
  void editedButIntactCheckpointsResumeOrAreRefusedNamingThem() throws Exception {
    Path src = dir.resolve("src");
    builder(src).build().fit(2);
    ObjectNode manifest = (ObjectNode) JSON.readTree(Checkpoints.manifestFile(src, 2).toFile());
    Map<String, INDArray> tensors = Safetensors.read(Checkpoints.tensorFile(src, 2)).tensors();
    List<String> configKeys = new ArrayList<>();
    manifest.path("config").fieldNames().forEachRemaining(configKeys::add);
    List<String> names = new ArrayList<>(tensors.keySet());
    int resumed = 0;
    int refused = 0;
    for (int i = 0; i < CASES; i++) {
      Rng rng = Rng.of(9100 + i);
      Path d = dir.resolve("c" + i);
      Files.createDirectories(d);
      ObjectNode m = manifest.deepCopy();
      Map<String, INDArray> t = new LinkedHashMap<>(tensors);
      String name = names.get(rng.nextInt(names.size()));
      switch (rng.nextInt(8)) {
        case 0 -> ((ObjectNode) m.get("config")).put(configKeys.get(rng.nextInt(configKeys.size())),
            new String[] {"", "0", "x", "ddpm", "-1", "NaN", "1e308"}[rng.nextInt(7)]);
        case 1 -> ((ObjectNode) m.get("config")).remove(configKeys.get(rng.nextInt(configKeys.size())));
        case 2 -> t.remove(name);
        case 3 -> t.put(name, Nd4j.zeros(DataType.FLOAT, t.get(name).length() + 1 + rng.nextInt(3)));
        case 4 -> t.put(name, t.get(name).castTo(rng.nextInt(2) == 0 ? DataType.DOUBLE : DataType.INT));
        case 5 -> t.put(rng.nextInt(2) == 0 ? "policy.extra.weight" : "opt.flow.m.nope", Nd4j.ones(2));
        case 6 -> t.put(name, t.get(name).dup().assign(new double[] {Double.NaN, Double.POSITIVE_INFINITY}[rng.nextInt(2)]));
        default -> {
          if (rng.nextInt(2) == 0) {
            m.put("iteration", new long[] {0, 1, 3, Long.MAX_VALUE, -5}[rng.nextInt(5)]);
          } else {
            m.set("history", JSON.readTree(new String[] {"[]", "[{}]", "[{\"iteration\":\"x\"}]", "[null]"}[rng.nextInt(4)]));
          }
        }
      }
      Path tensorFile = Checkpoints.tensorFile(d, 2);
      Safetensors.write(tensorFile, t, Map.of("format", "nabla-checkpoint", "iteration", "2"));
      m.put("sha256", Checkpoints.sha256(tensorFile)); // intact for the loader: only the resume checks remain
      Files.write(Checkpoints.manifestFile(d, 2), JSON.writeValueAsBytes(m));
      int c = i;
      boolean ok = assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
        try {
          NablaTrainer trainer = builder(d).build();
          trainer.fit(2);
          return true;
        } catch (IllegalStateException | UncheckedIOException e) {
          assertThat(e.getMessage()).as("case %d names the checkpoint: %s", c, e.getMessage()).contains(d.toString());
          return false;
        } catch (RuntimeException e) {
          throw new AssertionError("case " + c + ": not a refusal naming the checkpoint: " + e, e);
        }
      });
      if (ok) {
        resumed++;
      } else {
        refused++;
      }
    }
    System.out.printf(java.util.Locale.ROOT, "[measured] resume fuzz: %d cases, %d resumed, %d refused%n", CASES,
        resumed, refused);
    assertThat(refused).as("most edits change what the trainer needs").isGreaterThan(CASES / 2);
  }
}

package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.toy.GaussianData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;

@Tag("slow")
class PretrainerTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final DataSource DATA = new GaussianData(new double[] {0.5, 0}, new double[][] {{1, 0}, {0, 0.5}});
  @TempDir Path dir;

  private static MlpDenoiser model(PredictionType p) {
    return MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, p), Rng.of(3));
  }

  private static Pretrainer trainer(MlpDenoiser m) {
    return new Pretrainer(m, SCHEDULE, AdamW.lr(1e-3).clipNorm(1.0), 32, 77);
  }

  @Test
  void resumingFromACheckpointIsBitIdenticalToAnUninterruptedRun() throws IOException {
    MlpDenoiser straight = model(PredictionType.EPSILON);
    double[] lossesStraight = trainer(straight).fit(DATA, 20);

    MlpDenoiser first = model(PredictionType.EPSILON);
    Pretrainer a = trainer(first);
    double[] l1 = a.fit(DATA, 10);
    Path ckpt = dir.resolve("pretrain.safetensors");
    a.save(ckpt);
    MlpDenoiser resumed = model(PredictionType.EPSILON); // fresh init, overwritten by load
    Pretrainer b = trainer(resumed);
    b.load(ckpt);
    assertThat(b.iteration()).isEqualTo(10);
    double[] l2 = b.fit(DATA, 10);

    for (int i = 0; i < 10; i++) {
      assertThat(l1[i]).isEqualTo(lossesStraight[i]);
      assertThat(l2[i]).isEqualTo(lossesStraight[10 + i]);
    }
    for (String name : straight.parameters().names()) {
      INDArray expected = straight.parameters().get(name);
      assertThat(resumed.parameters().get(name)).as(name).isEqualTo(expected);
    }
  }

  /**
   * Each prediction type's training target and its conversion in the sampler must agree: a model
   * trained briefly with any type samples the 50-step chain's moments (loose 10 % allowance for a
   * short run; a wrong target or sign gives a different distribution altogether).
   */
  @ParameterizedTest
  @EnumSource(PredictionType.class)
  void everyPredictionTypeTrainsToTheSameDistribution(PredictionType p) {
    double[] m = {0.5, 0};
    double[][] s = {{1, 0}, {0, 0.5}};
    MlpDenoiser model = MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 3, 16, 0, p), Rng.of(3));
    new Pretrainer(model, SCHEDULE, AdamW.lr(2e-3).weightDecay(0), 256, 1)
        .learningRate(io.github.nablagfn.core.optim.LearningRate.cosine(2e-3, 50, 1500, 0.05))
        .fit(new GaussianData(m, s), 1500);
    io.github.nablagfn.core.sampler.Sampler sampler = io.github.nablagfn.core.sampler.Ddim.of(SCHEDULE, 50).withPrediction(p);
    INDArray x = sampler.sample(new io.github.nablagfn.core.model.DenoiserGraph(model), Rng.of(4).gaussian(4000, 2), null, Rng.of(5));
    double[][] chain = io.github.nablagfn.core.testing.GaussianChain.moments(sampler, m, s);
    io.github.nablagfn.core.testing.SampleStats.assertGaussianMoments(p.name(), x, chain[0],
        io.github.nablagfn.core.testing.GaussianChain.unflatten(chain[1], 2), 0.10);
  }

  @Test
  void aCheckpointFromAnotherRunOrArchitectureIsRefused() throws IOException {
    Pretrainer a = trainer(model(PredictionType.EPSILON));
    a.fit(DATA, 1);
    Path ckpt = dir.resolve("a.safetensors");
    a.save(ckpt);
    Pretrainer otherSeed = new Pretrainer(model(PredictionType.EPSILON), SCHEDULE, AdamW.lr(1e-3), 32, 78);
    assertThatThrownBy(() -> otherSeed.load(ckpt)).hasMessageContaining("written with seed 77");
    MlpDenoiser wider = MlpDenoiser.create(new MlpDenoiser.Config(2, 17, 2, 8, 0, PredictionType.EPSILON), Rng.of(3));
    Pretrainer b = trainer(wider);
    assertThatThrownBy(() -> b.load(ckpt)).hasMessageContaining("has shape").hasMessageContaining("expected");
    Path junk = dir.resolve("junk.safetensors");
    Files.write(junk, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
    assertThatThrownBy(() -> b.load(junk)).hasMessageContaining("junk.safetensors");
  }

  @Test
  void emaFollowsItsRecursionAndSurvivesACheckpoint() throws IOException {
    MlpDenoiser m = model(PredictionType.EPSILON);
    Pretrainer p = trainer(m).ema(0.9);
    java.util.Map<String, double[]> expected = new java.util.HashMap<>();
    m.parameters().asMap().forEach((k, v) -> expected.put(k, v.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup().data().asDouble()));
    for (int i = 0; i < 3; i++) {
      p.step(DATA);
      for (String k : m.parameters().names()) {
        double[] e = expected.get(k);
        double[] th = m.parameters().get(k).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup().data().asDouble();
        for (int j = 0; j < e.length; j++) {
          e[j] = 0.9 * e[j] + 0.1 * th[j];
        }
      }
    }
    for (String k : m.parameters().names()) {
      double[] got = p.emaParameters().get(k).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).dup().data().asDouble();
      double[] e = expected.get(k);
      for (int j = 0; j < e.length; j++) {
        assertThat(got[j]).as("ema %s[%d]", k, j).isCloseTo(e[j], org.assertj.core.api.Assertions.within(1e-6));
      }
    }
    Path ckpt = dir.resolve("ema.safetensors");
    p.save(ckpt);
    Pretrainer q = trainer(model(PredictionType.EPSILON)).ema(0.9);
    q.load(ckpt);
    for (String k : m.parameters().names()) {
      assertThat(q.emaParameters().get(k)).isEqualTo(p.emaParameters().get(k));
    }
    Pretrainer withoutEma = trainer(model(PredictionType.EPSILON));
    withoutEma.save(dir.resolve("plain.safetensors"));
    assertThatThrownBy(() -> trainer(model(PredictionType.EPSILON)).ema(0.9).load(dir.resolve("plain.safetensors")))
        .hasMessageContaining("has no EMA weights");
  }

  @Test
  void invalidSettingsAreRejected() {
    assertThatThrownBy(() -> new Pretrainer(model(PredictionType.EPSILON), SCHEDULE, AdamW.lr(1e-3), 0, 1))
        .hasMessageContaining("batchSize = 0");
  }
}

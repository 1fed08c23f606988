package io.github.nablagfn.diffusion.guidance;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.DataSource;
import io.github.nablagfn.core.train.Pretrainer;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GuidedDenoiserTest {
  private static final UNetConfig TINY = new UNetConfig(1, 8, new int[] {8, 8}, false, 4, 8, 16, 3, false,
      PredictionType.EPSILON);
  private static final INDArray X = Rng.of(9).gaussian(3, 1, 8, 8);
  private static final int[] T = {10, 500, 990};
  private static final INDArray C = Nd4j.createFromArray(0L, 2L, 1L);

  @Test
  void scaleOneIsExactlyTheConditionalModel() {
    UNet net = UNet.create(TINY, Rng.of(1));
    assertThat(new DenoiserGraph(new GuidedDenoiser(net, 1.0)).predict(X, T, C))
        .isEqualTo(new DenoiserGraph(net).predict(X, T, C));
  }

  @Test
  void otherScalesCombineTheConditionalAndNullBranches() {
    UNet net = UNet.create(TINY, Rng.of(1));
    DenoiserGraph plain = new DenoiserGraph(net);
    INDArray cond = plain.predict(X, T, C);
    INDArray uncond = plain.predict(X, T, Nd4j.createFromArray(3L, 3L, 3L)); // null label = 3
    assertThat(cond.sub(uncond).amaxNumber().doubleValue()).as("the null class differs").isGreaterThan(1e-4);
    for (double w : new double[] {0.0, 2.5}) {
      INDArray guided = new DenoiserGraph(new GuidedDenoiser(net, w)).predict(X, T, C);
      assertRelMax("w = " + w, guided, uncond.add(cond.sub(uncond).mul(w)), 1e-5);
    }
    assertThatThrownBy(() -> new GuidedDenoiser(net, -1)).hasMessageContaining("guidance scale = -1.0");
  }

  @Test
  void labelDropoutOfOneTrainsExactlyTheNullClass() {
    DataSource labelled = (rng, n) -> new DataSource.Batch(rng.gaussian(n, 1, 8, 8), Nd4j.createFromArray(0L, 1L, 2L, 1L));
    DataSource nullOnly = (rng, n) -> new DataSource.Batch(rng.gaussian(n, 1, 8, 8), Nd4j.createFromArray(3L, 3L, 3L, 3L));
    UNet a = UNet.create(TINY, Rng.of(1));
    UNet b = UNet.create(TINY, Rng.of(1));
    new Pretrainer(a, NoiseSchedule.ddpmDefault(), AdamW.lr(1e-3), 4, 5).labelDropout(1.0).fit(labelled, 2);
    new Pretrainer(b, NoiseSchedule.ddpmDefault(), AdamW.lr(1e-3), 4, 5).fit(nullOnly, 2);
    for (String n : a.parameters().names()) {
      assertThat(a.parameters().get(n)).as(n).isEqualTo(b.parameters().get(n));
    }
  }
}

package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.GaussianChain;
import io.github.nablagfn.core.testing.SampleStats;
import io.github.nablagfn.core.toy.GaussianData;
import io.github.nablagfn.core.toy.GaussianMixtureData;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;

/**
 * ε-MSE pretraining of the toy MLP denoiser on closed-form 2-D data, then 50-step DDIM (η = 1)
 * sampling. The truth for the samples is the exact 50-step chain's distribution (see
 * {@link GaussianChain}), not the data itself: the finite-step chain under-disperses by ~17 %.
 */
@Tag("slow")
class PretrainingEndToEndTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final Sampler SAMPLER = Ddim.of(SCHEDULE, 50);

  private static MlpDenoiser pretrain(DataSource data, int iterations, int batch, double lr) {
    MlpDenoiser den = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    new Pretrainer(den, SCHEDULE, AdamW.lr(lr).weightDecay(0), batch, 5)
        .learningRate(LearningRate.cosine(lr, 100, iterations, 0.05))
        .fit(data, iterations);
    return den;
  }

  @Test
  void pretrainedOnAGaussianSamplingReproducesTheChainsMeanAndCovariance() {
    double[] m = {1.0, -0.5};
    double[][] s = {{0.5, 0.2}, {0.2, 0.3}};
    MlpDenoiser den = pretrain(new GaussianData(m, s), 3000, 256, 2e-3);
    int n = 10000;
    INDArray x = SAMPLER.sample(new DenoiserGraph(den), Rng.of(9).gaussian(n, 2), null, Rng.of(10));
    double[][] chain = GaussianChain.moments(SAMPLER, m, s);
    // 4 SE (n = 10 000: 0.007 for means, 0.005 for variances) plus 3 % of scale for the network's own error
    SampleStats.assertGaussianMoments("pretrained Gaussian", x, chain[0], GaussianChain.unflatten(chain[1], 2), 0.03);
  }

  @Test
  void pretrainedOnEightModesSamplingKeepsEveryModeWithItsWeight() {
    GaussianMixtureData data = GaussianMixtureData.circle(8, 2.0, 0.15);
    MlpDenoiser den = pretrain(data, 6000, 512, 2e-3);
    int n = 4000;
    INDArray x = SAMPLER.sample(new DenoiserGraph(den), Rng.of(11).gaussian(n, 2), null, Rng.of(12));
    int[] counts = new int[8];
    int offMode = 0;
    double[][] centres = data.centres();
    for (int i = 0; i < n; i++) {
      double[] p = x.getRow(i).toDoubleVector();
      int k = data.nearestMode(p);
      counts[k]++;
      if (Math.hypot(p[0] - centres[k][0], p[1] - centres[k][1]) > 4 * 0.15) {
        offMode++;
      }
    }
    for (int k = 0; k < 8; k++) {
      double w = data.weight(k);
      double se = Math.sqrt(w * (1 - w) / n);
      assertThat((double) counts[k] / n).as("weight of mode %d (counts %s, SE %.4f)", k,
          java.util.Arrays.toString(counts), se).isBetween(w - SampleStats.Z * se, w + SampleStats.Z * se);
    }
    // Beyond 4σ of every mode the data has mass e^{-8} ≈ 3e-4; allow the network 5 %.
    assertThat((double) offMode / n).as("fraction of samples off every mode").isLessThan(0.05);
  }
}

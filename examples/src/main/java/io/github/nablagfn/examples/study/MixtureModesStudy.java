package io.github.nablagfn.examples.study;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.QuadraticReward;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.toy.GaussianMixtureData;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Pretrainer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Mode keeping on a 2-D mixture: four equal modes on a circle of radius 2 (σ = 0.25), an MLP denoiser
 * pretrained on them, then the same budget of fine-tuning with the same β for several objectives to a
 * bounded reward that favours mode 0, R(x) = −‖x − μ₀‖²/(2w²) (w = 2.07). Tilting a Gaussian mode
 * N(μ_k, σ²I) by exp(βR) scales its mass by exp(−β‖μ_k − μ₀‖²/(2(w² + βσ²))) (the same normaliser for
 * every mode), so the target's mode weights are the reference weights times that factor, renormalised:
 * about 0.51 / 0.20 / 0.08 / 0.20 at β = 1; the study also prints the weights the objective targets exactly,
 * the pretrained chain's samples reweighted by exp(βR). Prints one JSON line per method: the measured mode weights
 * (nearest centre, 4000 samples), the target, the modes kept (weight ≥ 1 %), the mean reward; a method
 * whose update diverges is reported with the iteration. Settings (system properties): {@code beta} (1),
 * {@code iters} (300), {@code steps} (50), {@code batch} (64), {@code lr} (1e-3), {@code methods}
 * (residual-nabla-db,refl,draft-k,nabla-db), and for Residual ∇-DB {@code frac} (0.2) and {@code weighting}
 * (γ_t: ALPHA_BAR, SQRT_ALPHA_BAR or NONE); {@code decay} (false: constant learning rates; true: cosine to
 * 5 % after 50 warm-up iterations).
 */
public final class MixtureModesStudy {
  private MixtureModesStudy() {}

  static Objective objective(String name) {
    return switch (name) {
      case "residual-nabla-db" -> Objectives.residualNablaDb()
          .timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")))
          .rewardWeighting(io.github.nablagfn.core.objective.RewardWeighting.valueOf(
              System.getProperty("weighting", "ALPHA_BAR")));
      case "nabla-db" -> Objectives.nablaDb().timestepFraction(0.2);
      case "refl" -> Objectives.refl();
      case "draft-k" -> Objectives.draftK(1);
      case "draft-lv" -> Objectives.draftLv(2);
      case "align-prop" -> Objectives.alignProp();
      default -> throw new IllegalArgumentException("unknown method " + name);
    };
  }

  public static void main(String[] args) {
    NablaRuntime.init();
    double beta = Double.parseDouble(System.getProperty("beta", "1"));
    int iters = Integer.getInteger("iters", 300);
    int steps = Integer.getInteger("steps", 50);
    int batch = Integer.getInteger("batch", 64);
    double lr = Double.parseDouble(System.getProperty("lr", "1e-3"));
    boolean decay = Boolean.getBoolean("decay");
    List<String> methods = Arrays.asList(System.getProperty("methods", "residual-nabla-db,refl,draft-k,nabla-db")
        .split(","));
    GaussianMixtureData data = GaussianMixtureData.circle(4, 2.0, 0.25);
    NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
    Sampler sampler = Ddim.of(schedule, steps);
    MlpDenoiser base = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    long t0 = System.nanoTime();
    new Pretrainer(base, schedule, AdamW.lr(2e-3).weightDecay(0), 512, 5)
        .learningRate(LearningRate.cosine(2e-3, 100, 4000, 0.05)).fit(data, 4000);
    INDArray baseSamples = sample(sampler, base);
    double[] ref = weights(data, baseSamples);
    double[] isTarget = tiltedWeights(data, baseSamples, new QuadraticReward(data.centres()[0], 2.07)
        .evaluate(baseSamples, null).mul(beta).toDoubleVector());
    double width = 2.07;
    double var = 0.25 * 0.25;
    double[] c0 = data.centres()[0];
    double[] target = new double[4];
    double z = 0;
    for (int k = 0; k < 4; k++) {
      double[] c = data.centres()[k];
      double d2 = (c[0] - c0[0]) * (c[0] - c0[0]) + (c[1] - c0[1]) * (c[1] - c0[1]);
      target[k] = ref[k] * Math.exp(-beta * d2 / (2 * (width * width + beta * var)));
      z += target[k];
    }
    for (int k = 0; k < 4; k++) {
      target[k] /= z;
    }
    System.out.printf(Locale.ROOT, "{\"reference_weights\": %s, \"target_weights\": %s, "
        + "\"target_weights_is\": %s, \"beta\": %s, \"pretrain_s\": %.1f}%n", fmt(ref), fmt(target), fmt(isTarget),
        beta, (System.nanoTime() - t0) / 1e9);
    for (String m : methods) {
      MlpDenoiser policy = (MlpDenoiser) base.copy();
      Objective obj = objective(m);
      boolean flow = m.contains("nabla-db");
      NablaTrainer trainer = NablaTrainer.builder().policy(policy)
          .flow(flow ? FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, PredictionType.EPSILON)
              .withZeroOutput(), Rng.of(2))) : FlowModel.none())
          .sampler(sampler).reward(new QuadraticReward(c0, width).scaled(beta)).objective(obj)
          .policyOptimizer(AdamW.lr(lr).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
          .flowOptimizer(AdamW.lr(3 * lr).weightDecay(0).clipNorm(1.0))
          .policyLearningRate(decay ? LearningRate.cosine(lr, 50, iters, 0.05) : LearningRate.constant(lr))
          .flowLearningRate(decay ? LearningRate.cosine(3 * lr, 50, iters, 0.05) : LearningRate.constant(3 * lr))
          .batchSize(batch).seed(3).build();
      long start = System.nanoTime();
      try {
        trainer.fit(iters);
      } catch (io.github.nablagfn.core.train.NonFiniteException e) {
        System.out.printf(Locale.ROOT, "{\"method\": \"%s\", \"diverged_at\": %d, \"term\": \"%s\"}%n", m,
            e.iteration(), e.term());
        continue;
      }
      double secs = (System.nanoTime() - start) / 1e9;
      INDArray x = sample(sampler, policy);
      double[] w = weights(data, x);
      int kept = 0;
      for (double v : w) {
        kept += v >= 0.01 ? 1 : 0;
      }
      System.out.printf(Locale.ROOT, "{\"method\": \"%s\", \"iterations\": %d, \"weights\": %s, \"target\": %s, "
          + "\"modes_kept\": %d, \"reward_mean\": %.4f, \"seconds\": %.1f}%n", m, iters, fmt(w), fmt(target), kept,
          new QuadraticReward(c0, width).evaluate(x, null).meanNumber().doubleValue(), secs);
    }
  }

  private static INDArray sample(Sampler sampler, MlpDenoiser d) {
    return sampler.sample(new DenoiserGraph(d), Rng.of(11).gaussian(4000, 2), null, Rng.of(12));
  }

  /**
   * The residual objective's target mode weights from the pretrained chain's own samples: each sample
   * weighted by exp(βR(x)) (self-normalised importance sampling), summed per nearest mode.
   */
  private static double[] tiltedWeights(GaussianMixtureData data, INDArray x, double[] betaR) {
    double max = Arrays.stream(betaR).max().orElse(0);
    double[] e = Arrays.stream(betaR).map(r -> Math.exp(r - max)).toArray();
    double z = Arrays.stream(e).sum();
    return modeWeights(data, x, Arrays.stream(e).map(v -> v / z).toArray());
  }

  /** The fraction of samples nearest each mode. */
  private static double[] weights(GaussianMixtureData data, INDArray x) {
    double[] equal = new double[Math.toIntExact(x.size(0))];
    Arrays.fill(equal, 1.0 / equal.length);
    return modeWeights(data, x, equal);
  }

  /** Σ of the samples' weights per nearest mode. */
  private static double[] modeWeights(GaussianMixtureData data, INDArray x, double[] sampleWeights) {
    double[] w = new double[data.centres().length];
    for (int i = 0; i < sampleWeights.length; i++) {
      w[data.nearestMode(x.getRow(i).toDoubleVector())] += sampleWeights[i];
    }
    return w;
  }

  private static String fmt(double[] v) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      b.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%.4f", v[i]));
    }
    return b.append(']').toString();
  }
}

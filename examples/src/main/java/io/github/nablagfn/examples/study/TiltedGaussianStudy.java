package io.github.nablagfn.examples.study;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.ForwardWeighting;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.toy.GaussianData;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.IterationRecord;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Pretrainer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Residual ∇-DB on the 2-D linear-Gaussian toy of docs/design.md §4.6: pretrain an MLP denoiser on
 * N(0, sI), fine-tune to R(x) = x₁ with scale β, and print JSON lines with the sample mean and variance
 * and the learned log-flow gradient against c_t = β s √ᾱ_t / (ᾱ_t s + 1 − ᾱ_t). Settings are system
 * properties: {@code iters} (3000), {@code steps} (50), {@code frac} (0.2), {@code batch} (64), {@code beta}
 * (2.83), {@code plr} (1e-3), {@code flr} (3e-3), {@code decay} (cosine to 5 % if true, default true),
 * {@code cap} (κ of {@code ForwardWeighting.capped}; default none, the paper's score units). The learned
 * log-flow is compared with c_t at every fifth step and the last two.
 */
public final class TiltedGaussianStudy {
  private TiltedGaussianStudy() {}

  public static void main(String[] args) {
    AppRuntime.init();
    double s = 0.5;
    double beta = Double.parseDouble(System.getProperty("beta", "2.83"));
    int iters = Integer.getInteger("iters", 3000);
    int steps = Integer.getInteger("steps", 50);
    double plr = Double.parseDouble(System.getProperty("plr", "1e-3"));
    double flr = Double.parseDouble(System.getProperty("flr", "3e-3"));
    boolean decay = Boolean.parseBoolean(System.getProperty("decay", "true"));
    NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
    MlpDenoiser policy = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    new Pretrainer(policy, schedule, AdamW.lr(2e-3).weightDecay(0), 256, 5)
        .learningRate(LearningRate.cosine(2e-3, 100, 3000, 0.05))
        .fit(new GaussianData(new double[] {0, 0}, new double[][] {{s, 0}, {0, s}}), 3000);
    Sampler sampler = Ddim.of(schedule, steps);
    INDArray base = sampler.sample(new DenoiserGraph(policy), Rng.of(9).gaussian(40000, 2), null, Rng.of(10));
    report("pretrained", -1, base);
    tiltTarget(base, beta);
    MlpDenoiser flowNet = MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, PredictionType.EPSILON)
        .withZeroOutput(), Rng.of(2));
    NablaTrainer trainer = NablaTrainer.builder().policy(policy).flow(FlowModel.of(flowNet)).sampler(sampler)
        .reward(new LinearReward(new double[] {1, 0}).scaled(beta))
        .objective(Objectives.residualNablaDb().timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")))
            .forwardWeighting(System.getProperty("cap") == null ? ForwardWeighting.score()
                : ForwardWeighting.capped(Double.parseDouble(System.getProperty("cap")))))
        .policyOptimizer(AdamW.lr(plr).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
        .flowOptimizer(AdamW.lr(flr).weightDecay(0).clipNorm(1.0))
        .policyLearningRate(decay ? LearningRate.cosine(plr, 50, iters, 0.05) : LearningRate.constant(plr))
        .flowLearningRate(decay ? LearningRate.cosine(flr, 50, iters, 0.05) : LearningRate.constant(flr))
        .batchSize(Integer.getInteger("batch", 64)).seed(3).build();
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      IterationRecord r = trainer.step();
      if ((i + 1) % Math.max(1, iters / 10) == 0) {
        System.out.printf(java.util.Locale.ROOT, "{\"iteration\": %d, \"loss_forward_balance\": %.5f, "
            + "\"loss_backward_balance\": %.5f, \"reward_mean\": %.4f, "
            + "\"ms\": %.1f}%n", i + 1, r.term("forward_balance"), r.term("backward_balance"), r.rewardMean(),
            r.wallMillis());
        report("tuned", i + 1, sampler.sample(new DenoiserGraph(policy), Rng.of(11).gaussian(4000, 2), null, Rng.of(12)));
      }
    }
    System.out.printf(java.util.Locale.ROOT, "{\"ms_per_iteration\": %.1f, \"continuous_target_mean\": %.4f}%n",
        (System.nanoTime() - t0) / 1e6 / iters, beta * s);
    java.util.List<Integer> checked = new java.util.ArrayList<>();
    for (int step = 0; step < steps - 2; step += 5) {
      checked.add(step);
    }
    checked.add(steps - 2);
    checked.add(steps - 1);
    for (int step : checked) {
      double a = sampler.step(step).alphaCumprod();
      double c = beta * s * Math.sqrt(a) / (a * s + 1 - a);
      INDArray lf = trainer.logFlowScore(Rng.of(20 + step).gaussian(1000, 2), step, null);
      double learned = lf.getColumn(0).meanNumber().doubleValue();
      System.out.printf(java.util.Locale.ROOT, "{\"step\": %d, \"t\": %d, \"c_t\": %.4f, \"learned_mean\": [%.4f, %.4f], \"ratio\": %.3f}%n",
          step, sampler.step(step).timestep(), c, learned, lf.getColumn(1).meanNumber().doubleValue(), learned / c);
    }
  }

  /**
   * The residual objective's own target: the pretrained chain's samples reweighted by exp(βx₁)
   * (self-normalised importance sampling, with its effective sample size), and the Gaussian fit's tilt
   * mean + β·cov·a.
   */
  private static void tiltTarget(INDArray x, double beta) {
    double[] x1 = x.getColumn(0).toDoubleVector();
    double[] x2 = x.getColumn(1).toDoubleVector();
    double max = java.util.Arrays.stream(x1).max().orElse(0);
    double sw = 0, sw2 = 0, m1 = 0, m2 = 0, q1 = 0;
    for (int i = 0; i < x1.length; i++) {
      double w = Math.exp(beta * (x1[i] - max));
      sw += w;
      sw2 += w * w;
      m1 += w * x1[i];
      m2 += w * x2[i];
      q1 += w * x1[i] * x1[i];
    }
    double mean1 = x.getColumn(0).meanNumber().doubleValue();
    double var1 = x.getColumn(0).varNumber().doubleValue();
    System.out.printf(java.util.Locale.ROOT, "{\"tilt_target_is\": [%.4f, %.4f], \"tilt_var_is\": %.4f, \"ess\": %.0f, "
        + "\"tilt_target_gauss\": %.4f}%n", m1 / sw, m2 / sw, q1 / sw - (m1 / sw) * (m1 / sw), sw * sw / sw2,
        mean1 + beta * var1);
  }

  private static void report(String what, int iteration, INDArray x) {
    System.out.printf(java.util.Locale.ROOT, "{\"%s\": %d, \"mean\": [%.4f, %.4f], \"var\": [%.4f, %.4f]}%n", what, iteration,
        x.getColumn(0).meanNumber().doubleValue(), x.getColumn(1).meanNumber().doubleValue(),
        x.getColumn(0).varNumber().doubleValue(), x.getColumn(1).varNumber().doubleValue());
  }
}

package io.github.nablagfn.examples.study;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.QuadraticReward;
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
import org.nd4j.linalg.factory.Nd4j;

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
 * (residual-nabla-db,refl,draft-k,nabla-db; also forward-only, dag-db, residual-db, draft-lv, alignprop, ddpo), and for
 * Residual ∇-DB, the DB family and DDPO {@code frac} (0.2) and {@code weighting}
 * (γ_t: ALPHA_BAR, SQRT_ALPHA_BAR or NONE) and {@code cap} (κ of {@code ForwardWeighting.capped}; default
 * none, the paper's score units); {@code decay} (false: constant learning rates; true: cosine to
 * 5 % after 50 warm-up iterations); {@code logEvery} (0: off; n: one JSON line of loss terms, reward and
 * gradient norms every n iterations); {@code flowCheck} (false; true: after ∇-DB training, the learned
 * log-flow gradient against the mixture's exact one, {@link MixtureTilt}, on ten steps of the chain);
 * {@code ceiling} (false; true: only {@link #ceiling}, the weights Gaussian steps reach with the exact score
 * and flow, over {@code chains} (20000) chains, and nothing else).
 */
public final class MixtureModesStudy {
  private MixtureModesStudy() {}

  static Objective objective(String name) {
    return switch (name) {
      case "residual-nabla-db", "forward-only" -> Objectives.residualNablaDb()
          .timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")))
          .rewardWeighting(io.github.nablagfn.core.objective.RewardWeighting.valueOf(
              System.getProperty("weighting", "ALPHA_BAR")))
          .forwardWeighting(System.getProperty("cap") == null
              ? io.github.nablagfn.core.objective.ForwardWeighting.score()
              : io.github.nablagfn.core.objective.ForwardWeighting.capped(Double.parseDouble(System.getProperty("cap"))));
      case "nabla-db" -> Objectives.nablaDb().timestepFraction(0.2);
      case "dag-db" -> Objectives.dagDb().timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")));
      case "residual-db" -> Objectives.residualDb()
          .timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")));
      case "ddpo" -> Objectives.ddpo().timestepFraction(Double.parseDouble(System.getProperty("frac", "0.2")));
      case "refl" -> Objectives.refl();
      case "draft-k" -> Objectives.draftK(1);
      case "draft-lv" -> Objectives.draftLv(2);
      case "alignprop" -> Objectives.alignProp();
      default -> throw new IllegalArgumentException("unknown method " + name);
    };
  }

  public static void main(String[] args) {
    AppRuntime.init();
    double beta = Double.parseDouble(System.getProperty("beta", "1"));
    int iters = Integer.getInteger("iters", 300);
    int steps = Integer.getInteger("steps", 50);
    int batch = Integer.getInteger("batch", 64);
    double lr = Double.parseDouble(System.getProperty("lr", "1e-3"));
    boolean decay = Boolean.getBoolean("decay");
    int logEvery = Integer.getInteger("logEvery", 0);
    List<String> methods = Arrays.asList(System.getProperty("methods", "residual-nabla-db,refl,draft-k,nabla-db")
        .split(","));
    GaussianMixtureData data = GaussianMixtureData.circle(4, 2.0, 0.25);
    NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
    Sampler sampler = Ddim.of(schedule, steps);
    double[] c0 = data.centres()[0];
    double width = 2.07;
    QuadraticReward reward = new QuadraticReward(c0, width);
    MixtureTilt exact = MixtureTilt.of(data, beta, width, c0);
    if (Boolean.getBoolean("ceiling")) {
      ceiling(sampler, data, exact, reward, beta, Integer.getInteger("chains", 20000));
      return;
    }
    MlpDenoiser base = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    long t0 = System.nanoTime();
    new Pretrainer(base, schedule, AdamW.lr(2e-3).weightDecay(0), 512, 5)
        .learningRate(LearningRate.cosine(2e-3, 100, 4000, 0.05)).fit(data, 4000);
    INDArray baseSamples = sample(sampler, base);
    double[] ref = weights(data, baseSamples);
    double[] isTarget = tiltedWeights(data, baseSamples, reward, beta);
    double var = data.std() * data.std();
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
      boolean flow = obj.learnsFlow() && !m.equals("forward-only");
      NablaTrainer trainer = NablaTrainer.builder().policy(policy)
          .flow(flow ? FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, PredictionType.EPSILON)
              .withZeroOutput(), Rng.of(2))) : FlowModel.none())
          .sampler(sampler).reward(reward.scaled(beta)).objective(obj)
          .policyOptimizer(AdamW.lr(lr).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
          .flowOptimizer(AdamW.lr(3 * lr).weightDecay(0).clipNorm(1.0))
          .policyLearningRate(decay ? LearningRate.cosine(lr, 50, iters, 0.05) : LearningRate.constant(lr))
          .flowLearningRate(decay ? LearningRate.cosine(3 * lr, 50, iters, 0.05) : LearningRate.constant(3 * lr))
          .batchSize(batch).seed(3)
          .listener(r -> {
            if (logEvery > 0 && r.iteration() % logEvery == 0) {
              System.out.printf(Locale.ROOT, "{\"iteration\": %d, \"loss_forward_balance\": %.4g, "
                  + "\"loss_backward_balance\": %.4g, \"loss_terminal\": %.4g, \"reward_mean\": %.4f, "
                  + "\"grad_norm_policy\": %.3g, \"grad_norm_flow\": %.3g}%n",
                  r.iteration(), r.term("forward_balance"), r.term("backward_balance"), r.term("terminal"),
                  r.rewardMean(), r.gradNormPolicy(), r.gradNormFlow());
            }
          }).build();
      long start = System.nanoTime();
      try {
        trainer.fit(iters);
      } catch (io.github.nablagfn.core.train.NonFiniteException e) {
        System.out.printf(Locale.ROOT, "{\"method\": \"%s\", \"diverged_at\": %d, \"term\": \"%s\"}%n", m,
            e.iteration(), e.term());
        continue;
      }
      double secs = (System.nanoTime() - start) / 1e9;
      if (flow && Boolean.getBoolean("flowCheck")) {
        flowCheck(trainer, sampler, data, exact);
      }
      INDArray x = sample(sampler, policy);
      double[] w = weights(data, x);
      int kept = 0;
      for (double v : w) {
        kept += v >= 0.01 ? 1 : 0;
      }
      System.out.printf(Locale.ROOT, "{\"method\": \"%s\", \"iterations\": %d, \"weights\": %s, \"target\": %s, "
          + "\"modes_kept\": %d, \"reward_mean\": %.4f, \"seconds\": %.1f}%n", m, iters, fmt(w), fmt(target), kept,
          reward.evaluate(x, null).meanNumber().doubleValue(), secs);
    }
  }

  /**
   * The learned log-flow gradient against the mixture's exact one at 2000 noised mixture samples on ten
   * steps of the chain: the rms of the exact gradient, the projection ratio ⟨learned, exact⟩/‖exact‖²
   * (1 = right size, below 1 = under-estimated) and the rms error relative to the exact rms.
   */
  private static void flowCheck(NablaTrainer trainer, Sampler sampler, GaussianMixtureData data, MixtureTilt exact) {
    int steps = sampler.numSteps();
    for (int step = 0; step < steps; step += Math.max(1, steps / 10)) {
      double a = sampler.step(step).alphaCumprod();
      INDArray x0 = data.next(Rng.of(50 + step), 2000).samples();
      INDArray xt = x0.mul(Math.sqrt(a)).addi(Rng.of(60 + step).gaussian(2000, 2).muli(Math.sqrt(1 - a)));
      INDArray learned = trainer.logFlowScore(xt, step, null);
      double dot = 0;
      double norm2 = 0;
      double err2 = 0;
      for (int i = 0; i < 2000; i++) {
        double[] truth = exact.logFlowGradient(xt.getRow(i).toDoubleVector(), a);
        for (int d = 0; d < 2; d++) {
          double g = learned.getDouble(i, d);
          dot += g * truth[d];
          norm2 += truth[d] * truth[d];
          err2 += (g - truth[d]) * (g - truth[d]);
        }
      }
      System.out.printf(Locale.ROOT, "{\"flow_step\": %d, \"t\": %d, \"exact_rms\": %.4f, \"projection_ratio\": %.3f, "
          + "\"relative_rms_error\": %.3f}%n", step, sampler.step(step).timestep(), Math.sqrt(norm2 / 2000),
          dot / norm2, Math.sqrt(err2 / norm2));
    }
  }

  /**
   * What a chain of fixed-variance Gaussian steps can reach with every learned quantity exact: the
   * mixture's exact ε (no network) and the exact log-flow {@link MixtureTilt}, each step's mean shifted
   * by the forward balance's least-squares optimum, shift = σ² E_{x_s ~ N(μ + shift, σ²)}[∇log F̃(x_s)]
   * (four fixed-point rounds, 16 draws; the sampler must predict ε). Prints the mode weights of the
   * chains without the shift and those reweighted by exp(βR) (the objective's target for this chain),
   * then the weights of the shifted chains. The gap between the target and the shifted chains' weights is
   * the bias of Gaussian steps with the reference's variance; it shrinks with the number of steps.
   */
  static void ceiling(Sampler sampler, GaussianMixtureData data, MixtureTilt exact, QuadraticReward reward,
      double beta, int chains) {
    Rng rng = Rng.of(70);
    for (boolean shifted : new boolean[] {false, true}) {
      double[][] x = new double[chains][2];
      for (double[] row : x) {
        row[0] = rng.nextGaussian();
        row[1] = rng.nextGaussian();
      }
      int n = sampler.numSteps();
      for (int i = 0; i < n; i++) {
        var st = sampler.step(i);
        double sd = st.sigma();
        for (double[] row : x) {
          double[] score = exact.noisedScore(row, st.alphaCumprod());
          double[] mu = new double[2];
          for (int d = 0; d < 2; d++) {
            double eps = -Math.sqrt(1 - st.alphaCumprod()) * score[d];
            mu[d] = st.meanFromSample() * row[d] + st.meanFromOutput() * eps;
          }
          double[] shift = new double[2];
          if (shifted) {
            double[][] z = new double[16][2];
            for (double[] zz : z) {
              zz[0] = rng.nextGaussian();
              zz[1] = rng.nextGaussian();
            }
            for (int round = 0; round < 4; round++) {
              double[] mean = new double[2];
              for (double[] zz : z) {
                double[] xs = {mu[0] + shift[0] + sd * zz[0], mu[1] + shift[1] + sd * zz[1]};
                double[] g = i == n - 1 ? exact.terminalGradient(xs)
                    : exact.logFlowGradient(xs, sampler.step(i + 1).alphaCumprod());
                mean[0] += g[0] / z.length;
                mean[1] += g[1] / z.length;
              }
              shift = new double[] {st.variance() * mean[0], st.variance() * mean[1]};
            }
          }
          row[0] = mu[0] + shift[0] + sd * rng.nextGaussian();
          row[1] = mu[1] + shift[1] + sd * rng.nextGaussian();
        }
      }
      INDArray samples = Nd4j.createFromArray(x);
      if (shifted) {
        System.out.printf(Locale.ROOT, "{\"ceiling_steps\": %d, \"exact_flow_gaussian_steps_weights\": %s}%n", n,
            fmt(weights(data, samples)));
      } else {
        System.out.printf(Locale.ROOT, "{\"ceiling_steps\": %d, \"exact_score_chain_weights\": %s, "
            + "\"tilted_target_is\": %s}%n", n, fmt(weights(data, samples)), fmt(tiltedWeights(data, samples, reward, beta)));
      }
    }
  }

  private static INDArray sample(Sampler sampler, MlpDenoiser d) {
    return sampler.sample(new DenoiserGraph(d), Rng.of(11).gaussian(4000, 2), null, Rng.of(12));
  }

  /**
   * The residual objective's target mode weights from the pretrained chain's own samples: each sample
   * weighted by exp(βR(x)) (self-normalised importance sampling), summed per nearest mode.
   */
  private static double[] tiltedWeights(GaussianMixtureData data, INDArray x, QuadraticReward reward, double beta) {
    double[] betaR = reward.evaluate(x.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT), null).mul(beta)
        .toDoubleVector();
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

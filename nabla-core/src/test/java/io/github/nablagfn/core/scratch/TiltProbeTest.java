package io.github.nablagfn.core.scratch;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.toy.GaussianData;
import io.github.nablagfn.core.train.*;
import io.github.nablagfn.core.objective.Objectives;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class TiltProbeTest {
  @Test
  void probe() {
    double s = 0.5;
    double[] m = {0, 0};
    double beta = Double.parseDouble(System.getProperty("beta", "2.83"));
    NoiseSchedule sch = NoiseSchedule.ddpmDefault();
    MlpDenoiser den = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    new Pretrainer(den, sch, AdamW.lr(2e-3).weightDecay(0), 256, 5).learningRate(LearningRate.cosine(2e-3, 100, 3000, 0.05))
        .fit(new GaussianData(m, new double[][] {{s, 0}, {0, s}}), 3000);
    Sampler sampler = Ddim.of(sch, Integer.getInteger("steps", 50));
    INDArray x0 = sampler.sample(new DenoiserGraph(den), Rng.of(9).gaussian(4000, 2), null, Rng.of(10));
    System.out.println("pretrained mean " + x0.mean(0) + " var " + x0.var(0));
    MlpDenoiser flowNet = MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, io.github.nablagfn.core.sampler.PredictionType.EPSILON).withZeroOutput(), Rng.of(2));
    NablaTrainer tr = NablaTrainer.builder().policy(den).flow(FlowModel.of(flowNet)).sampler(sampler)
        .reward(new LinearReward(new double[] {1, 0}).scaled(beta))
        .objective(Boolean.getBoolean("all") ? Objectives.residualNablaDb().allSteps() : Objectives.residualNablaDb().timestepFraction(Double.parseDouble(System.getProperty("frac", "0.1"))))
        .policyOptimizer(AdamW.lr(Double.parseDouble(System.getProperty("plr", "1e-3"))).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
        .flowOptimizer(AdamW.lr(Double.parseDouble(System.getProperty("flr", "1e-3"))).weightDecay(0).clipNorm(1.0))
        .batchSize(Integer.getInteger("bs", 64)).seed(3).build();
    int iters = Integer.getInteger("iters", 300);
    long t0 = System.nanoTime();
    for (int i = 0; i < iters; i++) {
      IterationRecord r = tr.step();
      if (i % 50 == 0 || i == iters - 1) System.out.printf("it %d fwd %.4f bwd %.4f term %.5f R %.3f gnP %.3f gnF %.3f ms %.1f%n", r.iteration(), r.lossForward(), r.lossBackward(), r.lossTerminal(), r.rewardMean(), r.gradNormPolicy(), r.gradNormFlow(), r.wallMillis());
    }
    System.out.printf("ms/it %.1f%n", (System.nanoTime() - t0) / 1e6 / iters);
    INDArray x1 = sampler.sample(new DenoiserGraph(den), Rng.of(11).gaussian(4000, 2), null, Rng.of(12));
    System.out.println("tuned mean " + x1.mean(0) + " var " + x1.var(0) + " target mean " + (beta * s));
    for (int step : new int[] {0, sampler.numSteps() / 2, sampler.numSteps() - 2, sampler.numSteps() - 1}) {
      var st = sampler.step(step);
      double a = st.alphaCumprod();
      double c = beta * s * Math.sqrt(a) / (a * s + 1 - a);
      INDArray xs = Rng.of(20 + step).gaussian(500, 2);
      INDArray lf = tr.logFlowScore(xs, step, null);
      System.out.println("step " + step + " c_t " + c + " learned mean " + lf.mean(0) + " std " + lf.std(0));
    }
  }
}

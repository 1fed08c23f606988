package io.github.nablagfn.core.sampler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class SamplerIdentitiesTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();

  @Test
  void ddimWithEtaZeroIsDeterministic() {
    qt().withFixedSeed(11).withExamples(30)
        .forAll(integers().between(1, 100), longs().all())
        .checkAssert((steps, seed) -> {
          Sampler ddim = Ddim.of(SCHEDULE, steps).eta(0.0).withSpacing(TimestepSpacing.TRAILING);
          Rng rng = Rng.of(seed);
          int i = rng.nextInt(steps);
          GaussianStep st = ddim.step(i);
          assertThat(st.variance()).isZero();
          INDArray x = rng.gaussian(4, 3);
          INDArray eps = rng.gaussian(4, 3);
          INDArray a = st.step(x, eps, rng.gaussian(4, 3));
          INDArray b = st.step(x, eps, rng.gaussian(4, 3));
          assertThat(a).isEqualTo(b);
          assertThat(a).isEqualTo(st.mean(x, eps));
        });
  }

  /**
   * With η = 1 and s = t − 1 (all T steps), the DDIM transition is the DDPM posterior q(x_{t−1} | x_t, x0)
   * (Ho et al. eq. 7), written here independently in double precision.
   */
  @Test
  void ddimWithEtaOneOverConsecutiveTimestepsIsTheDdpmPosterior() {
    NoiseSchedule s = NoiseSchedule.linear(200, 1e-4, 0.05);
    Sampler ddim = Ddim.create(new Sampler.Settings(s, 200, TimestepSpacing.TRAILING, 0, PredictionType.EPSILON, false), 1.0);
    double[] beta = s.betas();
    double[] abar = s.alphasCumprod();
    qt().withFixedSeed(12).withExamples(60)
        .forAll(integers().between(0, 198), doubles().between(-3, 3), doubles().between(-3, 3))
        .checkAssert((i, x0, noise) -> {
          GaussianStep st = ddim.step(i);
          int t = st.timestep();
          assertThat(st.prevTimestep()).isEqualTo(t - 1);
          double xt = Math.sqrt(abar[t]) * x0 + Math.sqrt(1 - abar[t]) * noise;
          // closed-form posterior
          double muTilde = Math.sqrt(abar[t - 1]) * beta[t] / (1 - abar[t]) * x0
              + Math.sqrt(1 - beta[t]) * (1 - abar[t - 1]) / (1 - abar[t]) * xt;
          double betaTilde = (1 - abar[t - 1]) / (1 - abar[t]) * beta[t];
          // the sampler, given the true noise as ε-prediction, in double
          double mu = st.meanFromSample() * xt + st.meanFromOutput() * noise;
          assertThat(mu).isCloseTo(muTilde, within(1e-9 * (1 + Math.abs(muTilde))));
          assertThat(st.variance()).isCloseTo(betaTilde, within(1e-12 * (1 + betaTilde)));
        });
  }

  @Test
  void ddpmAndFirstOrderSdeDpmSolverEqualDdimWithEtaOne() {
    qt().withFixedSeed(13).withExamples(40)
        .forAll(integers().between(1, 100), integers().between(0, 2))
        .checkAssert((steps, kind) -> {
          NoiseSchedule s = kind == 0 ? SCHEDULE : kind == 1 ? NoiseSchedule.cosine(1000)
              : NoiseSchedule.scaledLinear(1000, 0.00085, 0.012);
          Sampler ddim = Ddim.of(s, steps);
          Sampler ddpm = Ddpm.of(s, steps);
          Sampler dpm = SdeDpmSolverPP.of(s, steps);
          for (int i = 0; i < steps; i++) {
            for (Sampler other : new Sampler[] {ddpm, dpm}) {
              GaussianStep a = ddim.step(i);
              GaussianStep b = other.step(i);
              assertThat(b.variance()).isCloseTo(a.variance(), within(1e-12 + 1e-9 * a.variance()));
              assertThat(b.meanFromSample()).isCloseTo(a.meanFromSample(), within(1e-9 * (1 + Math.abs(a.meanFromSample()))));
              assertThat(b.meanFromOutput()).isCloseTo(a.meanFromOutput(), within(1e-9 * (1 + Math.abs(a.meanFromOutput()))));
            }
          }
        });
  }

  @Test
  void predictionTypesConvertConsistently() {
    // For x_t = α x0 + σ ε, feeding each type's exact target recovers x0 and ε.
    qt().withFixedSeed(14).withExamples(60)
        .forAll(doubles().between(1e-4, 1 - 1e-4), doubles().between(-3, 3), doubles().between(-3, 3))
        .checkAssert((abar, x0, eps) -> {
          double xt = Math.sqrt(abar) * x0 + Math.sqrt(1 - abar) * eps;
          for (PredictionType p : PredictionType.values()) {
            double[] tc = p.targetCoefficients(abar);
            double out = tc[0] * x0 + tc[1] * eps;
            double[] c = p.coefficients(abar);
            assertThat(c[0] * xt + c[1] * out).as("%s x0", p).isCloseTo(x0, within(1e-6 / Math.sqrt(abar * (1 - abar))));
            assertThat(c[2] * xt + c[3] * out).as("%s eps", p).isCloseTo(eps, within(1e-6 / Math.sqrt(abar * (1 - abar))));
          }
        });
  }

  @Test
  void samplingIsTheSameForEveryPredictionTypeGivenEquivalentOutputs() {
    // A model that knows x0 exactly, expressed as ε, x0 or v, gives the same step under each type.
    Rng rng = Rng.of(15);
    INDArray x0 = rng.gaussian(5, 2);
    INDArray eps = rng.gaussian(5, 2);
    Ddim base = Ddim.of(SCHEDULE, 20).eta(0.5);
    for (int i = 0; i < 20; i++) {
      GaussianStep e = base.step(i);
      double abar = e.alphaCumprod();
      INDArray xt = x0.mul(Math.sqrt(abar)).addi(eps.mul(Math.sqrt(1 - abar)));
      INDArray expected = e.mean(xt, eps);
      for (PredictionType p : PredictionType.values()) {
        double[] tc = p.targetCoefficients(abar);
        INDArray out = x0.mul(tc[0]).addi(eps.mul(tc[1]));
        INDArray got = base.withPrediction(p).step(i).mean(xt, out);
        assertThat(got.sub(expected).amaxNumber().doubleValue()).as("%s step %d", p, i).isLessThan(2e-5);
      }
    }
  }

  @Test
  void addNoiseThenPredictOriginalWithTheTrueNoiseReturnsX0() {
    qt().withFixedSeed(16).withExamples(40)
        .forAll(integers().between(0, 49), longs().all())
        .checkAssert((i, seed) -> {
          Ddim ddim = Ddim.of(SCHEDULE, 50);
          GaussianStep st = ddim.step(i);
          Rng rng = Rng.of(seed);
          INDArray x0 = rng.gaussian(3, 4);
          INDArray eps = rng.gaussian(3, 4);
          int[] t = {st.timestep(), st.timestep(), st.timestep()};
          INDArray xt = SCHEDULE.addNoise(x0, eps, t);
          // float32 rounding of x_t is amplified by 1/√ᾱ_t
          double tol = 4e-7 * 8 / Math.sqrt(st.alphaCumprod());
          assertThat(st.predOriginalSample(xt, eps).sub(x0).amaxNumber().doubleValue()).isLessThan(tol);
        });
  }

  @Test
  void meanOpEqualsTheEagerMeanAndItsGradientsAreTheCoefficients() {
    GaussianStep st = Ddim.of(SCHEDULE, 50).step(10);
    Rng rng = Rng.of(17);
    INDArray x = rng.gaussian(2, 3);
    INDArray out = rng.gaussian(2, 3);
    SameDiff sd = SameDiff.create();
    SDVariable xv = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    SDVariable ov = sd.placeHolder("o", DataType.FLOAT, -1, 3);
    SDVariable mean = st.meanOp(InputGradients.track(sd, xv), InputGradients.track(sd, ov));
    mean.sum("s");
    sd.setLossVariables("s");
    Map<String, INDArray> ph = Map.of("x", x, "o", out);
    INDArray mu = sd.output(ph, mean.name()).get(mean.name());
    assertThat(mu.sub(st.mean(x, out)).amaxNumber().doubleValue()).isLessThan(1e-6);
    Map<String, INDArray> g = sd.calculateGradients(ph, "x", "o");
    assertThat(g).as("gradients returned").containsKeys("x", "o");
    assertThat(g.get("x").getDouble(0, 0)).isCloseTo(st.meanFromSample(), within(1e-6));
    assertThat(g.get("o").getDouble(1, 2)).isCloseTo(st.meanFromOutput(), within(1e-6));
  }

  @Test
  void spacingsGiveTheDiffusersTimesteps() {
    assertThat(TimestepSpacing.LEADING.timesteps(1000, 50, 1)).startsWith(981, 961).endsWith(21, 1);
    assertThat(TimestepSpacing.TRAILING.timesteps(1000, 50, 0)).startsWith(999, 979).endsWith(19);
    assertThat(TimestepSpacing.LINSPACE.timesteps(1000, 4, 0)).containsExactly(999, 666, 333, 0);
    assertThat(TimestepSpacing.LEADING.timesteps(10, 3, 0)).containsExactly(6, 3, 0);
  }

  @Test
  void impossibleSamplerSettingsAreRejected() {
    assertThatThrownBy(() -> Ddim.of(SCHEDULE, 0)).hasMessageContaining("numSteps = 0");
    assertThatThrownBy(() -> Ddim.of(SCHEDULE, 1001)).hasMessageContaining("numSteps = 1001");
    assertThatThrownBy(() -> Ddim.of(SCHEDULE, 1000)).hasMessageContaining("LEADING spacing")
        .hasMessageContaining("stepsOffset = 1").hasMessageContaining("gives timestep 1000 at index 0")
        .hasMessageContaining("use stepsOffset 0 or TRAILING spacing");
    assertThatThrownBy(() -> Ddim.of(SCHEDULE, 50).eta(-0.1)).hasMessageContaining("eta = -0.1");
    assertThatThrownBy(() -> Ddim.of(SCHEDULE, 50).step(50)).hasMessageContaining("step 50");
  }

  @Test
  void finalStepGoesToAlphaBarZeroOrOne() {
    Ddim ddim = Ddim.of(SCHEDULE, 50);
    GaussianStep last = ddim.step(49);
    assertThat(last.timestep()).isEqualTo(1);
    assertThat(last.alphaCumprodPrev()).isEqualTo(SCHEDULE.alphaCumprod(0));
    assertThat(last.variance()).isGreaterThan(0);
    GaussianStep toOne = ddim.withAlphaToOne(true).step(49);
    assertThat(toOne.alphaCumprodPrev()).isEqualTo(1.0);
    assertThat(toOne.variance()).isZero();
    // x_0 = x̂0 exactly when ᾱ_s = 1
    assertThat(toOne.meanFromSample()).isCloseTo(toOne.x0FromSample(), within(1e-12));
    GaussianStep dpm = SdeDpmSolverPP.of(SCHEDULE, 50).withAlphaToOne(true).step(49);
    assertThat(dpm.variance()).isZero();
    assertThat(dpm.meanFromOutput()).isCloseTo(toOne.meanFromOutput(), within(1e-12));
  }
}

package io.github.nablagfn.core.sampler;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.TwinFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The reference scheduler (T = 1000 linear, 50 DDIM steps, η = 1, leading spacing, offset 1) against the twin's fixtures. */
class TwinSchedulerConformanceTest {
  private static final Safetensors.Contents FIX = TwinFixtures.read("scheduler.safetensors");
  private static final Ddim DDIM = Ddim.of(NoiseSchedule.ddpmDefault(), 50).eta(1.0);
  private static final double TABLE_TOL = 1e-5; // twin README: tables, DDIM step

  @Test
  void timestepsAndPreviousTimestepsMatch() {
    assertThat(DDIM.timesteps()).containsExactly(toInts(FIX.get("sched.timesteps")));
    int[] prev = toInts(FIX.get("sched.prev_timesteps"));
    for (int i = 0; i < 50; i++) {
      assertThat(DDIM.step(i).prevTimestep()).as("prev of step %d", i).isEqualTo(prev[i]);
    }
  }

  @Test
  void betasAndAlphaBarMatch() {
    NoiseSchedule s = DDIM.schedule();
    assertRelMax("betas", Nd4j.createFromArray(s.betas()), FIX.get("sched.betas"), TABLE_TOL);
    assertRelMax("alphas_cumprod", Nd4j.createFromArray(s.alphasCumprod()), FIX.get("sched.alphas_cumprod"), TABLE_TOL);
  }

  @Test
  void perStepAlphaBarAndSigmaTablesMatch() {
    double[] abarT = new double[50];
    double[] abarPrev = new double[50];
    double[] var = new double[50];
    double[] sigma = new double[50];
    for (int i = 0; i < 50; i++) {
      GaussianStep st = DDIM.step(i);
      abarT[i] = st.alphaCumprod();
      abarPrev[i] = st.alphaCumprodPrev();
      var[i] = st.variance();
      sigma[i] = st.sigma();
    }
    assertRelMax("abar_t", Nd4j.createFromArray(abarT), FIX.get("sched.abar_t"), TABLE_TOL);
    assertRelMax("abar_prev", Nd4j.createFromArray(abarPrev), FIX.get("sched.abar_prev"), TABLE_TOL);
    // σ² spans 5e-5 .. 1e-2: compare element-wise relative as well, the final step matters most.
    INDArray expVar = FIX.get("sched.var");
    for (int i = 0; i < 50; i++) {
      assertThat(var[i]).as("var[%d]", i).isCloseTo(expVar.getDouble(i), org.assertj.core.data.Percentage.withPercentage(1e-3));
    }
    assertRelMax("sigma", Nd4j.createFromArray(sigma), FIX.get("sched.sigma"), TABLE_TOL);
  }

  @ParameterizedTest
  @ValueSource(strings = {"mid", "final"})
  void oneDdimStepMatches(String which) {
    String p = "ddim." + which + ".";
    int step = (int) FIX.get(p + "step").getLong(0);
    GaussianStep st = DDIM.step(step);
    INDArray xt = FIX.get(p + "x_t");
    INDArray eps = FIX.get(p + "eps");
    assertRelMax(p + "x0_hat", st.predOriginalSample(xt, eps), FIX.get(p + "x0_hat"), TABLE_TOL);
    assertRelMax(p + "mu", st.mean(xt, eps), FIX.get(p + "mu"), TABLE_TOL);
    assertRelMax(p + "x_prev", st.step(xt, eps, FIX.get(p + "z")), FIX.get(p + "x_prev"), TABLE_TOL);
  }

  private static int[] toInts(INDArray a) {
    long[] l = a.toLongVector();
    int[] r = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      r[i] = Math.toIntExact(l[i]);
    }
    return r;
  }
}

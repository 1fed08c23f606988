package io.github.nablagfn.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.runtime.Rng;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamWTest {

  private static ParameterSet params(double... values) {
    ParameterSet p = new ParameterSet();
    p.add("w", Nd4j.createFromArray(values).castTo(DataType.DOUBLE));
    return p;
  }

  @ParameterizedTest
  @MethodSource("extremeScales")
  void globalNormIsExactForFiniteGradientsAtAnyFloatScale(double scale) {
    // entries 3·scale and 4·scale (and 12·scale in a second tensor): ‖·‖ = 13·scale exactly
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("a", Nd4j.createFromArray(3f * (float) scale, -4f * (float) scale));
    g.put("b", Nd4j.createFromArray(new float[][] {{0f, 12f * (float) scale}}));
    double expected = 13 * (double) (float) scale;
    assertThat(AdamW.globalNorm(g)).isFinite().isCloseTo(expected, within(expected * 1e-6));
  }

  static Stream<Double> extremeScales() {
    return Stream.of(1e-30, 1e-20, 1e-3, 1.0, 1e10, 1e20, 1e30, 1e36);
  }

  @Test
  void globalNormOfNanOrInfiniteEntriesIsNotFinite() {
    assertThat(AdamW.globalNorm(Map.of("a", Nd4j.createFromArray(1f, Float.NaN)))).isNaN();
    assertThat(AdamW.globalNorm(Map.of("a", Nd4j.createFromArray(1e30f, Float.POSITIVE_INFINITY)))).isInfinite();
    assertThat(AdamW.globalNorm(Map.of("a", Nd4j.createFromArray(Float.NaN, Float.NaN)))).isNaN();
    assertThat(AdamW.globalNorm(Map.of("a", Nd4j.zeros(DataType.FLOAT, 3)))).isZero();
  }

  @Test
  void aHugeButFiniteGradientIsClippedAndApplied() {
    ParameterSet params = new ParameterSet();
    params.add("w", Nd4j.createFromArray(1f, 2f));
    AdamW opt = AdamW.lr(0.1).betas(0.9, 0.999).weightDecay(0).clipNorm(1.0);
    AdamW.State state = opt.newState(params);
    Map<String, INDArray> g = new LinkedHashMap<>();
    g.put("w", Nd4j.createFromArray(3e25f, -4e25f));
    double norm = opt.step(params, g, state);
    assertThat(norm).isCloseTo(5e25, within(5e25 * 1e-6));
    // first Adam step moves each coordinate by lr against the gradient's sign
    assertThat(params.get("w").toDoubleVector()).containsExactly(new double[] {0.9, 2.1}, within(1e-5));
  }

  @Test
  void twoStepsEqualHandComputedValues() {
    // p = 1.0, g1 = 0.5, g2 = -0.25; lr 0.1, β = (0.9, 0.999), ε = 1e-8, λ = 0.01, no clip.
    AdamW opt = AdamW.lr(0.1).betas(0.9, 0.999).eps(1e-8).weightDecay(0.01);
    ParameterSet p = params(1.0);
    AdamW.State s = opt.newState(p);
    opt.step(p, Map.of("w", Nd4j.createFromArray(0.5)), s);
    // step 1: p = 1·(1 − 0.001) = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25
    //         p = 0.999 − 0.1 · 0.5/(0.5 + 1e-8)
    double p1 = 0.999 - 0.1 * 0.5 / (Math.sqrt(0.00025) / Math.sqrt(0.001) + 1e-8);
    assertThat(p.get("w").getDouble(0)).isCloseTo(p1, within(1e-12));
    opt.step(p, Map.of("w", Nd4j.createFromArray(-0.25)), s);
    double m2 = 0.9 * 0.05 + 0.1 * -0.25;
    double v2 = 0.999 * 0.00025 + 0.001 * 0.0625;
    double p2 = p1 * (1 - 0.001) - (0.1 / (1 - 0.81)) * m2 / (Math.sqrt(v2) / Math.sqrt(1 - 0.999 * 0.999) + 1e-8);
    assertThat(p.get("w").getDouble(0)).isCloseTo(p2, within(1e-12));
    assertThat(s.step()).isEqualTo(2);
  }

  @Test
  void clippingRescalesExactlyToTheNorm() {
    qt().withFixedSeed(31).withExamples(50)
        .forAll(longs().all(), doubles().between(0.01, 10))
        .checkAssert((seed, maxNorm) -> {
          Rng rng = Rng.of(seed);
          Map<String, INDArray> g = new LinkedHashMap<>();
          g.put("a", rng.gaussian(3, 4).castTo(DataType.DOUBLE).muli(1 + rng.nextInt(5)));
          g.put("b", rng.gaussian(7).castTo(DataType.DOUBLE));
          double norm = AdamW.globalNorm(g);
          Map<String, INDArray> before = new LinkedHashMap<>();
          g.forEach((k, v) -> before.put(k, v.dup()));
          double reported = AdamW.clipGlobalNorm(g, maxNorm);
          assertThat(reported).isEqualTo(norm);
          double after = AdamW.globalNorm(g);
          if (norm > maxNorm) {
            // torch: factor maxNorm/(norm + 1e-6)
            assertThat(after).isCloseTo(maxNorm * norm / (norm + 1e-6), within(1e-9 * maxNorm));
            // direction unchanged
            double f = maxNorm / (norm + 1e-6);
            assertThat(g.get("a").sub(before.get("a").mul(f)).amaxNumber().doubleValue()).isLessThan(1e-12);
          } else {
            assertThat(g.get("a")).isEqualTo(before.get("a"));
          }
        });
  }

  @Test
  void clippedStepUsesTheClippedGradient() {
    // with |g| = 100 clipped to 1, Adam's first step is still lr·sign(g), but the moments hold the clipped value
    AdamW opt = AdamW.lr(0.01).weightDecay(0).clipNorm(1.0);
    ParameterSet p = params(0.0, 0.0);
    AdamW.State s = opt.newState(p);
    double norm = opt.step(p, Map.of("w", Nd4j.createFromArray(60.0, 80.0)), s);
    assertThat(norm).isCloseTo(100.0, within(1e-12));
    double f = 1.0 / (100.0 + 1e-6);
    assertThat(s.m().get("w").getDouble(0)).isCloseTo(0.1 * 60 * f, within(1e-12));
    assertThat(s.v().get("w").getDouble(1)).isCloseTo(0.001 * Math.pow(80 * f, 2), within(1e-12));
  }

  @Test
  void stateRoundTripsThroughTensors() {
    AdamW opt = AdamW.lr(0.01);
    ParameterSet p = params(1, 2, 3);
    AdamW.State s = opt.newState(p);
    opt.step(p, Map.of("w", Nd4j.createFromArray(0.1, -0.2, 0.3)), s);
    AdamW.State back = AdamW.State.fromTensors(s.toTensors(), p);
    assertThat(back.step()).isEqualTo(1);
    assertThat(back.m().get("w")).isEqualTo(s.m().get("w"));
    assertThat(back.v().get("w")).isEqualTo(s.v().get("w"));
    Map<String, INDArray> broken = new LinkedHashMap<>(s.toTensors());
    broken.remove("v.w");
    assertThatThrownBy(() -> AdamW.State.fromTensors(broken, p)).hasMessageContaining("lacks tensor 'v.w'");
  }

  @Test
  void nonFiniteGradientsLeaveParametersUntouched() {
    AdamW opt = AdamW.lr(0.01);
    ParameterSet p = params(1, 2);
    AdamW.State s = opt.newState(p);
    assertThatThrownBy(() -> opt.step(p, Map.of("w", Nd4j.createFromArray(Double.NaN, 1.0)), s))
        .isInstanceOf(ArithmeticException.class).hasMessageContaining("non-finite gradient norm");
    assertThat(p.get("w").toDoubleVector()).containsExactly(1, 2);
    assertThat(s.step()).isZero();
    assertThatThrownBy(() -> opt.step(p, Map.of(), s)).hasMessageContaining("no gradient for parameter 'w'");
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of((Runnable) () -> AdamW.lr(0), "AdamW.lr = 0.0"),
        Arguments.of((Runnable) () -> AdamW.lr(1e-3).betas(1.0, 0.9), "AdamW.beta1 = 1.0"),
        Arguments.of((Runnable) () -> AdamW.lr(1e-3).betas(0.9, -0.1), "AdamW.beta2 = -0.1"),
        Arguments.of((Runnable) () -> AdamW.lr(1e-3).eps(0), "AdamW.eps = 0.0"),
        Arguments.of((Runnable) () -> AdamW.lr(1e-3).weightDecay(-1), "AdamW.weightDecay = -1.0"),
        Arguments.of((Runnable) () -> AdamW.lr(1e-3).clipNorm(0), "AdamW.clipNorm = 0.0"),
        Arguments.of((Runnable) () -> AdamW.lr(Double.NaN), "AdamW.lr = NaN"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void invalidHyperparametersAreRejectedNamingTheField(Runnable build, String message) {
    assertThatThrownBy(build::run).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }
}

package io.github.nablagfn.rewards.analytic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.Rng;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AnalyticRewardsTest {
  private static final INDArray TARGET = Rng.of(99).uniform(-1, 1, 1, 4, 4);

  private static List<Reward> differentiable() {
    return List.of(new InkReward(), new SymmetryReward(), new SimilarityReward(TARGET),
        new CompositeReward(List.of(new InkReward(), new SymmetryReward()), new double[] {2.0, -0.5}));
  }

  /** ∇_x Σ_i R(x_i) by autodiff. */
  private static INDArray gradient(Reward r, INDArray x) {
    SameDiff sd = SameDiff.create();
    SDVariable xv = sd.placeHolder("x", DataType.FLOAT, -1, 1, 4, 4);
    r.forward(new GraphScope(sd, "r.", r.parameters(), false), InputGradients.track(sd, xv), null).sum("s");
    sd.setLossVariables("s");
    return sd.calculateGradients(Map.of("x", x), "x").get("x");
  }

  @Test
  void autodiffGradientsEqualFiniteDifferences() {
    qt().withFixedSeed(61).withExamples(8).forAll(longs().all()).checkAssert(seed -> {
      Rng rng = Rng.of(seed);
      INDArray x = rng.uniform(-0.9, 0.9, 2, 1, 4, 4);
      for (Reward r : differentiable()) {
        INDArray g = gradient(r, x);
        for (int trial = 0; trial < 4; trial++) {
          long idx = rng.nextInt((int) x.length());
          double h = 1e-2;
          double orig = x.getDouble(idx);
          x.putScalar(idx, orig + h);
          double plus = r.evaluate(x, null).sumNumber().doubleValue();
          x.putScalar(idx, orig - h);
          double minus = r.evaluate(x, null).sumNumber().doubleValue();
          x.putScalar(idx, orig);
          double fd = (plus - minus) / (2 * h);
          // these rewards are at most quadratic, so central differences are exact up to float32 rounding
          assertThat(g.getDouble(idx)).as("%s at element %d", r.name(), idx).isCloseTo(fd, within(2e-4 + 1e-3 * Math.abs(fd)));
        }
      }
    });
  }

  @Test
  void closedFormValues() {
    INDArray black = Nd4j.zeros(DataType.FLOAT, 1, 1, 4, 4).subi(1);
    INDArray white = Nd4j.ones(DataType.FLOAT, 1, 1, 4, 4);
    assertThat(new InkReward().evaluate(black, null).getDouble(0)).isEqualTo(0.0);
    assertThat(new InkReward().evaluate(white, null).getDouble(0)).isEqualTo(1.0);
    INDArray half = Nd4j.concat(3, white.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)), black.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)));
    // left half white, right half black: every pixel differs from its mirror by 2 → −mean(4) = −4
    assertThat(new SymmetryReward().evaluate(half, null).getDouble(0)).isCloseTo(-4.0, within(1e-6));
    assertThat(new SymmetryReward().evaluate(white, null).getDouble(0)).isEqualTo(0.0);
    INDArray t = TARGET.reshape(1, 1, 4, 4);
    assertThat(new SimilarityReward(TARGET).evaluate(t, null).getDouble(0)).isEqualTo(0.0);
  }

  @Test
  void compositeIsTheWeightedSum() {
    INDArray x = Rng.of(3).uniform(-1, 1, 3, 1, 4, 4);
    CompositeReward c = new CompositeReward(List.of(new InkReward(), new SimilarityReward(TARGET)), new double[] {2, -3});
    INDArray expected = new InkReward().evaluate(x, null).mul(2).add(new SimilarityReward(TARGET).evaluate(x, null).mul(-3));
    assertThat(c.evaluate(x, null).sub(expected).amaxNumber().doubleValue()).isLessThan(1e-6);
    assertThatThrownBy(() -> new CompositeReward(List.of(new InkReward()), new double[] {1, 2}))
        .hasMessageContaining("1 rewards and 2 weights");
  }

  @Test
  void jpegCompressibilityPrefersFlatImagesAndIsNotDifferentiable() {
    JpegCompressibilityReward r = new JpegCompressibilityReward(0.95);
    INDArray flat = Nd4j.zeros(DataType.FLOAT, 1, 1, 32, 32);
    INDArray noise = Rng.of(4).uniform(-1, 1, 1, 1, 32, 32);
    INDArray both = Nd4j.concat(0, flat, noise);
    INDArray v = r.evaluate(both, null);
    assertThat(v.getDouble(0)).isNegative().isGreaterThan(v.getDouble(1));
    assertThat(r.differentiable()).isFalse();
    assertThat(new CompositeReward(List.of(r, new InkReward()), new double[] {1, 1}).differentiable()).isFalse();
    assertThatThrownBy(() -> new JpegCompressibilityReward(0)).hasMessageContaining("JPEG quality = 0.0");
  }
}

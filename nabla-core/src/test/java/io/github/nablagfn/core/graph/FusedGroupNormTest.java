package io.github.nablagfn.core.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.GroupNorm;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.testing.Measured;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link FusedGroupNorm} (GroupNorm and GroupNorm + SiLU as one Java op, forward and backward) against the
 * composition of ND4J ops it replaces ({@link GroupNorm} without the kernels), in both layouts, on shapes
 * whose channel and spatial counts are and are not multiples of the vector width: the output and the
 * gradients of x, γ and β of Σ out·w for random w.
 *
 * <p>Tolerance, from first principles: both sides sum the M = (C/G)·H·W elements of a group in float32, in
 * different orders, so each statistic differs by at most 2M·u of its terms' magnitude (u = 2⁻²⁴); carried
 * through the normalisation (×1/σ), the affine map and SiLU (|SiLU'| ≤ 1.1), and the gradient's two group sums,
 * every value differs by at most 16(M + 16)·u of the largest value of its array.
 */
class FusedGroupNormTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  private static OutAndGrad run(boolean kernels, long[] shape, int channels, int groups, boolean channelsLast,
      boolean silu) {
    String before = System.getProperty(FastKernels.PROPERTY);
    System.setProperty(FastKernels.PROPERTY, Boolean.toString(kernels));
    try {
      SameDiff sd = SameDiff.create();
      ParameterSet params = new ParameterSet();
      GroupNorm norm = GroupNorm.create(params, "gn", groups, channels, 1e-5);
      Nd4j.getRandom().setSeed(5);
      params.get("gn.weight").assign(Nd4j.rand(DataType.FLOAT, channels).addi(0.5));
      params.get("gn.bias").assign(Nd4j.randn(DataType.FLOAT, channels).muli(0.3));
      SDVariable x = sd.placeHolder("x", DataType.FLOAT, shape);
      SDVariable xv = io.github.nablagfn.core.nn.InputGradients.track(sd, x);
      GraphScope scope = GraphScope.of(sd, "", params);
      SDVariable out = silu ? norm.forwardSilu(scope, xv, channelsLast) : norm.forward(scope, xv, channelsLast);
      out.rename("out");
      SDVariable w = sd.constant("w", Nd4j.randn(DataType.FLOAT, shape));
      out.mul(w).sum().rename("loss");
      sd.setLossVariables("loss");
      boolean fusedOp = sd.getOps().values().stream().anyMatch(o -> o.getOp() instanceof FusedGroupNorm);
      assertThat(fusedOp).as("the graph holds the Java op exactly when the kernels are on").isEqualTo(kernels);
      Nd4j.getRandom().setSeed(6);
      INDArray xs = Nd4j.randn(DataType.FLOAT, shape).muli(2).addi(0.7);
      List<String> vars = new ArrayList<>(List.of("x", "gn.weight", "gn.bias"));
      return GraphRuns.gradientsAndOutputs(sd, Map.of("x", xs), List.of("out"), vars);
    } finally {
      if (before == null) {
        System.clearProperty(FastKernels.PROPERTY);
      } else {
        System.setProperty(FastKernels.PROPERTY, before);
      }
    }
  }

  @ParameterizedTest(name = "{0} C={1} G={2} channelsLast={3} silu={4}")
  @CsvSource({
      "2x32x8x8, 32, 8, false, true", "2x8x8x32, 32, 8, true, true", "2x32x8x8, 32, 8, false, false",
      "2x8x8x32, 32, 8, true, false", "3x6x5x7, 6, 3, false, true", "3x5x7x6, 6, 3, true, true",
      "4x64x16x16, 64, 8, false, true", "4x16x16x64, 64, 8, true, true", "1x4x1x3, 4, 2, false, false"})
  void theFusedOpGivesTheComposition(String dims, int channels, int groups, boolean channelsLast, boolean silu) {
    long[] shape = java.util.Arrays.stream(dims.split("x")).mapToLong(Long::parseLong).toArray();
    OutAndGrad fused = run(true, shape, channels, groups, channelsLast, silu);
    OutAndGrad composed = run(false, shape, channels, groups, channelsLast, silu);
    long positions = shape[1] * shape[2] * shape[3] / channels;
    double bound = 16 * (channels / groups * positions + 16) * Math.pow(2, -24);
    String what = dims + (channelsLast ? " NHWC" : " NCHW") + (silu ? " silu" : "");
    compare("out " + what, fused.getOutputs().get("out"), composed.getOutputs().get("out"), bound);
    for (String v : new String[] {"x", "gn.weight", "gn.bias"}) {
      compare(v + " " + what, fused.getGradients().get(v), composed.getGradients().get(v), bound);
    }
  }

  /**
   * The backward kernel parks dL/dy in dx's memory between its passes: a dx that shares memory with x (in place)
   * or is not dense C order must get the same bits as a fresh dense one, and x must be read intact.
   */
  @ParameterizedTest(name = "channelsLast={0}")
  @CsvSource({"true", "false"})
  void theBackwardKernelTakesAnyGradientArray(boolean channelsLast) {
    long[] shape = channelsLast ? new long[] {2, 5, 7, 12} : new long[] {2, 12, 5, 7};
    Nd4j.getRandom().setSeed(11);
    INDArray x = Nd4j.randn(DataType.FLOAT, shape);
    INDArray dy = Nd4j.randn(DataType.FLOAT, shape);
    INDArray gamma = Nd4j.rand(DataType.FLOAT, 12).addi(0.5);
    INDArray beta = Nd4j.randn(DataType.FLOAT, 12);
    GroupNormKernels.Layout l = GroupNormKernels.Layout.of(x, 4, channelsLast);
    INDArray mean = Nd4j.create(DataType.FLOAT, 2, 4);
    INDArray rstd = Nd4j.create(DataType.FLOAT, 2, 4);
    GroupNormKernels.forward(l, x, gamma, beta, x.ulike(), mean, rstd, 1e-5f, true);
    INDArray dx = Nd4j.create(DataType.FLOAT, shape);
    INDArray dg = gamma.ulike();
    INDArray db = beta.ulike();
    GroupNormKernels.backward(l, x, gamma, beta, mean, rstd, dy, dx, dg, db, true);
    assertThat(dx.amaxNumber().doubleValue()).isGreaterThan(1e-3);

    INDArray inPlace = x.dup();
    GroupNormKernels.backward(l, inPlace, gamma, beta, mean, rstd, dy, inPlace, gamma.ulike(), beta.ulike(), true);
    assertThat(inPlace).as("dx in x's memory").isEqualTo(dx);

    INDArray fOrder = Nd4j.create(DataType.FLOAT, shape, 'f');
    INDArray dg2 = gamma.ulike();
    GroupNormKernels.backward(l, x, gamma, beta, mean, rstd, dy, fOrder, dg2, beta.ulike(), true);
    assertThat(fOrder).as("dx in Fortran order").isEqualTo(dx);
    assertThat(dg2).isEqualTo(dg);

    // parameters and statistics that are views or in Fortran order are read and written through copies
    INDArray gammaColumn = Nd4j.create(DataType.FLOAT, 12, 2).getColumn(1).assign(gamma); // stride 2
    INDArray gammaRow = Nd4j.create(DataType.FLOAT, 2, 12).getRow(1).assign(gamma); // dense at an offset
    INDArray meanF = Nd4j.create(DataType.FLOAT, new long[] {2, 4}, 'f');
    INDArray rstdF = Nd4j.create(DataType.FLOAT, new long[] {2, 4}, 'f');
    INDArray y = x.ulike();
    GroupNormKernels.forward(l, x, gammaColumn, beta, y, meanF, rstdF, 1e-5f, true);
    assertThat(meanF).isEqualTo(mean);
    assertThat(rstdF).isEqualTo(rstd);
    INDArray dgF = Nd4j.create(DataType.FLOAT, new long[] {12, 1}, 'f').reshape(12);
    INDArray dx3 = x.ulike();
    GroupNormKernels.backward(l, x, gammaRow, beta, meanF, rstdF, dy, dx3, dgF, beta.ulike(), true);
    assertThat(dx3).isEqualTo(dx);
    assertThat(dgF).isEqualTo(dg);
  }

  private static void compare(String what, INDArray fused, INDArray composed, double bound) {
    assertThat(fused.shape()).as(what).isEqualTo(composed.shape());
    double scale = composed.amaxNumber().doubleValue();
    assertThat(scale).as("%s: not zero", what).isGreaterThan(1e-3);
    Measured.assertDiff("FusedGroupNormTest." + what.split(" ")[0], fused.sub(composed).amaxNumber().doubleValue(),
        bound * scale);
  }
}

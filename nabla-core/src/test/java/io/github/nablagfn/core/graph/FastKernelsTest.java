package io.github.nablagfn.core.graph;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.nn.Activations;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.testing.Measured;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.SigmoidDerivative;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Each Java kernel against the ND4J op it replaces (naive: ND4J; fast: the kernel), on sizes below and above
 * the split threshold, lengths that are not a multiple of the vector width, views with an offset and extreme
 * inputs; and a plan with kernels against the same plan without them.
 *
 * <p>Tolerances, from first principles: each side evaluates sigmoid in float32 with an exp of a few ulp, so
 * the two differ by at most 4 ulp of 1 (4·2⁻²⁴ absolute: s lies in [0, 1]); the gradient g·s(1 − s) then
 * differs by at most |g|·(4·2⁻²⁴·|1 − 2s| + 4·2⁻²⁴) ≤ |g|·2⁻²¹ (the products' roundings included).
 */
class FastKernelsTest {
  private static final double SIGMOID_BOUND = 4 * Math.pow(2, -24);
  private static final double GRADIENT_BOUND = Math.pow(2, -21);

  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  private static INDArray inputs(long n, long seed) {
    Nd4j.getRandom().setSeed(seed);
    INDArray x = Nd4j.randn(DataType.FLOAT, n).muli(6);
    // the extremes: exp overflow and underflow, zero, the saturation of float32 sigmoid
    float[] special = {0f, -0f, 100f, -100f, 88.8f, -88.8f, 17f, -17f, 1e-20f, -1e-20f};
    for (int i = 0; i < special.length && i < n; i++) {
      x.putScalar(i * (n / special.length), special[i]);
    }
    return x;
  }

  @ParameterizedTest(name = "{0} elements")
  @ValueSource(ints = {1, 15, 1000, 65_537, 8 * 64 * 32 * 32 + 7})
  void sigmoidMatchesNd4j(int n) {
    assertThat(FastKernels.enabled()).as("the tests' JVMs start with the Vector API").isTrue();
    INDArray x = inputs(n, n);
    INDArray expected = Nd4j.exec(new Sigmoid(x, x.ulike()));
    INDArray actual = x.ulike();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {x}, new INDArray[] {actual}, null)).isTrue();
    JavaKernel.SIGMOID.run(new INDArray[] {x}, new INDArray[] {actual}, null);
    Measured.assertDiff("FastKernelsTest.sigmoid", actual.sub(expected).amaxNumber().doubleValue(), SIGMOID_BOUND);
  }

  @ParameterizedTest(name = "{0} elements")
  @ValueSource(ints = {1, 15, 1000, 65_537, 8 * 64 * 32 * 32 + 7})
  void sigmoidGradientMatchesNd4j(int n) {
    INDArray x = inputs(n, n + 1);
    Nd4j.getRandom().setSeed(n + 2);
    INDArray g = Nd4j.randn(DataType.FLOAT, n).muli(3);
    INDArray expected = Nd4j.exec(new SigmoidDerivative(x, g, x.ulike()))[0];
    INDArray actual = x.ulike();
    JavaKernel.SIGMOID_BACKWARD.run(new INDArray[] {x, g}, new INDArray[] {actual}, null);
    double bound = GRADIENT_BOUND * g.amaxNumber().doubleValue();
    Measured.assertDiff("FastKernelsTest.sigmoidBackward", actual.sub(expected).amaxNumber().doubleValue(), bound);
    assertThat(expected.amaxNumber().doubleValue()).as("a gradient that is not zero").isGreaterThan(0.1);
  }

  /** A view with an offset into a larger buffer is read and written at its own elements only. */
  @Test
  void viewsWithAnOffsetAreReadAndWrittenInPlace() {
    INDArray big = inputs(10 * 4096, 7).reshape(10, 4096);
    INDArray x = big.get(NDArrayIndex.interval(3, 7), NDArrayIndex.all());
    INDArray outBig = Nd4j.zeros(DataType.FLOAT, 10, 4096);
    INDArray out = outBig.get(NDArrayIndex.interval(3, 7), NDArrayIndex.all());
    assertThat(x.offset()).isPositive();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {x}, new INDArray[] {out}, null)).isTrue();
    JavaKernel.SIGMOID.run(new INDArray[] {x}, new INDArray[] {out}, null);
    INDArray expected = Nd4j.exec(new Sigmoid(x.dup(), x.dup().ulike()));
    Measured.assertDiff("FastKernelsTest.view", out.sub(expected).amaxNumber().doubleValue(), SIGMOID_BOUND);
    assertThat(outBig.get(NDArrayIndex.interval(0, 3), NDArrayIndex.all()).amaxNumber().doubleValue()).isZero();
    assertThat(outBig.get(NDArrayIndex.interval(7, 10), NDArrayIndex.all()).amaxNumber().doubleValue()).isZero();
  }

  /** Other layouts and types are left to ND4J. */
  @Test
  void onlyDenseFloat32ArraysInCOrderAreAccepted() {
    INDArray f = Nd4j.rand(DataType.FLOAT, 4, 5);
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {f}, new INDArray[] {f.ulike()}, null)).isTrue();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {f.castTo(DataType.DOUBLE)}, new INDArray[] {f.ulike()}, null))
        .isFalse();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {f.transpose()}, new INDArray[] {f.transpose().ulike()}, null))
        .isFalse();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {f.dup('f')}, new INDArray[] {f.ulike()}, null)).isFalse();
    assertThat(JavaKernel.SIGMOID.accepts(new INDArray[] {f.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2))},
        new INDArray[] {Nd4j.zeros(DataType.FLOAT, 4, 2)}, null)).isFalse();
  }

  /** The same SiLU network each call (a fresh graph, so each call plans anew). */
  private static SameDiff siluNetwork() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 64);
    Nd4j.getRandom().setSeed(3);
    SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 64, 64).muli(0.3));
    SDVariable h = Activations.silu(sd, x.mmul(w));
    h.mul(h).mean().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  private static OutAndGrad run(boolean kernels, Map<String, INDArray> ph) {
    String before = System.getProperty(FastKernels.PROPERTY);
    System.setProperty(FastKernels.PROPERTY, Boolean.toString(kernels));
    try {
      return GraphRuns.gradientsAndOutputs(siluNetwork(), ph, List.of("loss"), List.of("w"));
    } finally {
      if (before == null) {
        System.clearProperty(FastKernels.PROPERTY);
      } else {
        System.setProperty(FastKernels.PROPERTY, before);
      }
    }
  }

  /**
   * A SiLU network's output and gradients through a plan with the kernels (which run: the profile names
   * them) equal those of a plan without them within 1e-5 relative: the kernels' bounds above, carried
   * through a mean of 2048 × 64 squares and a 64-term matrix product.
   */
  @Test
  void aPlanWithKernelsGivesThePlanWithoutThem() {
    Nd4j.getRandom().setSeed(4);
    Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, 2048, 64));
    OpProfile.start();
    OutAndGrad fast = run(true, ph);
    OpProfile.Report report = OpProfile.stop();
    assertThat(report.ops().keySet()).contains("sigmoid (java)", "sigmoid_bp (java)").doesNotContain("sigmoid");
    OutAndGrad naive = run(false, ph);
    double loss = naive.getOutputs().get("loss").getDouble(0);
    Measured.assertWithin("FastKernelsTest.plan.loss", fast.getOutputs().get("loss").getDouble(0), loss,
        1e-5 * Math.abs(loss));
    INDArray gw = naive.getGradients().get("w");
    double diff = fast.getGradients().get("w").sub(gw).amaxNumber().doubleValue();
    Measured.assertDiff("FastKernelsTest.plan.gradient", diff, 1e-5 * gw.amaxNumber().doubleValue());
  }
}

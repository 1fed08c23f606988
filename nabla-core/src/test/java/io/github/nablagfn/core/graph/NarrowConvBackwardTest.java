package io.github.nablagfn.core.graph;

import static io.github.nablagfn.core.graph.ConvReference.exact;
import static io.github.nablagfn.core.graph.ConvReference.inputs;
import static io.github.nablagfn.core.graph.ConvReference.outputs;
import static io.github.nablagfn.core.graph.ConvReference.randn;
import static io.github.nablagfn.core.graph.ConvReference.share;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.graph.ConvReference.Case;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.testing.Measured;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link JavaKernel#NARROW_CONV2D_BACKWARD} (conv2d_bp with at most 4 output channels) against the exact gradients
 * (double-precision loops over the definition) and against ND4J's {@code conv2d_bp}: input channels that leave
 * vector tails (1, 5, 17, 37 and 32, a multiple of both lane counts), 1 to 4 output channels, padding from none to
 * kernel − 1, same mode, non-square and 1×1 kernels, with and without bias, below and above the threading threshold.
 *
 * <p>Tolerances, from first principles (Higham, <i>Accuracy and Stability of Numerical Algorithms</i>, §3.1): a
 * float32 sum of n products computed in any order, with or without fused multiply-adds, lies within γ_n·Σ|terms|
 * of the exact sum, γ_n = n·u/(1 − n·u), u = 2⁻²⁴; each gradient element is checked against its own bound, with n
 * its number of terms (B·Ho·Wo for dw and db, kH·kW·Co for dx) and Σ|terms| computed in double.
 */
class NarrowConvBackwardTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        new Case(2, 7, 9, 37, 1, 3, 3, 1, 1, false, true), // channel tails, non-square image
        new Case(3, 8, 8, 5, 3, 3, 3, 0, 0, false, false), // no padding, no bias, 3 output channels
        new Case(2, 6, 5, 17, 2, 5, 5, 0, 0, true, true), // same mode, 5×5
        new Case(1, 5, 6, 1, 4, 1, 1, 0, 0, false, true), // 1×1, one input channel, 4 output channels
        new Case(2, 6, 6, 32, 1, 3, 3, 2, 2, false, true), // padding kernel − 1: y is larger than x
        new Case(2, 4, 9, 32, 2, 3, 1, 1, 0, false, true), // a 3×1 kernel
        new Case(8, 32, 32, 32, 1, 3, 3, 1, 1, false, true)) // a U-Net's output layer, threaded
        .map(Arguments::of);
  }

  private static void assertExact(String probe, Case c, INDArray[] in, INDArray[] out) {
    double[][] e = exact(c, in[0], in[1], in[in.length - 1]);
    long pixels = (long) c.b() * c.ho() * c.wo();
    Measured.assertDiff(probe + ".dx", share(out[0], e[0], e[1], (long) c.kh() * c.kw() * c.co()), 1);
    Measured.assertDiff(probe + ".dw", share(out[1], e[2], e[3], pixels), 1);
    if (out.length == 3) {
      Measured.assertDiff(probe + ".db", share(out[2], e[4], e[5], pixels), 1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theKernelsGradientsAreWithinTheFloatBoundOfTheExactOnes(Case c) {
    assertThat(FastKernels.enabled()).as("the tests' JVMs start with the Vector API").isTrue();
    INDArray[] in = inputs(c);
    INDArray[] out = outputs(in);
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(in, out, c.iArgs())).isTrue();
    JavaKernel.NARROW_CONV2D_BACKWARD.run(in, out, c.iArgs());
    assertExact("NarrowConvBackwardTest.kernel", c, in, out);

    INDArray[] nd4j = outputs(in);
    Nd4j.exec(DynamicCustomOp.builder("conv2d_bp").addInputs(in).addOutputs(nd4j)
        .addIntegerArguments(Arrays.stream(c.iArgs()).mapToInt(Math::toIntExact).toArray()).build());
    assertExact("NarrowConvBackwardTest.nd4j", c, in, nd4j);
  }

  /** Each element is summed by one thread in pixel order: 1 and 2 threads give the same bits. */
  @Test
  void theThreadCountDoesNotChangeTheBits() {
    Case c = new Case(8, 32, 32, 37, 3, 3, 3, 1, 1, false, true);
    INDArray[] in = inputs(c);
    INDArray[] one = outputs(in);
    INDArray[] two = outputs(in);
    NarrowConvBackward.run(in, one, c.iArgs(), 1);
    NarrowConvBackward.run(in, two, c.iArgs(), 2);
    for (int k = 1; k < one.length; k++) {
      assertThat(two[k].data().asFloat()).containsExactly(one[k].data().asFloat());
    }
  }

  @Test
  void callsOutsideTheKernelsScopeAreLeftToNd4j() {
    Case c = new Case(2, 6, 6, 4, 2, 3, 3, 1, 1, false, true);
    INDArray[] in = inputs(c);
    INDArray[] out = outputs(in);
    long[] ok = c.iArgs();
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(in, out, ok)).isTrue();
    for (int arg : new int[] {2, 3, 6, 7}) { // stride, dilation
      long[] a = ok.clone();
      a[arg] = 2;
      assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(in, out, a)).as("argument %d = 2", arg).isFalse();
    }
    long[] nchw = ok.clone();
    nchw[9] = 0;
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(in, out, nchw)).as("NCHW").isFalse();
    Case wide = new Case(2, 6, 6, 4, 5, 3, 3, 1, 1, false, true);
    INDArray[] w = inputs(wide);
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(w, outputs(w), wide.iArgs())).as("5 output channels")
        .isFalse();
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(in, new INDArray[] {out[0], out[1]}, ok))
        .as("no bias gradient").isFalse();
    INDArray[] doubles = {in[0].castTo(DataType.DOUBLE), in[1], in[2], in[3]};
    assertThat(JavaKernel.NARROW_CONV2D_BACKWARD.accepts(doubles, out, ok)).as("float64").isFalse();
  }

  /** L = Σ conv(x)·r for a trained 3×3 convolution with one output channel (a fresh graph each call). */
  private static SameDiff network(INDArray x, INDArray w, INDArray r) {
    SameDiff sd = SameDiff.create();
    SDVariable y = sd.cnn().conv2d(sd.var("x", x), sd.var("w", w), sd.var("b", Nd4j.zeros(DataType.FLOAT, w.size(3))),
        Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dataFormat("NHWC").build());
    y.mul(sd.constant("r", r)).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  /**
   * In a plan, a trained output layer's conv2d_bp runs the kernel (the profile names it) and gives all three
   * gradients of L = Σ conv(x)·r within the float bound of the exact ones (L's output gradient is r itself);
   * {@code -Dnabla.javaConvBackprop=false} runs ND4J's op.
   */
  @Test
  void aPlanRunsTheKernelForATrainedOutputLayer() {
    Case c = new Case(4, 16, 16, 32, 1, 3, 3, 1, 1, false, true);
    INDArray x = randn(21, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(22, c.kh(), c.kw(), c.ci(), c.co());
    INDArray r = randn(23, c.b(), c.ho(), c.wo(), c.co());
    List<String> wrt = List.of("x", "w", "b");
    OpProfile.start();
    OutAndGrad g = GraphRuns.gradientsAndOutputs(network(x, w, r), Map.of(), List.of("loss"), wrt);
    assertThat(OpProfile.stop().ops().keySet()).contains("conv2d_bp (java)").doesNotContain("conv2d_bp");
    INDArray[] out = {g.getGradients().get("x"), g.getGradients().get("w"), g.getGradients().get("b")};
    assertExact("NarrowConvBackwardTest.plan", c, new INDArray[] {x, w, Nd4j.zeros(DataType.FLOAT, 1), r}, out);

    System.setProperty(FastKernels.CONV_BACKPROP_PROPERTY, "false");
    try {
      OpProfile.start();
      GraphRuns.gradientsAndOutputs(network(x, w, r), Map.of(), List.of("loss"), wrt);
      assertThat(OpProfile.stop().ops().keySet()).contains("conv2d_bp").doesNotContain("conv2d_bp (java)");
    } finally {
      System.clearProperty(FastKernels.CONV_BACKPROP_PROPERTY);
    }
  }
}

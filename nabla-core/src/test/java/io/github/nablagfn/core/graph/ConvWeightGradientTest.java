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
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link JavaKernel#CONV2D_WEIGHT_GRADIENT} (conv2d_bp's weight and bias gradients alone) against the exact
 * gradients (double-precision loops over the definition, {@link ConvReference}), each element within its own
 * float32 bound γ_n·Σ|terms| (n = B·Ho·Wo terms; Higham, §3.1, as in {@code NarrowConvBackwardTest}): input
 * channels odd and even (1, 3, 32, 37), output channels that leave vector tails at 8 and 16 lanes (5, 12, 19, 32,
 * 70), padding from none to kernel − 1, same mode, non-square and 1×1 kernels, with and without bias, below and
 * above the threading threshold; the input gradient's array is not written.
 */
class ConvWeightGradientTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        new Case(2, 7, 9, 1, 32, 3, 3, 1, 1, false, true), // a first layer: one input channel
        new Case(3, 8, 8, 3, 12, 3, 3, 0, 0, false, false), // odd input channels, no padding, no bias
        new Case(2, 6, 5, 37, 19, 5, 5, 0, 0, true, true), // same mode, 5×5, tails everywhere
        new Case(1, 5, 6, 4, 70, 1, 1, 0, 0, false, true), // 1×1, more than one block of four vectors
        new Case(2, 6, 6, 32, 5, 3, 3, 2, 2, false, true), // padding kernel − 1: y is larger than x
        new Case(2, 4, 9, 3, 16, 3, 1, 1, 0, false, true), // a 3×1 kernel
        new Case(8, 32, 32, 1, 32, 3, 3, 1, 1, false, true), // a U-Net's first layer, threaded
        new Case(4, 16, 16, 32, 32, 3, 3, 1, 1, false, true)) // 32 → 32, threaded
        .map(Arguments::of);
  }

  private static void assertExact(String probe, Case c, INDArray[] in, INDArray[] out) {
    double[][] e = exact(c, in[0], in[1], in[in.length - 1]);
    long pixels = (long) c.b() * c.ho() * c.wo();
    Measured.assertDiff(probe + ".dw", share(out[1], e[2], e[3], pixels), 1);
    if (out.length == 3) {
      Measured.assertDiff(probe + ".db", share(out[2], e[4], e[5], pixels), 1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theWeightAndBiasGradientsAreWithinTheFloatBoundOfTheExactOnes(Case c) {
    assertThat(FastKernels.enabled()).as("the tests' JVMs start with the Vector API").isTrue();
    INDArray[] in = inputs(c);
    INDArray[] out = outputs(in);
    out[0].assign(7f);
    assertThat(FastKernels.takes(FastKernels.WEIGHT_GRADIENT_OP, in, out, c.iArgs())).isTrue();
    FastKernels.run(FastKernels.WEIGHT_GRADIENT_OP, in, out, c.iArgs());
    assertExact("ConvWeightGradientTest.kernel", c, in, out);
    assertThat(out[0].minNumber().floatValue()).as("dx untouched").isEqualTo(7f);
    assertThat(out[0].maxNumber().floatValue()).as("dx untouched").isEqualTo(7f);
  }

  /** Each element is summed by one thread in pixel order, in its own lane: 1 and 2 threads give the same bits. */
  @Test
  void theThreadCountDoesNotChangeTheBits() {
    Case c = new Case(8, 32, 32, 37, 19, 3, 3, 1, 1, false, true);
    INDArray[] in = inputs(c);
    INDArray[] one = outputs(in);
    INDArray[] two = outputs(in);
    ConvWeightGradient.run(in, one, c.iArgs(), 1);
    ConvWeightGradient.run(in, two, c.iArgs(), 2);
    for (int k = 1; k < one.length; k++) {
      assertThat(two[k].data().asFloat()).containsExactly(one[k].data().asFloat());
    }
  }

  /** Narrow layers take the same weight gradient as {@link NarrowConvBackward}: the same bits. */
  @Test
  void withFewOutputChannelsTheBitsAreNarrowConvBackwardsOnes() {
    Case c = new Case(4, 12, 12, 37, 3, 3, 3, 1, 1, false, true);
    INDArray[] in = inputs(c);
    INDArray[] weights = outputs(in);
    INDArray[] all = outputs(in);
    ConvWeightGradient.run(in, weights, c.iArgs(), 2);
    NarrowConvBackward.run(in, all, c.iArgs(), 2);
    for (int k = 1; k < all.length; k++) {
      assertThat(weights[k].data().asFloat()).containsExactly(all[k].data().asFloat());
    }
  }

  @Test
  void callsOutsideTheKernelsScopeAreLeftToNd4j() {
    Case c = new Case(2, 6, 6, 4, 9, 3, 3, 1, 1, false, true);
    INDArray[] in = inputs(c);
    INDArray[] out = outputs(in);
    long[] ok = c.iArgs();
    JavaKernel k = JavaKernel.CONV2D_WEIGHT_GRADIENT;
    assertThat(k.accepts(in, out, ok)).isTrue();
    for (int arg : new int[] {2, 3, 6, 7}) { // stride, dilation
      long[] a = ok.clone();
      a[arg] = 2;
      assertThat(k.accepts(in, out, a)).as("argument %d = 2", arg).isFalse();
    }
    long[] nchw = ok.clone();
    nchw[9] = 0;
    assertThat(k.accepts(in, out, nchw)).as("NCHW").isFalse();
    assertThat(k.accepts(in, new INDArray[] {out[0], out[1]}, ok)).as("no bias gradient").isFalse();
    INDArray[] doubles = {in[0].castTo(DataType.DOUBLE), in[1], in[2], in[3]};
    assertThat(k.accepts(doubles, out, ok)).as("float64").isFalse();
    INDArray[] fortran = {in[0], in[1], in[2], in[3].dup('f')};
    assertThat(k.accepts(fortran, out, ok)).as("dy in Fortran order").isFalse();
  }

  /** L = Σ conv(x)·r for a trained 3×3 convolution, x a placeholder (a fresh graph each call). */
  private static SameDiff network(INDArray w, INDArray r) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, r.size(1), r.size(2), w.size(2));
    SDVariable y = sd.cnn().conv2d(x, sd.var("w", w), sd.var("b", Nd4j.zeros(DataType.FLOAT, w.size(3))),
        Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dataFormat("NHWC").build());
    y.mul(sd.constant("r", r)).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  /**
   * In a plan, a trained first layer differentiated for its weights only runs the kernel (the profile names it)
   * and gives the weight and bias gradients of L = Σ conv(x)·r within the float bound of the exact ones (L's output
   * gradient is r itself); asked for x's gradient too, or with {@code -Dnabla.javaConvBackprop=false}, the plan
   * runs ND4J's op.
   */
  @Test
  void aPlanRunsTheKernelWhereNothingReadsTheInputGradient() {
    Case c = new Case(4, 16, 16, 1, 32, 3, 3, 1, 1, false, true);
    INDArray x = randn(31, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(32, c.kh(), c.kw(), c.ci(), c.co());
    INDArray r = randn(33, c.b(), c.ho(), c.wo(), c.co());
    Map<String, INDArray> ph = Map.of("x", x);
    OpProfile.start();
    OutAndGrad g = GraphRuns.gradientsAndOutputs(network(w, r), ph, List.of("loss"), List.of("w", "b"));
    assertThat(OpProfile.stop().ops().keySet()).contains("conv2d_bp (java)").doesNotContain("conv2d_bp");
    INDArray[] out = {x.ulike(), g.getGradients().get("w"), g.getGradients().get("b")};
    assertExact("ConvWeightGradientTest.plan", c, new INDArray[] {x, w, Nd4j.zeros(DataType.FLOAT, 1), r}, out);

    OpProfile.start();
    GraphRuns.gradientsAndOutputs(network(w, r), ph, List.of("loss"), List.of("w", "b", "x"));
    assertThat(OpProfile.stop().ops().keySet()).as("x's gradient read").contains("conv2d_bp")
        .doesNotContain("conv2d_bp (java)");

    System.setProperty(FastKernels.CONV_BACKPROP_PROPERTY, "false");
    try {
      OpProfile.start();
      GraphRuns.gradientsAndOutputs(network(w, r), ph, List.of("loss"), List.of("w", "b"));
      assertThat(OpProfile.stop().ops().keySet()).contains("conv2d_bp").doesNotContain("conv2d_bp (java)");
    } finally {
      System.clearProperty(FastKernels.CONV_BACKPROP_PROPERTY);
    }
  }
}

package io.github.nablagfn.core.graph;

import static io.github.nablagfn.core.graph.ConvReference.exact;
import static io.github.nablagfn.core.graph.ConvReference.inputs;
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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link JavaKernel#DECONV2D} (a stride-1 {@code deconv2d} as the forward convolution with the flipped kernel)
 * against the exact input gradient of the convolution it transposes (double-precision loops over the definition)
 * and against ND4J's {@code deconv2d}, on channel counts from 2 to 37, padding from none to kernel − 1, same mode,
 * non-square and 1×1 kernels; and in a plan, where it replaces every input-only {@code conv2d_bp}.
 *
 * <p>Tolerances, from first principles (Higham, <i>Accuracy and Stability of Numerical Algorithms</i>, §3.1): a
 * float32 sum of n products computed in any order, with or without fused multiply-adds, lies within
 * γ_n·Σ|terms| of the exact sum, γ_n = n·u/(1 − n·u), u = 2⁻²⁴. Each element of dx is checked against its own
 * bound, with n = kH·kW·Co its number of terms and Σ|terms| computed in double. ND4J's {@code deconv2d} and
 * {@code conv2d_bp} are held to the same bound (a check that the kernel computes what the op defines).
 */
class TransposedConvTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        new Case(2, 7, 9, 5, 37, 3, 3, 1, 1, false, false), // odd channel counts, non-square image
        new Case(3, 8, 8, 8, 16, 3, 3, 0, 0, false, false), // no padding: x is larger than y
        new Case(2, 6, 5, 3, 7, 5, 5, 0, 0, true, false), // same mode, 5×5
        new Case(1, 5, 6, 4, 33, 1, 1, 0, 0, false, false), // 1×1
        new Case(2, 6, 6, 4, 8, 3, 3, 2, 2, false, false), // padding kernel − 1: y is larger than x
        new Case(2, 4, 9, 6, 2, 3, 1, 1, 0, false, false), // a 3×1 kernel
        new Case(4, 16, 16, 12, 40, 3, 3, 1, 1, false, false),
        new Case(2, 32, 32, 32, 1, 3, 3, 1, 1, true, false), // the U-Net's output convolution
        new Case(8, 32, 32, 32, 32, 3, 3, 1, 1, false, false)) // the first level at batch 8: taken by plans
        .map(Arguments::of);
  }

  /**
   * A stride-1 {@code deconv2d} of dy with the convolution's weights is that convolution's input gradient: the
   * kernel and ND4J's op both within its float bound.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theKernelIsTheConvolutionsInputGradient(Case c) {
    INDArray[] conv = inputs(c);
    INDArray dy = conv[2];
    INDArray[] in = {dy, conv[1]};
    INDArray[] out = {conv[0].ulike()};
    assertThat(JavaKernel.DECONV2D.accepts(in, out, c.iArgs())).as("taken by plans")
        .isEqualTo(c.b() * c.h() * c.w() >= TransposedConv.MIN_PIXELS);
    TransposedConv.run(in, out, c.iArgs());
    double[][] e = exact(c, conv[0], conv[1], dy);
    long n = (long) c.kh() * c.kw() * c.co();
    Measured.assertDiff("TransposedConvTest.kernel", share(out[0], e[0], e[1], n), 1);
    INDArray nd4j = conv[0].ulike();
    Nd4j.exec(DynamicCustomOp.builder("deconv2d").addInputs(in).addOutputs(nd4j)
        .addIntegerArguments(Arrays.stream(c.iArgs()).mapToInt(Math::toIntExact).toArray()).build());
    Measured.assertDiff("TransposedConvTest.nd4j", share(nd4j, e[0], e[1], n), 1);
  }

  @Test
  void callsOutsideTheKernelsScopeAreLeftToNd4j() {
    Case c = new Case(32, 16, 16, 4, 8, 3, 3, 1, 1, false, false);
    INDArray[] conv = inputs(c);
    INDArray[] in = {conv[2], conv[1]};
    INDArray[] out = {conv[0].ulike()};
    long[] ok = c.iArgs();
    assertThat(JavaKernel.DECONV2D.accepts(in, out, ok)).isTrue();
    for (int arg : new int[] {2, 3, 6, 7}) { // stride, dilation
      long[] a = ok.clone();
      a[arg] = 2;
      assertThat(JavaKernel.DECONV2D.accepts(in, out, a)).as("argument %d = 2", arg).isFalse();
    }
    long[] nchw = ok.clone();
    nchw[9] = 0;
    assertThat(JavaKernel.DECONV2D.accepts(in, out, nchw)).as("NCHW").isFalse();
    long[] oihw = ok.clone();
    oihw[10] = 1;
    assertThat(JavaKernel.DECONV2D.accepts(in, out, oihw)).as("weights (oC, iC, kH, kW)").isFalse();
    long[] tooMuchPadding = ok.clone();
    tooMuchPadding[4] = 3;
    assertThat(JavaKernel.DECONV2D.accepts(in, out, tooMuchPadding)).as("padding 3 of a 3×3 kernel").isFalse();
    Case even = new Case(32, 16, 16, 4, 8, 2, 2, 0, 0, true, false);
    INDArray[] e = inputs(even);
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {e[2], e[1]}, new INDArray[] {e[0].ulike()},
        even.iArgs())).as("same mode, 2×2").isFalse();
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {in[0].castTo(DataType.DOUBLE), in[1]},
        new INDArray[] {out[0].castTo(DataType.DOUBLE)}, ok)).as("float64").isFalse();
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {in[0], in[1], Nd4j.zeros(DataType.FLOAT, c.ci())}, out,
        ok)).as("with a bias").isFalse();
    Case small = new Case(64, 8, 8, 4, 8, 3, 3, 1, 1, false, false);
    INDArray[] sm = inputs(small);
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {sm[2], sm[1]}, new INDArray[] {sm[0].ulike()},
        small.iArgs())).as("64×8×8 output: ND4J's deconv2d is faster there").isFalse();
  }

  /** L = Σ conv(x)·r for a frozen 3×3 convolution (a fresh graph each call, so each call plans anew). */
  private static SameDiff network(INDArray x, INDArray w, INDArray r) {
    SameDiff sd = SameDiff.create();
    SDVariable y = sd.cnn().conv2d(sd.var("x", x), sd.constant("w", w),
        sd.constant("b", Nd4j.zeros(DataType.FLOAT, w.size(3))),
        Conv2DConfig.builder().kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dataFormat("NHWC").build());
    y.mul(sd.constant("r", r)).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  /**
   * In a plan, the gradient of L = Σ conv(x)·r for x alone (a frozen network differentiated for its input, as the
   * ∇-DB loss does) runs the kernel (the profile names it) and lies within the float bound of the exact input
   * gradient (L's output gradient is r itself); {@code -Dnabla.javaDeconv=false} runs ND4J's deconv2d instead.
   */
  @Test
  void aPlanRunsTheKernelForAnInputOnlyGradient() {
    Case c = new Case(32, 16, 16, 6, 20, 3, 3, 1, 1, false, false);
    INDArray x = randn(11, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(12, c.kh(), c.kw(), c.ci(), c.co());
    INDArray r = randn(13, c.b(), c.ho(), c.wo(), c.co());
    OpProfile.start();
    INDArray dx = GraphRuns.gradientsAndOutputs(network(x, w, r), Map.of(), List.of("loss"), List.of("x"))
        .getGradients().get("x");
    assertThat(OpProfile.stop().ops().keySet()).contains("deconv2d (java)").doesNotContain("deconv2d", "conv2d_bp");
    double[][] e = exact(c, x, w, r);
    Measured.assertDiff("TransposedConvTest.plan", share(dx, e[0], e[1], (long) c.kh() * c.kw() * c.co()), 1);

    System.setProperty(FastKernels.DECONV_PROPERTY, "false");
    try {
      OpProfile.start();
      GraphRuns.gradientsAndOutputs(network(x, w, r), Map.of(), List.of("loss"), List.of("x"));
      assertThat(OpProfile.stop().ops().keySet()).contains("deconv2d").doesNotContain("deconv2d (java)");
    } finally {
      System.clearProperty(FastKernels.DECONV_PROPERTY);
    }
  }
}

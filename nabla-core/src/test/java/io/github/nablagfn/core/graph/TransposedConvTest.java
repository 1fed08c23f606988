package io.github.nablagfn.core.graph;

import static org.assertj.core.api.Assertions.assertThat;

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
  private static final double U = Math.pow(2, -24);

  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  /** One convolution x (B, H, W, Ci) → y (B, Ho, Wo, Co): sizes, kernel, padding, same mode. */
  record Case(int b, int h, int w, int ci, int co, int kh, int kw, int ph, int pw, boolean same) {
    long[] iArgs() {
      return new long[] {kh, kw, 1, 1, ph, pw, 1, 1, same ? 1 : 0, 1, 0};
    }

    int padH() {
      return same ? (kh - 1) / 2 : ph;
    }

    int padW() {
      return same ? (kw - 1) / 2 : pw;
    }

    int ho() {
      return h + 2 * padH() - kh + 1;
    }

    int wo() {
      return w + 2 * padW() - kw + 1;
    }
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        new Case(2, 7, 9, 5, 37, 3, 3, 1, 1, false), // odd channel counts, non-square image
        new Case(3, 8, 8, 8, 16, 3, 3, 0, 0, false), // no padding: x is larger than y
        new Case(2, 6, 5, 3, 7, 5, 5, 0, 0, true), // same mode, 5×5
        new Case(1, 5, 6, 4, 33, 1, 1, 0, 0, false), // 1×1
        new Case(2, 6, 6, 4, 8, 3, 3, 2, 2, false), // padding kernel − 1: y is larger than x
        new Case(2, 4, 9, 6, 2, 3, 1, 1, 0, false), // a 3×1 kernel
        new Case(4, 16, 16, 12, 40, 3, 3, 1, 1, false),
        new Case(2, 32, 32, 32, 1, 3, 3, 1, 1, true), // the U-Net's output convolution
        new Case(8, 32, 32, 32, 32, 3, 3, 1, 1, false)) // the U-Net's first level, batch 8: plans run the kernel
        .map(Arguments::of);
  }

  private static INDArray randn(long seed, long... shape) {
    Nd4j.getRandom().setSeed(seed);
    return Nd4j.randn(DataType.FLOAT, shape);
  }

  /** The exact input gradient and, per element, Σ|terms| (double loops over the definition). */
  private static final class Exact {
    final double[] dx;
    final double[] dxAbs;

    Exact(Case c, INDArray xa, INDArray wa, INDArray dya) {
      double[] w = wa.dup().data().asDouble();
      double[] dy = dya.dup().data().asDouble();
      dx = new double[(int) xa.length()];
      dxAbs = new double[dx.length];
      for (int b = 0; b < c.b(); b++) {
        for (int oh = 0; oh < c.ho(); oh++) {
          for (int ow = 0; ow < c.wo(); ow++) {
            int yAt = ((b * c.ho() + oh) * c.wo() + ow) * c.co();
            for (int kh = 0; kh < c.kh(); kh++) {
              int ih = oh + kh - c.padH();
              for (int kw = 0; kw < c.kw(); kw++) {
                int iw = ow + kw - c.padW();
                if (ih < 0 || ih >= c.h() || iw < 0 || iw >= c.w()) {
                  continue;
                }
                int xAt = ((b * c.h() + ih) * c.w() + iw) * c.ci();
                for (int i = 0; i < c.ci(); i++) {
                  int wAt = ((kh * c.kw() + kw) * c.ci() + i) * c.co();
                  for (int o = 0; o < c.co(); o++) {
                    double t = w[wAt + o] * dy[yAt + o];
                    dx[xAt + i] += t;
                    dxAbs[xAt + i] += Math.abs(t);
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  private static double gamma(long n) {
    return n * U / (1 - n * U);
  }

  /** max over elements of |actual − exact| / (γ_n·Σ|terms|) (a bound of 0 only for an exact 0). */
  private static double share(INDArray actual, double[] exact, double[] abs, long n) {
    double[] a = actual.dup().data().asDouble();
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      double diff = Math.abs(a[i] - exact[i]);
      double bound = gamma(n) * abs[i];
      worst = Math.max(worst, bound == 0 ? (diff == 0 ? 0 : Double.POSITIVE_INFINITY) : diff / bound);
    }
    return worst;
  }

  /** x, w and dy of the case (x only for its shape and the exact gradient's loops). */
  private static INDArray[] inputs(Case c) {
    long seed = c.toString().hashCode();
    INDArray x = randn(seed, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(seed + 1, c.kh(), c.kw(), c.ci(), c.co());
    INDArray dy = randn(seed + 2, c.b(), c.ho(), c.wo(), c.co());
    return new INDArray[] {x, w, dy};
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
    Exact e = new Exact(c, conv[0], conv[1], dy);
    long n = (long) c.kh() * c.kw() * c.co();
    Measured.assertDiff("TransposedConvTest.kernel", share(out[0], e.dx, e.dxAbs, n), 1);
    INDArray nd4j = conv[0].ulike();
    Nd4j.exec(DynamicCustomOp.builder("deconv2d").addInputs(in).addOutputs(nd4j)
        .addIntegerArguments(Arrays.stream(c.iArgs()).mapToInt(Math::toIntExact).toArray()).build());
    Measured.assertDiff("TransposedConvTest.nd4j", share(nd4j, e.dx, e.dxAbs, n), 1);
  }

  @Test
  void callsOutsideTheKernelsScopeAreLeftToNd4j() {
    Case c = new Case(32, 16, 16, 4, 8, 3, 3, 1, 1, false);
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
    Case even = new Case(32, 16, 16, 4, 8, 2, 2, 0, 0, true);
    INDArray[] e = inputs(even);
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {e[2], e[1]}, new INDArray[] {e[0].ulike()},
        even.iArgs())).as("same mode, 2×2").isFalse();
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {in[0].castTo(DataType.DOUBLE), in[1]},
        new INDArray[] {out[0].castTo(DataType.DOUBLE)}, ok)).as("float64").isFalse();
    assertThat(JavaKernel.DECONV2D.accepts(new INDArray[] {in[0], in[1], Nd4j.zeros(DataType.FLOAT, c.ci())}, out,
        ok)).as("with a bias").isFalse();
    Case small = new Case(64, 8, 8, 4, 8, 3, 3, 1, 1, false);
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
    Case c = new Case(32, 16, 16, 6, 20, 3, 3, 1, 1, false);
    INDArray x = randn(11, c.b(), c.h(), c.w(), c.ci());
    INDArray w = randn(12, c.kh(), c.kw(), c.ci(), c.co());
    INDArray r = randn(13, c.b(), c.ho(), c.wo(), c.co());
    OpProfile.start();
    INDArray dx = GraphRuns.gradientsAndOutputs(network(x, w, r), Map.of(), List.of("loss"), List.of("x"))
        .getGradients().get("x");
    assertThat(OpProfile.stop().ops().keySet()).contains("deconv2d (java)").doesNotContain("deconv2d", "conv2d_bp");
    Exact e = new Exact(c, x, w, r);
    Measured.assertDiff("TransposedConvTest.plan", share(dx, e.dx, e.dxAbs, (long) c.kh() * c.kw() * c.co()), 1);

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

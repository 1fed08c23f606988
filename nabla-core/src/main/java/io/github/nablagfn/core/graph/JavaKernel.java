package io.github.nablagfn.core.graph;

import io.github.nablagfn.core.runtime.NablaRuntime;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A Java implementation of one ND4J op for {@link GraphPlan}: same inputs, same outputs, same layout. It
 * runs when every array is dense float32 ({@link FastKernels#dense}); otherwise the plan runs the ND4J op.
 */
enum JavaKernel {
  /** sigmoid(x) = 1/(1 + e^−x); inputs (x), outputs (y). */
  SIGMOID {
    @Override
    void run(INDArray[] in, INDArray[] out, long[] iArgs) {
      var x = FastKernels.bytes(in[0]);
      var y = FastKernels.bytes(out[0]);
      FastKernels.parallel((int) in[0].length(), threads(), (from, to) -> VectorKernels.sigmoid(x, y, from, to));
    }
  },
  /** sigmoid_bp: inputs (x, dL/dy), outputs dL/dx = dL/dy · s(1 − s) with s = sigmoid(x). */
  SIGMOID_BACKWARD {
    @Override
    void run(INDArray[] in, INDArray[] out, long[] iArgs) {
      var x = FastKernels.bytes(in[0]);
      var g = FastKernels.bytes(in[1]);
      var dx = FastKernels.bytes(out[0]);
      FastKernels.parallel((int) in[0].length(), threads(),
          (from, to) -> VectorKernels.sigmoidBackward(x, g, dx, from, to));
    }

    @Override
    boolean accepts(INDArray[] in, INDArray[] out, long[] iArgs) {
      return super.accepts(in, out, iArgs) && in.length == 2 && in[1].length() == in[0].length();
    }
  },
  /**
   * deconv2d of stride 1 without bias, channels-last, weights (kH, kW, oC, iC): inputs (y, w), output x; as
   * {@link PlanRewrites} substitutes it for a {@code conv2d_bp} whose weight gradient nobody reads. Runs ND4J's
   * forward {@code conv2d} with the flipped kernel ({@link TransposedConv}).
   */
  DECONV2D {
    @Override
    void run(INDArray[] in, INDArray[] out, long[] iArgs) {
      TransposedConv.run(in, out, iArgs);
    }

    @Override
    boolean accepts(INDArray[] in, INDArray[] out, long[] iArgs) {
      return TransposedConv.accepts(in, out, iArgs);
    }
  },
  /**
   * conv2d_bp of a stride-1 channels-last convolution with at most 4 output channels: inputs (x, w[, b], dL/dy),
   * outputs (dL/dx, dL/dw[, dL/db]) ({@link NarrowConvBackward}).
   */
  NARROW_CONV2D_BACKWARD {
    @Override
    void run(INDArray[] in, INDArray[] out, long[] iArgs) {
      NarrowConvBackward.run(in, out, iArgs, threads());
    }

    @Override
    boolean accepts(INDArray[] in, INDArray[] out, long[] iArgs) {
      return NarrowConvBackward.accepts(in, out, iArgs);
    }
  },
  /**
   * conv2d_bp of a stride-1 channels-last convolution whose input gradient nothing reads: inputs (x, w[, b],
   * dL/dy), outputs (dL/dx, left as it is, dL/dw[, dL/db]) ({@link ConvWeightGradient}); chosen by the plan
   * ({@link PlanRewrites#weightOnlyConvBackprop}), not by op name.
   */
  CONV2D_WEIGHT_GRADIENT {
    @Override
    void run(INDArray[] in, INDArray[] out, long[] iArgs) {
      ConvWeightGradient.run(in, out, iArgs, threads());
    }

    @Override
    boolean accepts(INDArray[] in, INDArray[] out, long[] iArgs) {
      return ConvWeightGradient.accepts(in, out, iArgs);
    }
  };

  /** Computes the op's outputs from its inputs and its integer arguments. */
  abstract void run(INDArray[] in, INDArray[] out, long[] iArgs);

  /**
   * Whether the kernel can run on these arrays and integer arguments (by default: every array dense float32 of
   * the first input's length).
   */
  boolean accepts(INDArray[] in, INDArray[] out, long[] iArgs) {
    return in.length > 0 && out.length == 1 && FastKernels.allDense(in) && FastKernels.allDense(out)
        && out[0].length() == in[0].length();
  }

  private static int threads() {
    return Math.max(1, Integer.getInteger(NablaRuntime.THREADS_PROPERTY, NablaRuntime.threads()));
  }
}

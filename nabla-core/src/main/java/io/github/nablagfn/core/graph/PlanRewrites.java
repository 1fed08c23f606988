package io.github.nablagfn.core.graph;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;

/**
 * Where a {@link GraphPlan} departs from the graph's ops to do the same with less (each checked against
 * SameDiff's own run in {@code GraphPlanTest}): arrays read only for their shapes, {@code conv2d_bp} as
 * {@code deconv2d} when only its input gradient is read, {@code add_bp} of equal shapes as aliases, and
 * reshapes of contiguous op outputs as views; and, checked against exact gradients in
 * {@code ConvWeightGradientTest}, {@code conv2d_bp} as its weight and bias gradients alone (a Java kernel) when
 * its input gradient is not read.
 */
final class PlanRewrites {
  private PlanRewrites() {}

  /**
   * Ops that read their first inputs only for their shapes (libnd4j's kernels: the gradient of a sum or
   * a mean is the output gradient spread over the input's shape; {@code concat_bp} slices the output
   * gradient at the inputs' sizes). SameDiff's backward graph hands them the forward arrays, which
   * would keep every such array alive from the forward to the backward pass: GroupNorm's grouped copy,
   * its squared deviations, its zeros, its normalised output and its reshape are all only ever read this
   * way in backprop. The plan frees such arrays after their last value read and still passes the
   * array object (whose slot may hold another value by then: same shape, other contents).
   */
  private static final Map<String, Integer> SHAPE_ONLY = Map.of(
      "add_bp", 2, "subtract_bp", 2, "reduce_mean_bp", 1, "reduce_sum_bp", 1, "shape_of", 1,
      "zeroslike", 1, "ones_as", 1);

  /** How many leading inputs of {@code op} are read for their shapes only (0 if none). */
  static int shapeOnlyInputs(String op, int inputs, int outputs) {
    if (!SHAPE_ONLY_READS) {
      return 0;
    }
    if ("concat_bp".equals(op)) {
      return inputs == outputs + 1 ? outputs : 0; // the inputs, then the output gradient (axis as an argument)
    }
    return Math.min(SHAPE_ONLY.getOrDefault(op, 0), inputs);
  }

  /** System property: {@code false} keeps every input of an op alive until the op has run. */
  static final String SHAPE_ONLY_PROPERTY = "nabla.shapeOnlyReads";
  private static final boolean SHAPE_ONLY_READS =
      Boolean.parseBoolean(System.getProperty(SHAPE_ONLY_PROPERTY, "true"));

  /** System property: {@code false} keeps {@code conv2d_bp} where only its input gradient is used. */
  static final String INPUT_ONLY_CONV_BP_PROPERTY = "nabla.inputOnlyConvBackprop";

  /**
   * A {@code conv2d_bp} whose weight and bias gradients nothing reads (a frozen network differentiated
   * for its input: ε's Jacobian, reward scores) computes them anyway. With stride 1 its input gradient is
   * the transposed convolution of the output gradient with the same weights, whatever the padding:
   * {@code deconv2d}, with the same integer arguments (its weight layouts are conv2d's with
   * input and output channels swapped, which is what the transpose needs), in 40–60 % of the time at the
   * U-Net's shapes, and without reading the forward input, which is then freed right after its forward
   * use instead of living until the backward pass.
   */
  static void substituteInputOnlyConvBackprop(PlanStep s, Set<Integer> read) {
    if (!"conv2d_bp".equals(s.df.opName()) || !(s.df instanceof DynamicCustomOp c)
        || !Boolean.parseBoolean(System.getProperty(INPUT_ONLY_CONV_BP_PROPERTY, "true"))) {
      return;
    }
    long[] i = c.iArgs();
    if (i.length < 9 || i[2] != 1 || i[3] != 1 || i[6] != 1 || i[7] != 1 || (s.in.length != 3 && s.in.length != 4)) {
      return; // stride > 1: the transposed convolution's output size is ambiguous; dilation: unused (oneDNN fails on it)
    }
    for (int k = 1; k < s.out.length; k++) {
      if (read.contains(s.out[k])) {
        return;
      }
    }
    DynamicCustomOp deconv = DynamicCustomOp.builder("deconv2d")
        .addIntegerArguments(Arrays.stream(i).mapToInt(Math::toIntExact).toArray()).build();
    s.substitute(deconv, new int[] {s.in[s.in.length - 1], s.in[1]}, new int[] {s.out[0]});
  }

  /**
   * Whether {@code s} is a {@code conv2d_bp} the kernel takes (stride 1, undilated, channels-last: {@link
   * TransposedConv#supportedArguments}) whose input gradient nothing reads but
   * whose weight gradient something does (a trained first layer fed by a placeholder): ND4J's op computes the input
   * gradient anyway, {@link JavaKernel#CONV2D_WEIGHT_GRADIENT} only the weight and bias gradients.
   */
  static boolean weightOnlyConvBackprop(PlanStep s, Set<Integer> read) {
    if (s.substitute != null || !"conv2d_bp".equals(s.df.opName()) || !(s.df instanceof DynamicCustomOp c)
        || read.contains(s.out[0])) {
      return false;
    }
    if (!TransposedConv.supportedArguments(c.iArgs())) {
      return false; // the kernel's own conditions on the arguments (it checks the arrays when it runs)
    }
    for (int k = 1; k < s.out.length; k++) {
      if (read.contains(s.out[k])) {
        return true;
      }
    }
    return false;
  }

  /**
   * For an {@code add_bp} whose two operands and output gradient have one shape, both gradients are the
   * output gradient itself: the outputs alias input 2 instead of being two copies of it. Null otherwise.
   */
  static int[] aliasedOutputs(PlanStep s, INDArray[] values) {
    if (s.substitute != null || !"add_bp".equals(s.df.opName()) || s.in.length != 3 || s.out.length != 2) {
      return null;
    }
    INDArray x = values[s.in[0]];
    INDArray y = values[s.in[1]];
    INDArray eps = values[s.in[2]];
    boolean same = Arrays.equals(x.shape(), eps.shape()) && Arrays.equals(y.shape(), eps.shape())
        && x.dataType() == eps.dataType() && y.dataType() == eps.dataType();
    return same ? new int[] {2, 2} : null;
  }

  /**
   * For a {@code reshape} of a contiguous op output, the output shape (the output is then a view of the
   * input, not a copy). Null otherwise: placeholders, variables and constants, whose arrays change between
   * runs, are still copied.
   */
  static long[] viewShape(PlanStep s, List<LongShapeDescriptor> shapes, INDArray[] values, boolean[] opOutput) {
    if (s.substitute != null || !"reshape".equals(s.df.opName()) || !opOutput[s.in[0]]) {
      return null;
    }
    INDArray in = values[s.in[0]];
    LongShapeDescriptor d = shapes.get(0);
    if (!contiguous(in) || d.isEmpty() || d.dataType() != in.dataType() || d.getOrder() != 'c'
        || Arrays.stream(d.getShape()).reduce(1L, (a, b) -> a * b) != in.length()) {
      return null;
    }
    return d.getShape();
  }

  static boolean contiguous(INDArray a) {
    return a.ordering() == 'c' && (a.length() <= 1 || a.elementWiseStride() == 1) && !a.isEmpty();
  }
}

package io.github.nablagfn.core.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Java kernels (the incubating Vector API) that {@link GraphPlan} runs in place of ND4J ops it executes
 * slowly: {@code sigmoid} and {@code sigmoid_bp} (SiLU's two halves in the U-Net), 4–5× faster than ND4J
 * 1.0.0-M2.1's on the U-Net's sizes (docs/performance.md); they read and write the arrays' native buffers in
 * place (no copies) and split the elements over {@code nabla.threads} threads. A stride-1 {@code deconv2d} (the
 * input gradient of a frozen convolution) runs as ND4J's forward {@code conv2d} with the flipped kernel
 * ({@link TransposedConv}), faster on ND4J at the U-Net's larger sizes; {@code conv2d_bp} of a convolution with at
 * most 4 output channels (a U-Net's output layer) runs the same for its input gradient and Java loops for its
 * weight and bias gradients ({@link NarrowConvBackward}); a {@code conv2d_bp} whose input gradient nothing reads
 * (a trained first layer) computes only its weight and bias gradients, in Java ({@link ConvWeightGradient}).
 *
 * <p>The fast path needs the module {@code jdk.incubator.vector} ({@code --add-modules jdk.incubator.vector},
 * as {@code bin/nabla} and the tests' JVMs start) on Java 17 to 19, whose Vector API reads direct byte
 * buffers; without it, or with {@code -Dnabla.fusedKernels=false}, plans run ND4J's ops, and the first plan
 * logs one line saying how to enable the fast path. A kernel runs only on dense float32 arrays in C order;
 * any other input runs the ND4J op.
 */
public final class FastKernels {
  /** System property: {@code false} runs ND4J's ops everywhere (default true when the Vector API is there). */
  public static final String PROPERTY = "nabla.fusedKernels";
  private static final Logger LOG = LoggerFactory.getLogger(FastKernels.class);
  private static final boolean AVAILABLE = vectorApiUsable();
  private static volatile boolean hintLogged;
  /** Below this many elements a kernel runs on the calling thread alone. */
  private static final int SPLIT_ABOVE = 1 << 16;
  private static ForkJoinPool pool;

  private FastKernels() {}

  private static boolean vectorApiUsable() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      return false;
    }
    int feature = Runtime.version().feature();
    return feature >= 17 && feature <= 19; // FloatVector.fromByteBuffer: Java 17-19's incubating API
  }

  /** Whether plans built now run the Java kernels (the Vector API is usable and the property allows it). */
  public static boolean enabled() {
    if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
      return false;
    }
    if (!AVAILABLE && !hintLogged) {
      hintLogged = true;
      LOG.info("Java kernels off: ND4J runs sigmoid and its gradient {}; start the JVM with --add-modules "
          + "jdk.incubator.vector on Java 17-19 for the fast path (docs/performance.md)",
          ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty() ? "(module jdk.incubator.vector absent)"
              : "(Java " + Runtime.version().feature() + "'s Vector API has no byte-buffer access)");
    }
    return AVAILABLE;
  }

  /**
   * Whether building blocks may emit Java-only ops ({@link FusedGroupNorm}): kernels are enabled and graphs
   * run through plans ({@link GraphRuns#PLANS_PROPERTY}), the only executor that knows those ops.
   */
  public static boolean fusedGraphs() {
    return enabled() && GraphRuns.plansOn();
  }

  /**
   * The kernel for a graph op, or null when it has none (or kernels are off). The {@code deconv2d} kernel needs no
   * Vector API: it runs wherever {@code nabla.fusedKernels} and {@code nabla.javaDeconv} are not false.
   */
  static JavaKernel forOp(String opName) {
    if ("deconv2d".equals(opName)) {
      return Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))
          && Boolean.parseBoolean(System.getProperty(DECONV_PROPERTY, "true")) ? JavaKernel.DECONV2D : null;
    }
    if (!enabled()) {
      return null;
    }
    return switch (opName) {
      case "sigmoid" -> JavaKernel.SIGMOID;
      case "sigmoid_bp" -> JavaKernel.SIGMOID_BACKWARD;
      case "conv2d_bp" -> Boolean.parseBoolean(System.getProperty(CONV_BACKPROP_PROPERTY, "true"))
          ? JavaKernel.NARROW_CONV2D_BACKWARD : null;
      case WEIGHT_GRADIENT_OP -> Boolean.parseBoolean(System.getProperty(CONV_BACKPROP_PROPERTY, "true"))
          ? JavaKernel.CONV2D_WEIGHT_GRADIENT : null;
      default -> null;
    };
  }

  /**
   * The name {@link #run} and {@link #takes} know the weight-gradient kernel by: {@code conv2d_bp}'s inputs and
   * outputs, its input gradient left as it is (plans run it where nothing reads that gradient).
   */
  public static final String WEIGHT_GRADIENT_OP = "conv2d_bp_weights";

  /** System property: {@code false} runs ND4J's {@code conv2d_bp} even where a Java kernel takes the call. */
  public static final String CONV_BACKPROP_PROPERTY = "nabla.javaConvBackprop";

  /** System property: {@code false} runs ND4J's {@code deconv2d} even where the Java kernel takes the call. */
  public static final String DECONV_PROPERTY = "nabla.javaDeconv";

  /**
   * Runs the Java kernel of the ND4J op {@code opName} on {@code in} into {@code out} (for benchmarks and
   * checks: plans choose kernels themselves).
   *
   * @throws IllegalArgumentException if the op has no kernel, kernels are off, or the arrays are not dense
   *     float32 of one length
   */
  public static void run(String opName, INDArray[] in, INDArray[] out) {
    run(opName, in, out, null);
  }

  /** Whether a Java kernel of the ND4J op {@code opName} takes these arrays and integer arguments. */
  public static boolean takes(String opName, INDArray[] in, INDArray[] out, long[] iArgs) {
    JavaKernel k = forOp(opName);
    return k != null && k.accepts(in, out, iArgs);
  }

  /**
   * Runs the Java kernel of the ND4J op {@code opName}, whose integer arguments are {@code iArgs} (as the op's
   * {@code iArgs()}), on {@code in} into {@code out}.
   *
   * @throws IllegalArgumentException if the op has no kernel, kernels are off, or the kernel does not take these
   *     arrays and arguments
   */
  public static void run(String opName, INDArray[] in, INDArray[] out, long[] iArgs) {
    JavaKernel k = forOp(opName);
    if (k == null) {
      throw new IllegalArgumentException("no Java kernel for op '" + opName + "' (kernels "
          + (enabled() ? "on; ops with kernels: sigmoid, sigmoid_bp, deconv2d, conv2d_bp, " + WEIGHT_GRADIENT_OP + ")"
              : "off)"));
    }
    if (!k.accepts(in, out, iArgs)) {
      throw new IllegalArgumentException("op '" + opName + "': the kernel takes dense float32 arrays in C order"
          + (k == JavaKernel.NARROW_CONV2D_BACKWARD ? " of a stride-1, undilated, channels-last convolution with "
              + "weights (kH, kW, Ci, Co), Co <= " + NarrowConvBackward.MAX_OUTPUT_CHANNELS
              : k == JavaKernel.CONV2D_WEIGHT_GRADIENT ? " of a stride-1, undilated, channels-last convolution with "
              + "weights (kH, kW, Ci, Co)"
              : k == JavaKernel.DECONV2D ? " of a stride-1, undilated, channels-last deconv2d without bias, weights "
              + "(kH, kW, oC, iC), at least -D" + TransposedConv.MIN_PIXELS_PROPERTY + " (default "
              + TransposedConv.MIN_PIXELS + ") output pixels" : " of one length"));
    }
    k.run(in, out, iArgs);
  }

  /**
   * A dense float32 array in C order (the kernels' only layout): every axis longer than 1 has the stride of the
   * product of the sizes after it (ND4J's {@code Shape.hasDefaultStridesForShape} also demands a particular
   * stride of axes of size 1, which no element read depends on, and rejects arrays such as a (1, 1, 4, 33) randn).
   */
  static boolean dense(INDArray a) {
    if (a == null || a.dataType() != DataType.FLOAT || a.isEmpty() || a.ordering() != 'c') {
      return false;
    }
    long[] shape = a.shape();
    long[] stride = a.stride();
    long expected = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      if (shape[i] != 1 && stride[i] != expected) {
        return false;
      }
      expected *= shape[i];
    }
    return true;
  }

  /**
   * Whether every array is {@link #dense} and under 2 GB (the kernels index elements with {@code int} and address
   * bytes through one NIO buffer).
   */
  static boolean allDense(INDArray... arrays) {
    for (INDArray a : arrays) {
      if (!dense(a) || a.length() > Integer.MAX_VALUE / 4) {
        return false;
      }
    }
    return true;
  }

  /** The array's elements as a native-order byte buffer starting at its first element. */
  static ByteBuffer bytes(INDArray a) {
    ByteBuffer b = a.data().asNio().order(ByteOrder.nativeOrder());
    long offset = a.offset() * 4L;
    long end = offset + a.length() * 4L;
    return b.position((int) offset).limit((int) end).slice().order(ByteOrder.nativeOrder());
  }

  /** What a kernel does with a range [from, to) of elements. */
  @FunctionalInterface
  interface Range {
    void run(int from, int to);
  }

  /**
   * Runs {@code body} over [0, n) elements in about equal parts, one per thread ({@code nabla.threads}); below
   * 65,536 elements on the calling thread alone.
   */
  static void parallel(int n, int threads, Range body) {
    parallel(n, threads, body, SPLIT_ABOVE, 64); // whole vectors per part
  }

  /**
   * Runs {@code body} over [0, n) in about equal parts of a multiple of {@code align}, one per thread; below
   * {@code splitAbove} on the calling thread alone.
   */
  static void parallel(int n, int threads, Range body, int splitAbove, int align) {
    if (threads <= 1 || n < splitAbove || n < 2) {
      body.run(0, n);
      return;
    }
    ForkJoinPool p = pool(threads);
    List<ForkJoinTask<?>> parts = new ArrayList<>();
    int step = (n + threads - 1) / threads;
    step = (step + align - 1) / align * align;
    for (int from = step; from < n; from += step) {
      int f = from;
      int t = Math.min(n, from + step);
      parts.add(p.submit(() -> body.run(f, t)));
    }
    body.run(0, Math.min(n, step));
    for (ForkJoinTask<?> t : parts) {
      t.join();
    }
  }

  private static synchronized ForkJoinPool pool(int threads) {
    if (pool == null || pool.getParallelism() != threads - 1) {
      pool = new ForkJoinPool(Math.max(1, threads - 1), p -> {
        var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
        t.setDaemon(true);
        t.setName("nabla-kernel-" + t.getPoolIndex());
        return t;
      }, null, false);
    }
    return pool;
  }
}

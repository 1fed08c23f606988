package io.github.nablagfn.examples.bench;

import io.github.nablagfn.core.graph.FastKernels;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.GroupNorm;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.nn.ParameterSet;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.examples.AppRuntime;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.SigmoidDerivative;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Each Java kernel ({@link FastKernels}) against the ND4J op it replaces, on the U-Net's activation sizes:
 * one JSON line per (op, shape, implementation) with the median and best of {@code runs} calls after
 * {@code warmup}, in milliseconds, on {@code nabla.threads} threads. Sigmoid and its gradient run alone;
 * GroupNorm (32 groups, affine) + SiLU runs as a graph {@code loss = Σ out·w} through the plan executor,
 * forward only ({@code group_norm_silu}) and forward with the gradient of x ({@code group_norm_silu_fwd_bwd}),
 * built with the fused op ("java") or with ND4J's composition ("nd4j"). {@code deconv2d} (a frozen
 * convolution's input gradient, as plans run it) runs ND4J's op and the Java kernel on the U-Net's 3×3
 * convolutions; {@code conv2d_bp} (all three gradients) ND4J's op, and the Java kernel where it takes the call
 * (at most 4 output channels); {@code conv2d_bp_weights} the Java kernel for the weight and bias gradients alone (what
 * plans run where nothing reads the input gradient). {@code scripts/bench-kernels.sh} runs it beside PyTorch's kernels for the same
 * sizes and threads. Arguments: {@code [runs] [warmup]};
 * {@code -Dbench.only=op,...} runs only those ops (sigmoid, sigmoid_bp, conv2d_bp, conv2d_bp_weights, deconv2d,
 * group_norm_silu,
 * group_norm_silu_nhwc: the U-Net's channels-last GroupNorm with 8 groups).
 */
public final class KernelBench {
  private KernelBench() {}

  private static final long[][] SHAPES = {{8, 32, 32, 32}, {8, 64, 32, 32}, {8, 16, 16, 128}, {64, 32, 32, 32}};
  /**
   * The 3×3, stride-1 convolutions of the U-Net (B = 64 as in the training step, B = 8 as in a ∇-DB step's
   * frozen networks): (B, H, W, Ci, Co), channels-last; the shape reported is that 5-tuple.
   */
  private static final int[][] CONVS = {{64, 32, 32, 1, 32}, {64, 32, 32, 32, 32}, {64, 32, 32, 96, 32},
      {64, 32, 32, 64, 64}, {64, 32, 32, 32, 1}, {64, 16, 16, 64, 64}, {64, 16, 16, 128, 64}, {64, 8, 8, 64, 64}, {64, 8, 8, 128, 64},
      {8, 32, 32, 32, 32}, {8, 32, 32, 96, 32}, {8, 16, 16, 64, 64}, {8, 8, 8, 64, 64}, {8, 32, 32, 32, 1}};
  /**
   * The U-Net's GroupNorm+SiLU inputs in the training step (B = 64) and a ∇-DB step's batch (B = 8): (B, H, W, C),
   * channels-last, 8 groups, as the U-Net runs them.
   */
  private static final long[][] GROUP_NORMS_NHWC = {{64, 32, 32, 32}, {64, 32, 32, 96}, {64, 16, 16, 64},
      {64, 16, 16, 128}, {64, 8, 8, 64}, {8, 32, 32, 32}};
  /** conv2d's integer arguments: 3×3, stride 1, padding 1, dilation 1, explicit padding, NHWC, (kH, kW, Ci, Co). */
  private static final int[] CONV_ARGS = {3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0};

  public static void main(String[] args) {
    AppRuntime.init();
    System.setProperty("nabla.javaDeconvMinPixels", "0"); // the kernel at every size, to compare it with ND4J's
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    if (!FastKernels.enabled()) {
      throw new IllegalStateException("Java kernels are off: start the JVM with --add-modules jdk.incubator.vector "
          + "on Java 17-19 and without -D" + FastKernels.PROPERTY + "=false");
    }
    for (long[] shape : wanted("sigmoid") || wanted("sigmoid_bp") ? SHAPES : new long[0][]) {
      Nd4j.getRandom().setSeed(1);
      INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(3);
      INDArray g = Nd4j.randn(DataType.FLOAT, shape);
      INDArray out = x.ulike();
      report("sigmoid", shape, "nd4j", time(runs, warmup, () -> Nd4j.exec(new Sigmoid(x, out))));
      report("sigmoid", shape, "java", time(runs, warmup,
          () -> FastKernels.run("sigmoid", new INDArray[] {x}, new INDArray[] {out})));
      report("sigmoid_bp", shape, "nd4j", time(runs, warmup, () -> Nd4j.exec(new SigmoidDerivative(x, g, out))));
      report("sigmoid_bp", shape, "java", time(runs, warmup,
          () -> FastKernels.run("sigmoid_bp", new INDArray[] {x, g}, new INDArray[] {out})));
    }
    String weights = FastKernels.WEIGHT_GRADIENT_OP;
    for (int[] conv : wanted("conv2d_bp") || wanted("deconv2d") || wanted(weights) ? CONVS : new int[0][]) {
      long[] xs = {conv[0], conv[1], conv[2], conv[3]};
      Nd4j.getRandom().setSeed(3);
      INDArray[] in = {Nd4j.randn(DataType.FLOAT, xs), Nd4j.randn(DataType.FLOAT, 3, 3, conv[3], conv[4]),
          Nd4j.randn(DataType.FLOAT, conv[4]), Nd4j.randn(DataType.FLOAT, conv[0], conv[1], conv[2], conv[4])};
      INDArray[] out = {in[0].ulike(), in[1].ulike(), in[2].ulike()};
      long[] shape = {conv[0], conv[1], conv[2], conv[3], conv[4]};
      DynamicCustomOp op = DynamicCustomOp.builder("conv2d_bp").addInputs(in).addOutputs(out)
          .addIntegerArguments(CONV_ARGS).build();
      long[] iArgs = Arrays.stream(CONV_ARGS).asLongStream().toArray();
      if (wanted("conv2d_bp")) {
        report("conv2d_bp", shape, "nd4j", time(runs, warmup, () -> Nd4j.exec(op)));
        if (FastKernels.takes("conv2d_bp", in, out, iArgs)) {
          report("conv2d_bp", shape, "java", time(runs, warmup, () -> FastKernels.run("conv2d_bp", in, out, iArgs)));
        }
      }
      if (wanted(weights)) {
        report(weights, shape, "java", time(runs, warmup, () -> FastKernels.run(weights, in, out, iArgs)));
      }
      if (wanted("deconv2d")) {
        INDArray[] t = {in[3], in[1]};
        DynamicCustomOp deconv = DynamicCustomOp.builder("deconv2d").addInputs(t).addOutputs(out[0])
            .addIntegerArguments(CONV_ARGS).build();
        report("deconv2d", shape, "nd4j", time(runs, warmup, () -> Nd4j.exec(deconv)));
        report("deconv2d", shape, "java", time(runs, warmup,
            () -> FastKernels.run("deconv2d", t, new INDArray[] {out[0]}, iArgs)));
      }
    }
    if (wanted("group_norm_silu")) {
      groupNormSilu("group_norm_silu", new long[][] {{8, 32, 32, 32}, {8, 64, 32, 32}, {64, 32, 32, 32}}, 32, false,
          runs, warmup);
    }
    if (wanted("group_norm_silu_nhwc")) {
      groupNormSilu("group_norm_silu_nhwc", GROUP_NORMS_NHWC, 8, true, runs, warmup);
    }
  }

  /** Times GroupNorm+SiLU forward ({@code op}) and forward and backward ({@code op_fwd_bwd}), ND4J's and fused. */
  private static void groupNormSilu(String op, long[][] shapes, int groups, boolean channelsLast, int runs,
      int warmup) {
    for (long[] shape : shapes) {
      Nd4j.getRandom().setSeed(2);
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, shape));
      for (boolean fused : new boolean[] {false, true}) {
        SameDiff sd = groupNormSilu(shape, groups, channelsLast, fused);
        String impl = fused ? "java" : "nd4j";
        report(op, shape, impl, time(runs, warmup, () -> GraphRuns.output(sd, ph, "out")));
        report(op + "_fwd_bwd", shape, impl, time(runs, warmup,
            () -> GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), List.of("x"))));
      }
    }
  }

  /**
   * loss = Σ GroupNorm+SiLU(x)·w over a (B, C, H, W) placeholder, or (B, H, W, C) with {@code channelsLast}, with
   * or without the fused op.
   */
  private static SameDiff groupNormSilu(long[] shape, int groups, boolean channelsLast, boolean fused) {
    String before = System.getProperty(FastKernels.PROPERTY);
    System.setProperty(FastKernels.PROPERTY, Boolean.toString(fused));
    try {
      SameDiff sd = SameDiff.create();
      ParameterSet params = new ParameterSet();
      int channels = (int) shape[channelsLast ? 3 : 1];
      GroupNorm norm = GroupNorm.create(params, "gn", groups, channels, 1e-5);
      params.get("gn.weight").assign(Nd4j.rand(DataType.FLOAT, channels).addi(0.5));
      params.get("gn.bias").assign(Nd4j.randn(DataType.FLOAT, channels).muli(0.3));
      SDVariable x = InputGradients.track(sd, sd.placeHolder("x", DataType.FLOAT, shape));
      SDVariable out = norm.forwardSilu(GraphScope.of(sd, "", params), x, channelsLast).rename("out");
      out.mul(sd.constant("w", Nd4j.randn(DataType.FLOAT, shape))).sum().rename("loss");
      sd.setLossVariables("loss");
      return sd;
    } finally {
      if (before == null) {
        System.clearProperty(FastKernels.PROPERTY);
      } else {
        System.setProperty(FastKernels.PROPERTY, before);
      }
    }
  }

  private static boolean wanted(String op) {
    String only = System.getProperty("bench.only");
    return only == null || only.isBlank() || Arrays.asList(only.split(",")).contains(op);
  }

  private static double[] time(int runs, int warmup, Runnable body) {
    for (int i = 0; i < warmup; i++) {
      body.run();
    }
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      body.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return new double[] {ms[runs / 2], ms[0]};
  }

  private static void report(String op, long[] shape, String impl, double[] t) {
    System.out.printf(Locale.ROOT, "{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"%s\", \"threads\": %d, "
        + "\"median_ms\": %.4f, \"best_ms\": %.4f}%n", op, Arrays.toString(shape).replace(" ", ""), impl,
        NablaRuntime.threads(), t[0], t[1]);
  }
}

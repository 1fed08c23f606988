package io.github.nablagfn.examples.bench;

import io.github.nablagfn.core.graph.FastKernels;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.examples.AppRuntime;
import java.util.Arrays;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.SigmoidDerivative;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Each Java kernel ({@link FastKernels}) against the ND4J op it replaces, on the U-Net's activation sizes:
 * one JSON line per (op, shape, implementation) with the median and best of {@code runs} calls after
 * {@code warmup}, in milliseconds, on {@code nabla.threads} threads. {@code scripts/bench-kernels.sh} runs it
 * beside PyTorch's kernels for the same sizes and threads. Arguments: {@code [runs] [warmup]}.
 */
public final class KernelBench {
  private KernelBench() {}

  private static final long[][] SHAPES = {{8, 32, 32, 32}, {8, 64, 32, 32}, {8, 16, 16, 128}, {64, 32, 32, 32}};

  public static void main(String[] args) {
    AppRuntime.init();
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    if (!FastKernels.enabled()) {
      throw new IllegalStateException("Java kernels are off: start the JVM with --add-modules jdk.incubator.vector "
          + "on Java 17-19 and without -D" + FastKernels.PROPERTY + "=false");
    }
    for (long[] shape : SHAPES) {
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

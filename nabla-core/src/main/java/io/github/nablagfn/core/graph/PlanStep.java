package io.github.nablagfn.core.graph;

import java.util.Arrays;
import org.nd4j.autodiff.functions.DifferentialFunction;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.BaseReduceOp;
import org.nd4j.linalg.api.ops.CustomOp;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.Op;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.ReduceOp;
import org.nd4j.linalg.api.ops.ScalarOp;
import org.nd4j.linalg.api.ops.impl.transforms.same.Identity;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One op of a {@link GraphPlan}: where its inputs and outputs live in the plan's slot table, its own native op
 * context, and how it is executed (arguments set once per context, inputs and outputs per run).
 */
final class PlanStep {
  final SameDiffOp op;
  final DifferentialFunction df;
  /** The op's inputs, in the order it takes them (a substitute's own inputs, if any). */
  int[] in;
  /** The op's outputs (a substitute's own outputs, if any). */
  int[] out;
  /** The distinct inputs whose values the op reads: they live until it has run. */
  int[] liveIn;
  final OpContext oc = Nd4j.getExecutioner().buildContext();
  final boolean identity;
  /** A faster op computing what the plan needs of {@link #op}'s outputs, or null: run instead of it. */
  DynamicCustomOp substitute;
  /** Whether the op context holds the op's integer/float/type/boolean arguments already. */
  boolean argsSet;
  /** A Java kernel computing the op ({@link FastKernels}), or null: run when it accepts the run's arrays. */
  JavaKernel kernel;
  /** The integer arguments of the op {@link #kernel} replaces (null for ops that have none). */
  private long[] kernelArgs;
  /** The inputs of the current run, kept for {@link #kernel} and {@link #javaOp}. */
  private INDArray[] kernelIn;
  /** The op itself when only Java runs it ({@link JavaOp}), else null. */
  final JavaOp javaOp;

  PlanStep(SameDiffOp op, int[] in, int[] out) {
    this.op = op;
    this.df = op.getOp();
    this.in = in;
    this.out = out;
    this.identity = df instanceof Identity;
    this.javaOp = df instanceof JavaOp j ? j : null;
  }

  /** Runs {@code sub} with inputs {@code in} into outputs {@code out} instead of the graph's op. */
  void substitute(DynamicCustomOp sub, int[] in, int[] out) {
    this.substitute = sub;
    this.in = in;
    this.out = out;
  }

  /**
   * The inputs whose values the op reads (an input it reads only for its shape does not keep that
   * array alive: see {@link PlanRewrites#shapeOnlyInputs}).
   */
  int[] valueIn() {
    int shapeOnly = substitute != null ? 0 : PlanRewrites.shapeOnlyInputs(df.opName(), in.length, out.length);
    return Arrays.stream(in, shapeOnly, in.length).distinct().toArray();
  }

  /** Runs {@code k} in place of the op when it accepts the run's arrays. */
  void kernel(JavaKernel k) {
    this.kernel = k;
    DynamicCustomOp c = substitute != null ? substitute : df instanceof DynamicCustomOp d ? d : null;
    this.kernelArgs = k != null && c != null ? c.iArgs() : null;
  }

  String opName() {
    return substitute != null ? substitute.opName() : df.opName();
  }

  /**
   * Sets the op's inputs and arguments as SameDiff's session does, except that the integer, float, type
   * and boolean arguments are set once per op context (setting them allocates native memory each time).
   * Inputs and outputs are set on every execution and cleared after it ({@link #runInto}): the native
   * context keeps a wrapper of every array set into it, holding that array's memory, until purged.
   */
  void parameterize(INDArray[] values) {
    INDArray[] args = new INDArray[in.length];
    for (int i = 0; i < args.length; i++) {
      args[i] = values[in[i]];
    }
    kernelIn = kernel != null || javaOp != null ? args : null;
    DynamicCustomOp custom = substitute != null ? substitute
        : df instanceof DynamicCustomOp d ? d : null;
    if (custom != null) {
      DynamicCustomOp c = custom;
      if (!argsSet) {
        oc.setArgs(args, c.iArgs(), c.dArgs(), c.tArgs(), c.bArgs());
        argsSet = true;
      } else {
        for (int i = 0; i < args.length; i++) {
          oc.setInputArray(i, args[i]);
        }
      }
      return;
    }
    boolean axisArg = false;
    if (df instanceof ReduceOp r && r.getOpType() != Op.Type.REDUCE3 && args.length == 2) {
      INDArray axes = args[1];
      if (axes.isEmpty()) {
        df.setDimensions(null);
        ((BaseReduceOp) r).setEmptyReduce(true);
      } else {
        df.setDimensions(Shape.normalizeAxis(args[0].rank(), axes.toIntVector()));
        ((BaseReduceOp) r).setEmptyReduce(false);
      }
      axisArg = true;
    } else if (df instanceof ScalarOp so && args.length == 2) {
      so.setScalar(args[1]);
    }
    int n = args.length == 2 && !axisArg ? 2 : Math.min(args.length, 1);
    for (int i = 0; i < n; i++) {
      oc.setInputArray(i, args[i]);
    }
  }

  /**
   * Runs one op, whose inputs {@link #parameterize} has set, into {@code outs}; {@code verify} (planning
   * runs) checks the op wrote where it was told.
   */
  void runInto(INDArray[] outs, OpProfile.Recorder profile, boolean verify) {
    long t0 = profile == null ? 0 : System.nanoTime();
    if (javaOp != null) {
      javaOp.execute(kernelIn, outs);
      kernelIn = null;
      if (profile != null) {
        profile.op(opName(), System.nanoTime() - t0);
      }
      oc.purge();
      return;
    }
    if (kernelIn != null && kernel.accepts(kernelIn, outs, kernelArgs)) {
      kernel.run(kernelIn, outs, kernelArgs);
      kernelIn = null;
      if (profile != null) {
        profile.op(opName() + " (java)", System.nanoTime() - t0);
      }
      oc.purge();
      return;
    }
    kernelIn = null;
    for (int i = 0; i < outs.length; i++) {
      oc.setOutputArray(i, outs[i]);
    }
    if (substitute != null) {
      Nd4j.exec(substitute, oc);
    } else if (df instanceof CustomOp c) {
      Nd4j.exec(c, oc);
    } else {
      Nd4j.exec((Op) df, oc);
    }
    if (profile != null) {
      profile.op(opName(), System.nanoTime() - t0);
    }
    if (verify) {
      for (int i = 0; i < outs.length; i++) {
        if (oc.getOutputArray(i) != outs[i]) {
          throw new IllegalStateException("op " + op.getName() + " replaced its output array");
        }
      }
    }
    oc.purge();
  }
}

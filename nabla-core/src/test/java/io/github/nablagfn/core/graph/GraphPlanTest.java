package io.github.nablagfn.core.graph;

import io.github.nablagfn.core.runtime.NablaRuntime;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link GraphPlan} (the fast path of {@link GraphRuns}) gives SameDiff's own numbers bit for bit, keeps
 * returned arrays valid, holds only the peak of live intermediates, and frees what it no longer uses.
 */
class GraphPlanTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  /**
   * Every kind of op the planner treats differently: custom ops (matmul, broadcast add, softmax, reshape),
   * legacy transform (tanh), legacy scalar op (×2), legacy reduction with dimensions, an identity, a
   * multi-output op (unstack) with an unused output, and requested outputs that are a placeholder, a
   * variable and an intermediate that later ops also read.
   */
  private static SameDiff graph(long seed) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    Nd4j.getRandom().setSeed(seed);
    SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 3, 4));
    SDVariable b = sd.var("b", Nd4j.randn(DataType.FLOAT, 1, 4));
    SDVariable h = sd.math.tanh(x.mmul(w).add(b)).mul(2.0);
    SDVariable sm = sd.nn.softmax("sm", h, 1);
    SDVariable[] cols = sd.unstack(sd.identity(sm), 1, 4);
    SDVariable pair = cols[0].add(cols[2]);
    SDVariable r = h.reshape(-1, 2, 2).sum(1, 2);
    pair.mul(r).add(sm.sum(1)).mean().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  private static Map<String, INDArray> ph(long seed, int rows) {
    Nd4j.getRandom().setSeed(seed);
    return Map.of("x", Nd4j.randn(DataType.FLOAT, rows, 3));
  }

  private static final List<String> OUTPUTS = List.of("loss", "sm", "x", "w");
  private static final List<String> VARS = List.of("w", "b", "x");

  @Test
  void outputsAndGradientsEqualSameDiffsOwnOverChangingBatchSizes() {
    SameDiff sessionGraph = graph(1);
    SameDiff planGraph = graph(1);
    assertThat(GraphPlan.supports(planGraph, OUTPUTS)).isNull();
    List<Map<String, INDArray>> kept = new ArrayList<>();
    List<Map<String, INDArray>> keptCopies = new ArrayList<>();
    int run = 0;
    for (int rows : new int[] {5, 3, 5, 1, 3}) {
      Map<String, INDArray> ph = ph(10 + run++, rows);
      Map<String, INDArray> expected = GraphRuns.withPlans(false,
          () -> GraphRuns.output(sessionGraph, ph, OUTPUTS.toArray(new String[0])));
      Map<String, INDArray> got = GraphRuns.output(planGraph, ph, OUTPUTS.toArray(new String[0]));
      for (String o : OUTPUTS) {
        assertThat(bits(got.get(o))).as("%s, %d rows", o, rows).isEqualTo(bits(expected.get(o)));
      }
      OutAndGrad eg = sessionGraph.calculateGradientsAndOutputs(ph, List.of("loss"), VARS);
      OutAndGrad gg = GraphRuns.gradientsAndOutputs(planGraph, ph, List.of("loss"), VARS);
      assertThat(bits(gg.getOutputs().get("loss"))).isEqualTo(bits(eg.getOutputs().get("loss")));
      for (String v : VARS) {
        assertThat(bits(gg.getGradients().get(v))).as("gradient of %s, %d rows", v, rows)
            .isEqualTo(bits(eg.getGradients().get(v)));
      }
      if (run == 1) { // the gradient runs above were planned too, not left to SameDiff
        List<String> names = new ArrayList<>(List.of("loss"));
        VARS.forEach(v -> names.add(planGraph.getVariable(v).getGradient().name()));
        assertThat(GraphPlan.supports(planGraph.getFunction("grad"), names)).isNull();
      }
      kept.add(got);
      Map<String, INDArray> copies = new java.util.HashMap<>();
      got.forEach((k, v) -> copies.put(k, v.dup()));
      keptCopies.add(copies);
    }
    // arrays returned by earlier runs are the caller's: later runs did not write into them
    for (int i = 0; i < kept.size(); i++) {
      for (String o : OUTPUTS) {
        assertThat(bits(kept.get(i).get(o))).isEqualTo(bits(keptCopies.get(i).get(o)));
      }
    }
    // returned placeholders and variables are copies, not the graph's own arrays
    Map<String, INDArray> ph = ph(99, 2);
    Map<String, INDArray> got = GraphRuns.output(planGraph, ph, "x", "w");
    assertThat(got.get("x")).isNotSameAs(ph.get("x"));
    assertThat(got.get("w")).isNotSameAs(planGraph.getVariable("w").getArr());
  }

  @Test
  void parameterUpdatesBetweenRunsAreSeen() {
    SameDiff sd = graph(2);
    Map<String, INDArray> ph = ph(3, 4);
    INDArray before = GraphRuns.output(sd, ph, "loss").get("loss");
    sd.getVariable("w").getArr().muli(0.5);
    INDArray after = GraphRuns.output(sd, ph, "loss").get("loss");
    INDArray expected = GraphRuns.withPlans(false, () -> GraphRuns.output(sd, ph, "loss")).get("loss");
    assertThat(bits(after)).isEqualTo(bits(expected)).isNotEqualTo(bits(before));
  }

  /** Ops added to a graph after its first run are planned too, and the earlier outputs stay right. */
  @Test
  void aGraphGrownAfterItsFirstRunIsPlannedAgain() {
    SameDiff sd = graph(6);
    Map<String, INDArray> ph = ph(7, 3);
    float[] loss = bits(GraphRuns.output(sd, ph, "loss").get("loss"));
    sd.getVariable("loss").mul(3.0).rename("loss3");
    Map<String, INDArray> got = GraphRuns.output(sd, ph, "loss", "loss3");
    Map<String, INDArray> expected = sd.output(ph, "loss", "loss3");
    assertThat(bits(got.get("loss"))).isEqualTo(loss).isEqualTo(bits(expected.get("loss")));
    assertThat(bits(got.get("loss3"))).isEqualTo(bits(expected.get("loss3")));
  }

  /** Plans live with their graph: a graph the caller drops is collected, plans and all. */
  @Test
  void aDroppedGraphIsCollectedWithItsPlans() throws Exception {
    java.lang.ref.WeakReference<SameDiff> ref = runAndDrop();
    for (int i = 0; i < 20 && ref.get() != null; i++) {
      System.gc();
      Thread.sleep(50);
    }
    assertThat(ref.get()).as("graph still reachable after its last use").isNull();
  }

  private static java.lang.ref.WeakReference<SameDiff> runAndDrop() {
    SameDiff sd = graph(9);
    Map<String, INDArray> ph = ph(10, 4);
    GraphRuns.output(sd, ph, "loss");
    GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), VARS);
    return new java.lang.ref.WeakReference<>(sd);
  }

  /**
   * Op contexts do not hold on to what was set into them: 300 runs with a fresh 4 MB placeholder each
   * would keep ≈ 1.2 GB resident if the contexts kept their arrays (as they did before they were purged
   * after each op: 760 MB over 3500 runs of 256 kB). Resident growth after collection stays under
   * 400 MB (the allocator keeps some freed memory: up to ≈ 100 MB measured).
   */
  @Test
  void placeholdersAreNotRetainedByTheOpContexts() throws Exception {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1024);
    x.add(1.0).mul(x).sub(x).rename("y");
    GraphRuns.output(sd, Map.of("x", Nd4j.rand(DataType.FLOAT, 1024, 1024)), "y");
    System.gc();
    Thread.sleep(200);
    long before = rssMb();
    for (int i = 0; i < 300; i++) {
      GraphRuns.output(sd, Map.of("x", Nd4j.rand(DataType.FLOAT, 1024, 1024)), "y");
      if (i % 20 == 19) {
        System.gc();
      }
    }
    System.gc();
    Thread.sleep(500);
    assertThat(rssMb() - before).as("resident growth, MB").isLessThan(400);
  }

  /** Resident size, as {@link NablaRuntime#relieveMemory} reads it. */
  private static long rssMb() {
    return org.bytedeco.javacpp.Pointer.physicalBytes() >> 20;
  }

  /** A chain of 40 tanh ops keeps at most two arrays of the chain's shape (read one, write the other). */
  @Test
  void memoryIsThePeakOfLiveIntermediatesNotTheirSum() throws Exception {
    SameDiff sd = SameDiff.create();
    SDVariable h = sd.placeHolder("x", DataType.FLOAT, -1, 64);
    for (int i = 0; i < 40; i++) {
      h = sd.math.tanh(h);
    }
    h.rename("y");
    INDArray x = Nd4j.rand(DataType.FLOAT, 32, 64);
    INDArray expected = GraphRuns.withPlans(false, () -> GraphRuns.output(sd, Map.of("x", x), "y")).get("y");
    TwoRuns runs = twoRunsOnAFreshThread(sd, Map.of("x", x), "y");
    assertThat(runs.arenaBytes()).isGreaterThan(0).isLessThanOrEqualTo(2 * 32L * 64 * 4);
    assertThat(runs.first()).isEqualTo(bits(expected));
    assertThat(runs.second()).isEqualTo(bits(expected));
  }

  /** The arena growth of two runs of {@code out} on a thread of their own, and each run's bits. */
  private record TwoRuns(long arenaBytes, float[] first, float[] second) {}

  private static TwoRuns twoRunsOnAFreshThread(SameDiff sd, Map<String, INDArray> ph, String out)
      throws InterruptedException {
    AtomicReference<TwoRuns> seen = new AtomicReference<>();
    Thread t = new Thread(() -> {
      long before = PlanArena.current().bytes();
      float[] first = bits(GraphRuns.output(sd, ph, out).get(out));
      float[] second = bits(GraphRuns.output(sd, ph, out).get(out));
      seen.set(new TwoRuns(PlanArena.current().bytes() - before, first, second));
    });
    t.start();
    t.join();
    return seen.get();
  }

  /**
   * Arrays that backprop reads only for their shapes do not live until the backward pass: a chain of 20
   * blocks h ← (h − mean(h)) + b_i, whose backward ops ({@code subtract_bp}, {@code reduce_mean_bp},
   * {@code add_bp}) take every forward h and centred h but read only their shapes, differentiated for x and
   * every b_i, holds a few arrays of the chain's shape, not the 40 a plan keeping every input alive would;
   * the gradients are SameDiff's own, bit for bit.
   */
  @Test
  void arraysReadOnlyForTheirShapesAreFreedAfterTheirLastValueRead() throws Exception {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 64);
    SDVariable h = io.github.nablagfn.core.nn.InputGradients.track(sd, x);
    List<String> vars = new ArrayList<>(List.of("x"));
    Nd4j.getRandom().setSeed(31);
    for (int i = 0; i < 20; i++) {
      h = h.sub(h.mean(true, 1)).add(sd.var("b" + i, Nd4j.randn(DataType.FLOAT, 1, 64)));
      vars.add("b" + i);
    }
    h.mul(h).sum().rename("loss");
    sd.setLossVariables("loss");
    INDArray x0 = Nd4j.rand(DataType.FLOAT, 32, 64);
    Map<String, INDArray> expected = sd.calculateGradients(Map.of("x", x0), vars);
    AtomicReference<Object[]> seen = new AtomicReference<>();
    Thread t = new Thread(() -> {
      long before = PlanArena.current().bytes();
      Map<String, INDArray> got = GraphRuns.gradients(sd, Map.of("x", x0), vars);
      seen.set(new Object[] {PlanArena.current().bytes() - before, got});
    });
    t.start();
    t.join();
    long one = 32L * 64 * 4;
    assertThat((long) seen.get()[0]).as("arena bytes, in arrays of %d bytes", one).isLessThanOrEqualTo(8 * one);
    @SuppressWarnings("unchecked")
    Map<String, INDArray> got = (Map<String, INDArray>) seen.get()[1];
    for (String v : vars) {
      assertThat(bits(got.get(v))).as("gradient of %s", v).isEqualTo(bits(expected.get(v)));
    }
  }

  /**
   * Arrays of one length share slots whatever their shapes: a chain alternating tanh between (32, 64) and
   * (64, 32) holds two buffers (keyed by shape it held two of each shape), and gives SameDiff's numbers.
   */
  @Test
  void arraysOfOneLengthShareSlotsAcrossShapes() throws Exception {
    SameDiff sd = SameDiff.create();
    SDVariable h = sd.placeHolder("x", DataType.FLOAT, 32, 64);
    for (int i = 0; i < 20; i++) {
      h = sd.math.tanh(h).reshape(i % 2 == 0 ? new long[] {64, 32} : new long[] {32, 64});
    }
    h.rename("y");
    INDArray x = Nd4j.rand(DataType.FLOAT, 32, 64);
    INDArray expected = sd.output(Map.of("x", x), "y").get("y");
    TwoRuns runs = twoRunsOnAFreshThread(sd, Map.of("x", x), "y");
    assertThat(runs.arenaBytes()).isGreaterThan(0).isLessThanOrEqualTo(2 * 32L * 64 * 4);
    assertThat(runs.first()).isEqualTo(bits(expected));
    assertThat(runs.second()).isEqualTo(bits(expected));
  }

  /**
   * Naive vs fast: a reshape of an op's output is a view of it, not a copy, and {@code add_bp} of equal
   * shapes hands on the output gradient instead of copying it twice; outputs and gradients are SameDiff's
   * own, bit for bit, over two batch sizes (a reshape of a placeholder is still executed).
   */
  @Test
  void reshapesAreViewsAndEqualShapeAddGradientsAreAliases() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 6);
    Nd4j.getRandom().setSeed(41);
    SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 6, 6));
    SDVariable h = sd.math.tanh(x.mmul(w));
    SDVariable r = sd.math.sin(h.reshape(-1, 3, 2)).reshape(-1, 6);
    SDVariable sum = r.add(h).add(x.reshape(-1, 3, 2).reshape(-1, 6));
    sum.mul(sum).sum().rename("loss");
    sd.setLossVariables("loss");
    List<String> vars = List.of("w", "x");
    for (int rows : new int[] {5, 2}) {
      Nd4j.getRandom().setSeed(rows);
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, rows, 6));
      OutAndGrad want = sd.calculateGradientsAndOutputs(ph, List.of("loss"), vars);
      GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), vars); // plans this signature
      OpProfile.start();
      OutAndGrad have = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), vars);
      Map<String, OpProfile.OpTime> ops = OpProfile.stop().ops();
      assertThat(ops).as("executed ops").doesNotContainKey("add_bp");
      assertThat(ops.get("reshape").calls()).as("only the reshape of the placeholder copies").isEqualTo(1);
      assertThat(bits(have.getOutputs().get("loss"))).isEqualTo(bits(want.getOutputs().get("loss")));
      for (String v : vars) {
        assertThat(bits(have.getGradients().get(v))).as("gradient of %s, %d rows", v, rows)
            .isEqualTo(bits(want.getGradients().get(v)));
      }
    }
  }

  /** Slots no plan used for a while are freed; a plan that runs again gets them back and the same bits. */
  @Test
  void idleBuffersAreFreedAndComeBackWhenNeeded() throws Exception {
    SameDiff big = graph(4);
    SameDiff small = graph(5);
    Map<String, INDArray> phBig = ph(6, 2000);
    Map<String, INDArray> phSmall = ph(7, 2);
    INDArray expected = GraphRuns.withPlans(false, () -> GraphRuns.output(big, phBig, "loss")).get("loss");
    AtomicReference<Object[]> seen = new AtomicReference<>();
    Thread t = new Thread(() -> {
      PlanArena arena = PlanArena.current();
      float[] first = bits(GraphRuns.output(big, phBig, "loss").get("loss"));
      long afterBig = arena.bytes();
      for (int i = 0; i < PlanArena.IDLE_RUNS + 2 * PlanArena.TRIM_EVERY; i++) {
        GraphRuns.output(small, phSmall, "loss");
      }
      long afterIdle = arena.bytes();
      float[] again = bits(GraphRuns.output(big, phBig, "loss").get("loss"));
      seen.set(new Object[] {afterBig, afterIdle, first, again});
    });
    t.start();
    t.join();
    long rowsBytes = 2000L * 4 * 4; // one (2000, 4) float array of the big run
    assertThat((long) seen.get()[0]).isGreaterThan(rowsBytes);
    assertThat((long) seen.get()[1]).as("after the big graph idled").isLessThan(rowsBytes);
    assertThat((float[]) seen.get()[2]).isEqualTo(bits(expected));
    assertThat((float[]) seen.get()[3]).isEqualTo(bits(expected));
  }

  /** Control flow is not planned: GraphRuns runs such graphs through SameDiff's session, same numbers. */
  @Test
  void graphsWithControlFlowFallBackToSameDiff() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    SDVariable y = sd.ifCond(s -> x.sum().gt(0), s -> x.mul(2.0), s -> x.mul(-1.0));
    y.rename("y");
    assertThat(GraphPlan.supports(sd, List.of("y"))).isNotNull();
    Map<String, INDArray> ph = ph(8, 4);
    INDArray expected = sd.output(ph, "y").get("y");
    assertThat(bits(GraphRuns.output(sd, ph, "y").get("y"))).isEqualTo(bits(expected));
  }

  /**
   * Convolutions with frozen (constant) weights, differentiated for their input only: 3×3 with padding,
   * 1×1, 5×5 with less padding than "same", and a stride-2 3×3 that keeps {@code conv2d_bp}; with {@code trainable} the
   * weights are variables whose gradients are asked for too.
   */
  private static SameDiff convGraph(boolean trainable) {
    SameDiff sd = SameDiff.create();
    SDVariable x = io.github.nablagfn.core.nn.InputGradients.track(sd,
        sd.placeHolder("x", DataType.FLOAT, -1, 3, 9, 9));
    Nd4j.getRandom().setSeed(21);
    long[][] shapes = {{3, 3, 3, 4}, {1, 1, 4, 5}, {5, 5, 5, 4}, {3, 3, 4, 2}};
    int[][] cfg = {{3, 1, 1, 1}, {1, 1, 0, 1}, {5, 1, 1, 1}, {3, 2, 1, 1}}; // kernel, stride, padding, dilation
    SDVariable h = x;
    for (int i = 0; i < shapes.length; i++) {
      INDArray wv = Nd4j.randn(DataType.FLOAT, shapes[i]).muli(0.3);
      INDArray bv = Nd4j.randn(DataType.FLOAT, shapes[i][3]);
      SDVariable w = trainable ? sd.var("w" + i, wv) : sd.constant("w" + i, wv);
      SDVariable b = trainable ? sd.var("b" + i, bv) : sd.constant("b" + i, bv);
      int[] c = cfg[i];
      h = sd.cnn().conv2d(h, w, b, org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig.builder()
          .kH(c[0]).kW(c[0]).sH(c[1]).sW(c[1]).pH(c[2]).pW(c[2]).dH(c[3]).dW(c[3])
          .paddingMode(org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode.VALID)
          .dataFormat("NCHW").weightsFormat(org.nd4j.enums.WeightsFormat.YXIO).build());
      if (i < shapes.length - 1) {
        h = sd.math.tanh(h);
      }
    }
    h.mul(h).sum().rename("loss");
    sd.setLossVariables("loss");
    return sd;
  }

  /**
   * Naive vs fast: where only the input gradient of a stride-1 convolution is used, the plan computes it
   * as a transposed convolution instead of {@code conv2d_bp}; the input gradient equals SameDiff's own to
   * float rounding (a different summation order), and trainable weights keep {@code conv2d_bp}, bit for bit.
   */
  @Test
  void inputOnlyConvolutionGradientsAreTransposedConvolutions() {
    for (int rows : new int[] {2, 5}) {
      Nd4j.getRandom().setSeed(rows);
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, rows, 3, 9, 9));
      SameDiff frozen = convGraph(false);
      INDArray expected = frozen.calculateGradients(ph, "x").get("x");
      OpProfile.start();
      INDArray got = GraphRuns.gradients(frozen, ph, List.of("x")).get("x");
      OpProfile.Report report = OpProfile.stop();
      assertThat(report.ops().get("deconv2d").calls()).as("substituted backward ops").isEqualTo(3);
      assertThat(report.ops().get("conv2d_bp").calls()).as("the stride-2 convolution keeps conv2d_bp").isEqualTo(1);
      double scale = expected.amaxNumber().doubleValue();
      assertThat(scale).isPositive();
      assertThat(got.sub(expected).amaxNumber().doubleValue()).as("%d rows", rows).isLessThanOrEqualTo(1e-5 * scale);

      SameDiff trainable = convGraph(true);
      List<String> vars = List.of("x", "w0", "b0", "w1", "w2", "w3");
      Map<String, INDArray> want = trainable.calculateGradients(ph, vars);
      OpProfile.start();
      Map<String, INDArray> have = GraphRuns.gradients(trainable, ph, vars);
      assertThat(OpProfile.stop().ops()).doesNotContainKey("deconv2d");
      for (String v : vars) {
        assertThat(bits(have.get(v))).as("gradient of %s", v).isEqualTo(bits(want.get(v)));
      }
    }
  }

  private static float[] bits(INDArray a) {
    return a.reshape(a.length()).castTo(DataType.FLOAT).toFloatVector();
  }
}

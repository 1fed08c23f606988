package io.github.nablagfn.core.graph;

import io.github.nablagfn.core.runtime.NablaRuntime;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Freeing a gradient run's intermediates changes no number and leaves every array the caller holds valid. */
class GraphRunsTest {
  @BeforeAll
  static void init() {
    NablaRuntime.init();
  }

  /** loss = Σ tanh(x W + b)², with x a placeholder and W, b variables; 4 intermediates at least. */
  private static SameDiff graph(long seed) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    Nd4j.getRandom().setSeed(seed);
    SDVariable w = sd.var("w", Nd4j.randn(DataType.FLOAT, 3, 4));
    SDVariable b = sd.var("b", Nd4j.randn(DataType.FLOAT, 1, 4));
    SDVariable h = sd.math.tanh(x.mmul(w).add(b));
    h.mul(h).sum().rename("loss");
    return sd;
  }

  private static Map<String, INDArray> ph(long seed) {
    Nd4j.getRandom().setSeed(seed);
    return Map.of("x", Nd4j.randn(DataType.FLOAT, 5, 3));
  }

  @ParameterizedTest(name = "plans {0}")
  @ValueSource(booleans = {false, true})
  void gradientsAndOutputsEqualSameDiffsOwnAndStayValidAcrossRuns(boolean plans) {
    GraphRuns.withPlans(plans, () -> {
      gradientsAndOutputsEqualSameDiffsOwn(plans);
      return null;
    });
  }

  private void gradientsAndOutputsEqualSameDiffsOwn(boolean plans) {
    SameDiff plain = graph(1);
    SameDiff freed = graph(1);
    Map<String, INDArray> ph1 = ph(2);
    Map<String, INDArray> ph2 = ph(3);
    List<String> vars = List.of("w", "b", "x");

    OutAndGrad expected1 = plain.calculateGradientsAndOutputs(ph1, List.of("loss"), vars);
    Map<String, INDArray> e1 = copies(expected1);
    OutAndGrad got1 = GraphRuns.gradientsAndOutputs(freed, ph1, List.of("loss"), vars);
    OutAndGrad expected2 = plain.calculateGradientsAndOutputs(ph2, List.of("loss"), vars);
    OutAndGrad got2 = GraphRuns.gradientsAndOutputs(freed, ph2, List.of("loss"), vars);

    // the first run's returned arrays are untouched by the second run and by the freeing
    assertSame(copies(got1), e1);
    assertSame(copies(got2), copies(expected2));
    if (!plans) {
      // the session holds nothing from the last run
      assertThat(freed.getFunction("grad").getSessions().get(Thread.currentThread().getId())
          .getNodeValueOutputs()).isEmpty();
    }
    // placeholders and parameters are never closed
    assertThat(ph1.get("x").wasClosed()).isFalse();
    assertThat(ph2.get("x").wasClosed()).isFalse();
    assertThat(freed.getVariable("w").getArr().wasClosed()).isFalse();
    assertThat(freed.getVariable("b").getArr().wasClosed()).isFalse();
    // and gradients-only runs agree too
    Map<String, INDArray> g = GraphRuns.gradients(freed, ph1, List.of("w"));
    assertThat(bits(g.get("w"))).isEqualTo(bits(e1.get("grad:w")));
  }

  @Test
  void intermediatesOfTheRunAreClosedAndOnlyThose() {
    SameDiff sd = graph(4);
    Map<String, INDArray> ph = ph(5);
    OutAndGrad og = sd.calculateGradientsAndOutputs(ph, List.of("loss"), List.of("w"));
    SameDiff grad = sd.getFunction("grad");
    List<INDArray> held = grad.getSessions().get(Thread.currentThread().getId()).getNodeValueOutputs()
        .values().stream().filter(v -> v != null && v.getTensorValue() != null).map(v -> v.getTensorValue())
        .toList();
    assertThat(held).as("SameDiff keeps the last run's values").hasSizeGreaterThan(4);
    INDArray loss = og.getOutputs().get("loss");
    INDArray gw = og.getGradients().get("w");
    List<INDArray> returned = List.of(loss, gw);

    GraphRuns.release(grad, sd, ph, returned);

    java.util.Set<INDArray> ours = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    ours.addAll(returned);
    ours.add(ph.get("x"));
    for (SameDiff g : List.of(sd, grad)) {
      for (SDVariable v : g.variables()) {
        if (v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE
            || v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.CONSTANT) {
          ours.add(v.getArr());
        }
      }
    }
    List<INDArray> intermediates = held.stream().filter(h -> !ours.contains(h)).toList();
    assertThat(intermediates).as("arrays of the run that are neither returned nor parameters").hasSizeGreaterThan(4);
    assertThat(intermediates).allMatch(INDArray::wasClosed, "closed");
    assertThat(ours).allMatch(a -> !a.wasClosed(), "still open");
    assertThat(gw.sumNumber().doubleValue()).isFinite();
  }

  @Test
  void outputForgetsTheReleasedIdsSameDiffWouldKeepForever() {
    GraphRuns.withPlans(false, () -> {
      try {
        outputForgetsTheReleasedIds();
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(e);
      }
      return null;
    });
  }

  private void outputForgetsTheReleasedIds() throws ReflectiveOperationException {
    SameDiff plain = graph(6);
    SameDiff ours = graph(6);
    Map<String, INDArray> ph = ph(7);
    java.lang.reflect.Field freed = org.nd4j.autodiff.samediff.internal.InferenceSession.class
        .getDeclaredField("freedArrays");
    freed.setAccessible(true);
    long tid = Thread.currentThread().getId();
    int[] plainSizes = new int[3];
    for (int run = 0; run < 3; run++) {
      INDArray expected = plain.output(ph, "loss").get("loss");
      INDArray got = GraphRuns.output(ours, ph, "loss").get("loss");
      assertThat(bits(got)).isEqualTo(bits(expected));
      plainSizes[run] = ((java.util.Set<?>) freed.get(plain.getSessions().get(tid))).size();
      assertThat((java.util.Set<?>) freed.get(ours.getSessions().get(tid))).isEmpty();
    }
    // SameDiff's own set grows by the same number of ids every run after the first
    assertThat(plainSizes[1] - plainSizes[0]).isPositive();
    assertThat(plainSizes[2] - plainSizes[1]).isEqualTo(plainSizes[1] - plainSizes[0]);
  }

  @ParameterizedTest(name = "plans {0}")
  @ValueSource(booleans = {false, true})
  void opProfileCountsEachOpOfEachRunAndDetachesWhenStopped(boolean plans) {
    GraphRuns.withPlans(plans, () -> {
      opProfileCounts();
      return null;
    });
  }

  private void opProfileCounts() {
    SameDiff sd = graph(8);
    Map<String, INDArray> ph = ph(9);
    INDArray before = GraphRuns.output(sd, ph, "loss").get("loss");
    OpProfile.start();
    for (int run = 0; run < 3; run++) {
      assertThat(bits(GraphRuns.output(sd, ph, "loss").get("loss"))).isEqualTo(bits(before));
    }
    GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), List.of("w"));
    OpProfile.Report report = OpProfile.stop();
    // forward: tanh once per run (3 runs + the forward part of the gradient run); backward: tanh_bp once
    assertThat(report.ops().get("tanh").calls()).isEqualTo(4);
    assertThat(report.ops().get("tanh_bp").calls()).isEqualTo(1);
    assertThat(report.opNanos()).isPositive().isLessThanOrEqualTo(report.executionNanos());
    assertThat(report.grouped(Map.of("activations", List.of("tanh"))).get("activations"))
        .isEqualTo(report.ops().get("tanh").nanos() + report.ops().get("tanh_bp").nanos());
    // stopped: the next run detaches the listener and nothing more is recorded anywhere
    GraphRuns.output(sd, ph, "loss");
    assertThat(sd.getListeners()).noneMatch(l -> l instanceof OpProfile.Recorder);
    assertThat(OpProfile.stop().ops()).isEmpty();
  }

  private static Map<String, INDArray> copies(OutAndGrad og) {
    Map<String, INDArray> m = new java.util.TreeMap<>();
    og.getOutputs().forEach((k, v) -> m.put("out:" + k, v.dup()));
    og.getGradients().forEach((k, v) -> m.put("grad:" + k, v.dup()));
    return m;
  }

  private static float[] bits(INDArray a) {
    return a.reshape(a.length()).toFloatVector();
  }

  private static void assertSame(Map<String, INDArray> got, Map<String, INDArray> expected) {
    assertThat(got.keySet()).isEqualTo(expected.keySet());
    for (String k : expected.keySet()) {
      assertThat(bits(got.get(k))).as(k).isEqualTo(bits(expected.get(k)));
    }
  }
}

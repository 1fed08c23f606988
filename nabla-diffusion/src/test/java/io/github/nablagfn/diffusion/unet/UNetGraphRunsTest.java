package io.github.nablagfn.diffusion.unet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link GraphRuns} (by default a {@code GraphPlan}: the graph compiled once per input shape and run op by
 * op into planned buffers) gives the same bits as SameDiff's own {@code output} and
 * {@code calculateGradientsAndOutputs} on the small U-Net (attention, GroupNorm, skips, conditioning:
 * every op kind the models use), over several runs of the same graph with changing batch sizes. The plans
 * here run ND4J's ops only ({@code nabla.fusedKernels=false}): the Java kernels compute sigmoid with their own
 * rounding, checked in FastKernelsTest and against the twin (UNetTwinConformanceTest).
 */
class UNetGraphRunsTest {
  private static String kernels;

  @org.junit.jupiter.api.BeforeAll
  static void nd4jOpsOnly() {
    kernels = System.getProperty(io.github.nablagfn.core.graph.FastKernels.PROPERTY);
    System.setProperty(io.github.nablagfn.core.graph.FastKernels.PROPERTY, "false");
  }

  @org.junit.jupiter.api.AfterAll
  static void restore() {
    if (kernels == null) {
      System.clearProperty(io.github.nablagfn.core.graph.FastKernels.PROPERTY);
    } else {
      System.setProperty(io.github.nablagfn.core.graph.FastKernels.PROPERTY, kernels);
    }
  }

  private static SameDiff lossGraph(UNet unet) {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1, 32, 32);
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable c = sd.placeHolder("c", DataType.INT64, -1);
    SDVariable out = unet.forward(GraphScope.of(sd, "", unet.parameters()), InputGradients.track(sd, x), t, c);
    out.mul(out).mean().rename("loss");
    return sd;
  }

  @Test
  void releasingGradientRunsEqualSameDiffsOwnBitForBit() {
    NablaRuntime.init();
    SameDiff plain = lossGraph(UNet.create(UNetConfig.small(), Rng.of(11)));
    SameDiff ours = lossGraph(UNet.create(UNetConfig.small(), Rng.of(11)));
    List<String> vars = new ArrayList<>(List.of("x"));
    ours.variables().stream().filter(v -> v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE)
        .forEach(v -> vars.add(v.name()));
    assertThat(vars).hasSizeGreaterThan(50);
    for (int run = 0; run < 3; run++) {
      Nd4j.getRandom().setSeed(100 + run);
      int b = 2 + run;
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, b, 1, 32, 32),
          "t", Nd4j.createFromArray(new double[] {10, 500, 990, 3}).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, b)).dup(),
          "c", Nd4j.createFromArray(new long[] {1, 7, 3, 0}).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, b)).dup());
      OutAndGrad expected = plain.calculateGradientsAndOutputs(ph, List.of("loss"), vars);
      OutAndGrad got = GraphRuns.gradientsAndOutputs(ours, ph, List.of("loss"), vars);
      assertThat(bits(got.getOutputs().get("loss"))).isEqualTo(bits(expected.getOutputs().get("loss")));
      for (String v : vars) {
        assertThat(bits(got.getGradients().get(v))).as("gradient of %s, run %d", v, run)
            .isEqualTo(bits(expected.getGradients().get(v)));
      }
    }
  }

  @Test
  void forwardRunsEqualSameDiffsOwnBitForBit() {
    NablaRuntime.init();
    io.github.nablagfn.core.model.DenoiserGraph graph =
        new io.github.nablagfn.core.model.DenoiserGraph(UNet.create(UNetConfig.small(), Rng.of(12)));
    SameDiff sd = graph.graph();
    for (int b : new int[] {3, 2, 3, 4}) {
      Nd4j.getRandom().setSeed(200 + b);
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, b, 1, 32, 32),
          "t", Nd4j.createFromArray(new double[] {10, 500, 990, 3}).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, b)).dup(),
          "c", Nd4j.createFromArray(new long[] {1, 7, 3, 0}).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, b)).dup());
      INDArray expected = sd.output(ph, "out").get("out");
      INDArray got = GraphRuns.output(sd, ph, "out").get("out");
      assertThat(bits(got)).as("batch %d", b).isEqualTo(bits(expected));
    }
  }

  private static float[] bits(INDArray a) {
    return a.reshape(a.length()).toFloatVector();
  }
}

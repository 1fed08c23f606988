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
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Naive vs fast: the U-Net's channels-last graph (the default) gives the NCHW graph's output, input
 * gradient and every parameter gradient up to float rounding (the two layouts sum in different orders),
 * for the ε-U-Net with attention and for the flow U-Net. The twin's fixtures check the default
 * (channels-last) graph; this pins the NCHW one, PyTorch's own layout, to it, and so the channels-last
 * upsampling (duplication by concatenation: ND4J's own NHWC upsampling gradient is wrong) to ND4J's NCHW op.
 */
class UNetLayoutTest {
  private static SameDiff lossGraph(UNet unet, boolean channelsLast) {
    String before = System.getProperty(UNet.CHANNELS_LAST_PROPERTY);
    System.setProperty(UNet.CHANNELS_LAST_PROPERTY, Boolean.toString(channelsLast));
    try {
      SameDiff sd = SameDiff.create();
      SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1, 32, 32);
      SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
      SDVariable c = sd.placeHolder("c", DataType.INT64, -1);
      SDVariable out = unet.forward(GraphScope.of(sd, "", unet.parameters()), InputGradients.track(sd, x), t, c);
      out.rename("out");
      Nd4j.getRandom().setSeed(5);
      // a random projection of the output, so every output element has its own weight in the gradient
      out.mul(sd.constant("proj", Nd4j.randn(DataType.FLOAT, 1, 1, 32, 32))).sum().rename("loss");
      sd.setLossVariables("loss");
      return sd;
    } finally {
      if (before == null) {
        System.clearProperty(UNet.CHANNELS_LAST_PROPERTY);
      } else {
        System.setProperty(UNet.CHANNELS_LAST_PROPERTY, before);
      }
    }
  }

  @Test
  void channelsLastEqualsNchwInOutputAndEveryGradient() {
    NablaRuntime.init();
    for (UNetConfig config : new UNetConfig[] {UNetConfig.small(), UNetConfig.flowSmall()}) {
      UNet unet = UNet.create(config, Rng.of(21));
      // the flow U-Net starts with a zero output layer: perturb it so gradients reach every layer
      unet.parameters().get("conv_out.weight").assign(Rng.of(22).gaussian(unet.parameters().get("conv_out.weight").shape()).muli(0.05));
      SameDiff nchw = lossGraph(unet, false);
      SameDiff last = lossGraph(unet, true);
      List<String> vars = new ArrayList<>(List.of("x"));
      last.variables().stream().filter(v -> v.getVariableType() == VariableType.VARIABLE && !v.name().endsWith("__probe"))
          .forEach(v -> vars.add(v.name()));
      Nd4j.getRandom().setSeed(31);
      Map<String, INDArray> ph = Map.of("x", Nd4j.randn(DataType.FLOAT, 3, 1, 32, 32),
          "t", Nd4j.createFromArray(new double[] {10, 500, 990}),
          "c", Nd4j.createFromArray(new long[] {1, 7, 3}).get(NDArrayIndex.interval(0, 3)).dup());
      OutAndGrad want = GraphRuns.gradientsAndOutputs(nchw, ph, List.of("out"), vars);
      OutAndGrad got = GraphRuns.gradientsAndOutputs(last, ph, List.of("out"), vars);
      assertClose("output", got.getOutputs().get("out"), want.getOutputs().get("out"));
      for (String v : vars) {
        assertClose("gradient of " + v, got.getGradients().get(v), want.getGradients().get(v));
      }
    }
  }

  /** Float rounding: 1e-4 of the tensor's largest magnitude (sums of up to ~10⁴ products in float32). */
  private static void assertClose(String what, INDArray got, INDArray want) {
    double scale = want.amaxNumber().doubleValue();
    assertThat(got.shape()).as(what).isEqualTo(want.shape());
    assertThat(got.sub(want).amaxNumber().doubleValue()).as("%s (max |value| %g)", what, scale)
        .isLessThanOrEqualTo(1e-4 * scale + 1e-12);
  }
}

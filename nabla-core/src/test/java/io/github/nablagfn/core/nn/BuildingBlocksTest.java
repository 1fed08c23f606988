package io.github.nablagfn.core.nn;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Each block against a naive reference written out in plain Java loops (double precision). */
class BuildingBlocksTest {
  private final Rng rng = Rng.of(21);

  /** Through GraphRuns, as the library runs graphs (a block may emit Java ops only plans execute). */
  private static INDArray run(SameDiff sd, SDVariable out, Map<String, INDArray> ph) {
    return io.github.nablagfn.core.graph.GraphRuns.output(sd, ph, out.name()).get(out.name());
  }

  @Test
  void linearComputesXWTransposePlusB() {
    ParameterSet p = new ParameterSet();
    Linear lin = Linear.create(p, rng, "fc", 3, 2, true);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    SDVariable y = lin.forward(GraphScope.of(sd, "m.", p), x);
    INDArray xin = rng.gaussian(4, 3);
    INDArray out = run(sd, y, Map.of("x", xin));
    INDArray w = p.get("fc.weight");
    INDArray b = p.get("fc.bias");
    for (int i = 0; i < 4; i++) {
      for (int o = 0; o < 2; o++) {
        double e = b.getDouble(o);
        for (int k = 0; k < 3; k++) {
          e += xin.getDouble(i, k) * w.getDouble(o, k);
        }
        assertThat(out.getDouble(i, o)).isCloseTo(e, within(1e-5));
      }
    }
    // torch default init bound 1/sqrt(fan_in)
    assertThat(w.amaxNumber().doubleValue()).isLessThanOrEqualTo(1 / Math.sqrt(3));
    assertThat(sd.hasVariable("m.fc.weight")).isTrue();
  }

  @Test
  void graphVariablesShareTheParameterArrays() {
    ParameterSet p = new ParameterSet();
    Linear lin = Linear.create(p, rng, "fc", 2, 1, false);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2);
    SDVariable y = lin.forward(GraphScope.of(sd, "", p), x);
    INDArray xin = Nd4j.createFromArray(new float[][] {{1, 1}});
    p.get("fc.weight").assign(Nd4j.createFromArray(new float[][] {{2, 3}}));
    assertThat(run(sd, y, Map.of("x", xin)).getDouble(0)).isEqualTo(5.0);
    p.get("fc.weight").muli(2); // an in-place optimizer update is seen by the graph
    assertThat(run(sd, y, Map.of("x", xin)).getDouble(0)).isEqualTo(10.0);
  }

  @Test
  void conv2dMatchesANaiveConvolutionAndBackpropagates() {
    ParameterSet p = new ParameterSet();
    Conv2d conv = Conv2d.create(p, rng, "c", 2, 3, 3, 2, 1);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 2, 5, 5);
    SDVariable y = conv.forward(GraphScope.of(sd, "", p), x);
    y.mul(y).sum("loss");
    sd.setLossVariables("loss");
    INDArray xin = rng.gaussian(2, 2, 5, 5);
    INDArray out = run(sd, y, Map.of("x", xin));
    assertThat(out.shape()).containsExactly(2, 3, 3, 3);
    INDArray w = p.get("c.weight"); // (out, in, kh, kw)
    for (int n = 0; n < 2; n++) {
      for (int o = 0; o < 3; o++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 3; j++) {
            double e = p.get("c.bias").getDouble(o);
            for (int c = 0; c < 2; c++) {
              for (int kh = 0; kh < 3; kh++) {
                for (int kw = 0; kw < 3; kw++) {
                  int r = 2 * i - 1 + kh;
                  int q = 2 * j - 1 + kw;
                  if (r >= 0 && r < 5 && q >= 0 && q < 5) {
                    e += w.getDouble(o, c, kh, kw) * xin.getDouble(n, c, r, q);
                  }
                }
              }
            }
            assertThat(out.getDouble(n, o, i, j)).isCloseTo(e, within(1e-5));
          }
        }
      }
    }
    Map<String, INDArray> g = sd.calculateGradients(Map.of("x", xin), "c.weight", "c.bias");
    // ∂/∂b_o Σ y² = Σ 2 y over the output channel o
    assertThat(g.get("c.bias").getDouble(1)).isCloseTo(out.get(
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(1))
        .sumNumber().doubleValue() * 2, within(1e-3));
    assertThat(g.get("c.weight").shape()).containsExactly(3, 2, 3, 3);
  }

  @Test
  void groupNormMatchesANaiveReference() {
    int groups = 2;
    int channels = 4;
    ParameterSet p = new ParameterSet();
    GroupNorm gn = GroupNorm.create(p, "gn", groups, channels, 1e-5);
    p.get("gn.weight").assign(rng.gaussian(channels));
    p.get("gn.bias").assign(rng.gaussian(channels));
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, channels, 3, 3);
    SDVariable y = gn.forward(GraphScope.of(sd, "", p), x);
    INDArray xin = rng.gaussian(3, channels, 3, 3).muli(3).addi(1);
    INDArray out = run(sd, y, Map.of("x", xin));
    int per = channels / groups;
    for (int n = 0; n < 3; n++) {
      for (int g = 0; g < groups; g++) {
        double sum = 0;
        double sq = 0;
        int count = per * 9;
        for (int c = g * per; c < (g + 1) * per; c++) {
          for (int i = 0; i < 9; i++) {
            sum += xin.getDouble(n, c, i / 3, i % 3);
          }
        }
        double mean = sum / count;
        for (int c = g * per; c < (g + 1) * per; c++) {
          for (int i = 0; i < 9; i++) {
            double d = xin.getDouble(n, c, i / 3, i % 3) - mean;
            sq += d * d;
          }
        }
        double inv = 1 / Math.sqrt(sq / count + 1e-5);
        for (int c = g * per; c < (g + 1) * per; c++) {
          for (int i = 0; i < 9; i++) {
            double e = (xin.getDouble(n, c, i / 3, i % 3) - mean) * inv * p.get("gn.weight").getDouble(c)
                + p.get("gn.bias").getDouble(c);
            assertThat(out.getDouble(n, c, i / 3, i % 3)).isCloseTo(e, within(2e-5));
          }
        }
      }
    }
    assertThatThrownBy(() -> GroupNorm.create(new ParameterSet(), "bad", 3, 4, 1e-5))
        .hasMessageContaining("4 channels in 3 groups");
  }

  /**
   * The fast formulation (same-shape multiplies) against the naive one (broadcasting multiplies): equal
   * outputs and equal gradients for x, γ and β.
   */
  @Test
  void groupNormFastFormulationHasTheNaiveGradients() {
    int groups = 4;
    int channels = 8;
    ParameterSet p = new ParameterSet();
    GroupNorm gn = GroupNorm.create(p, "gn", groups, channels, 1e-5);
    p.get("gn.weight").assign(rng.gaussian(channels));
    p.get("gn.bias").assign(rng.gaussian(channels));
    INDArray xin = rng.gaussian(3, channels, 4, 5).muli(2).addi(0.5);
    INDArray weights = rng.gaussian(3, channels, 4, 5);
    Map<String, INDArray> fast = groupNormGradients(p, xin, weights, (scope, x) -> gn.forward(scope, x));
    Map<String, INDArray> naive = groupNormGradients(p, xin, weights, (scope, x) -> {
      SameDiff sd = scope.sd();
      SDVariable grouped = x.reshape(3, groups, -1);
      SDVariable centred = grouped.sub(grouped.mean(true, 2));
      SDVariable normed = centred.mul(sd.math().rsqrt(centred.mul(centred).mean(true, 2).add(1e-5)));
      return normed.reshape(3, channels, 4, 5).mul(scope.param("gn.weight").reshape(1, channels, 1, 1))
          .add(scope.param("gn.bias").reshape(1, channels, 1, 1));
    });
    for (String k : new String[] {"y", "x", "gn.weight", "gn.bias"}) {
      assertRelMax(k, fast.get(k), naive.get(k), 1e-5);
    }
    // channels-last: the same block over the permuted input, permuted back, has the same values and gradients
    Map<String, INDArray> last = groupNormGradients(p, xin, weights, (scope, x) -> scope.sd().permute(
        gn.forward(scope, scope.sd().permute(x, 0, 2, 3, 1), true), 0, 3, 1, 2));
    for (String k : new String[] {"y", "x", "gn.weight", "gn.bias"}) {
      assertRelMax("channels-last " + k, last.get(k), naive.get(k), 1e-5);
    }
  }

  /** Channels-last convolution (NHWC in and out, same OIHW parameters) equals the NCHW one, with gradients. */
  @Test
  void conv2dChannelsLastEqualsNchw() {
    ParameterSet p = new ParameterSet();
    Conv2d conv = Conv2d.create(p, rng, "c", 3, 4, 3, 1, 1);
    INDArray xin = rng.gaussian(2, 3, 6, 6);
    INDArray weights = rng.gaussian(2, 4, 6, 6);
    Map<String, INDArray>[] g = new Map[2];
    for (int layout = 0; layout < 2; layout++) {
      boolean last = layout == 1;
      SameDiff sd = SameDiff.create();
      SDVariable x = InputGradients.track(sd, sd.placeHolder("x", DataType.FLOAT, -1, 3, 6, 6));
      GraphScope scope = GraphScope.of(sd, "", p);
      SDVariable y = last ? sd.permute(conv.forward(scope, sd.permute(x, 0, 2, 3, 1), true), 0, 3, 1, 2)
          : conv.forward(scope, x);
      y.mul(sd.constant(weights)).sum("loss");
      sd.setLossVariables("loss");
      g[layout] = new java.util.HashMap<>(sd.calculateGradients(Map.of("x", xin), "x", "c.weight", "c.bias"));
      g[layout].put("y", sd.output(Map.of("x", xin), y.name()).get(y.name()));
    }
    for (String k : new String[] {"y", "x", "c.weight", "c.bias"}) {
      assertRelMax("channels-last " + k, g[1].get(k), g[0].get(k), 1e-5);
    }
  }

  private static Map<String, INDArray> groupNormGradients(ParameterSet p, INDArray xin, INDArray weights,
      java.util.function.BiFunction<GraphScope, SDVariable, SDVariable> block) {
    SameDiff sd = SameDiff.create();
    SDVariable x = InputGradients.track(sd, sd.placeHolder("x", DataType.FLOAT, -1, 8, 4, 5));
    GraphScope scope = GraphScope.of(sd, "", p);
    SDVariable y = block.apply(scope, x);
    y.mul(sd.constant(weights)).sum("loss");
    sd.setLossVariables("loss");
    var og = io.github.nablagfn.core.graph.GraphRuns.gradientsAndOutputs(sd, Map.of("x", xin), java.util.List.of(y.name()),
        java.util.List.of("x", "gn.weight", "gn.bias"));
    Map<String, INDArray> g = new java.util.HashMap<>(og.getGradients());
    g.put("y", og.getOutputs().get(y.name()));
    return g;
  }

  @Test
  void siluIsXTimesSigmoid() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1);
    SDVariable y = Activations.silu(sd, x);
    INDArray xin = Nd4j.createFromArray(-5f, -1f, 0f, 0.5f, 3f);
    INDArray out = run(sd, y, Map.of("x", xin));
    for (int i = 0; i < 5; i++) {
      double v = xin.getDouble(i);
      assertThat(out.getDouble(i)).isCloseTo(v / (1 + Math.exp(-v)), within(1e-6));
    }
  }

  @Test
  void siluGradientIsFiniteAndExactForLargeInputs() {
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1);
    Activations.silu(sd, InputGradients.track(sd, x)).sum("s");
    sd.setLossVariables("s");
    INDArray xin = Nd4j.createFromArray(-1000f, -90f, -1f, 0f, 2f, 90f, 1000f);
    INDArray g = sd.calculateGradients(Map.of("x", xin), "x").get("x");
    for (int i = 0; i < xin.length(); i++) {
      double v = xin.getDouble(i);
      double sig = 1 / (1 + Math.exp(-v));
      assertThat(g.getDouble(i)).as("dSiLU/dx at %s", v).isCloseTo(sig + v * sig * (1 - sig), within(1e-5));
    }
  }

  @Test
  void sinusoidalEmbeddingMatchesTheTwin() {
    var fix = TwinFixtures.read("unet_forward.safetensors");
    SameDiff sd = SameDiff.create();
    SDVariable t = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable e = SinusoidalEmbedding.forward(sd, t, 32);
    INDArray out = run(sd, e, Map.of("t", fix.get("unet.t").castTo(DataType.DOUBLE)));
    assertRelMax("temb_sin", out, fix.get("unet.temb_sin"), 1e-5);
  }

  @Test
  void mlpHasTheRequestedWidthsAndZeroOutputStartsAtZero() {
    ParameterSet p = new ParameterSet();
    Mlp mlp = Mlp.create(p, rng, "mlp", new int[] {3, 8, 8, 2}, true);
    assertThat(p.names()).containsExactly("mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias",
        "mlp.2.weight", "mlp.2.bias");
    assertThat(p.count()).isEqualTo(3 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2);
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 3);
    SDVariable y = mlp.forward(GraphScope.of(sd, "", p), x);
    assertThat(run(sd, y, Map.of("x", rng.gaussian(5, 3))).amaxNumber().doubleValue()).isZero();
  }

  @Test
  void parameterLoadNamesMissingAndMisshapedTensors() {
    ParameterSet p = new ParameterSet();
    Linear.create(p, rng, "fc", 3, 2, true);
    assertThatThrownBy(() -> p.load(Map.of("fc.weight", Nd4j.zeros(2, 3)), false))
        .hasMessageContaining("missing tensor 'fc.bias'");
    assertThatThrownBy(() -> p.load(Map.of("fc.weight", Nd4j.zeros(3, 2), "fc.bias", Nd4j.zeros(2)), false))
        .hasMessageContaining("tensor 'fc.weight' has shape [3, 2]; expected [2, 3]");
    assertThatThrownBy(() -> p.load(Map.of("fc.weight", Nd4j.zeros(2, 3), "fc.bias", Nd4j.zeros(2),
        "other", Nd4j.zeros(1)), false)).hasMessageContaining("unexpected tensor 'other'");
    INDArray before = p.get("fc.weight").dup();
    assertThat(p.get("fc.weight")).isEqualTo(before); // failed loads changed nothing
  }
}

package io.github.nablagfn.rewards.aesthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.InputGradients;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import io.github.nablagfn.rewards.classifier.Classifier;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class AestheticRewardTest {
  @TempDir Path dir;

  private static Classifier classifier() throws Exception {
    return Classifier.create(1, 10, Rng.of(0)).load(TwinFixtures.dir().resolve("classifier.safetensors"));
  }

  @Test
  void headHasTheLaionLayoutAndIsAffineInTheNormalisedEmbedding() {
    AestheticHead head = AestheticHead.create(5, Rng.of(3));
    assertThat(head.parameters().names()).containsExactly("layers.0.weight", "layers.0.bias", "layers.2.weight",
        "layers.2.bias", "layers.4.weight", "layers.4.bias", "layers.6.weight", "layers.6.bias", "layers.7.weight",
        "layers.7.bias");
    assertThat(head.parameters().count()).isEqualTo(5 * 1024 + 1024 + 1024 * 128 + 128 + 128 * 64 + 64 + 64 * 16 + 16
        + 16 + 1);
    INDArray e = Rng.of(4).gaussian(3, 5);
    SameDiff sd = SameDiff.create();
    SDVariable out = head.forward(new GraphScope(sd, "", head.parameters(), false),
        sd.placeHolder("e", DataType.FLOAT, -1, 5));
    double[] got = sd.output(Map.of("e", e), out.name()).get(out.name()).toDoubleVector();
    for (int i = 0; i < 3; i++) {
      double[] h = e.getRow(i).castTo(DataType.DOUBLE).toDoubleVector();
      double norm = Math.sqrt(java.util.Arrays.stream(h).map(v -> v * v).sum());
      for (int k = 0; k < h.length; k++) {
        h[k] /= norm;
      }
      for (String l : AestheticHead.LAYERS) { // y = W h + b, in double
        double[][] w = head.parameters().get(l + ".weight").castTo(DataType.DOUBLE).toDoubleMatrix();
        double[] b = head.parameters().get(l + ".bias").castTo(DataType.DOUBLE).toDoubleVector();
        double[] y = b.clone();
        for (int o = 0; o < y.length; o++) {
          for (int k = 0; k < h.length; k++) {
            y[o] += w[o][k] * h[k];
          }
        }
        h = y;
      }
      assertThat(got[i]).isCloseTo(h[0], within(1e-5 + 1e-4 * Math.abs(h[0])));
    }
  }

  @Test
  void autodiffGradientEqualsFiniteDifferences() throws Exception {
    AestheticReward reward = new AestheticReward(classifier(), AestheticHead.create(64, Rng.of(5)));
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1, 32, 32);
    reward.forward(new GraphScope(sd, "r.", reward.parameters(), false), InputGradients.track(sd, x), null).sum("s");
    sd.setLossVariables("s");
    qt().withFixedSeed(71).withExamples(4).forAll(longs().all()).checkAssert(seed -> {
      Rng rng = Rng.of(seed);
      INDArray xin = rng.uniform(-1, 1, 2, 1, 32, 32);
      INDArray g = sd.calculateGradients(Map.of("x", xin), "x").get("x");
      // directional derivatives along random directions: large enough to rise above float32 rounding
      for (int trial = 0; trial < 3; trial++) {
        INDArray v = rng.gaussian(2, 1, 32, 32);
        double h = 1e-2;
        double plus = reward.evaluate(xin.add(v.mul(h)), null).sumNumber().doubleValue();
        double minus = reward.evaluate(xin.sub(v.mul(h)), null).sumNumber().doubleValue();
        double fd = (plus - minus) / (2 * h);
        double exact = g.castTo(DataType.DOUBLE).mul(v.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
        // O(h²) truncation of a smooth (SiLU) network, plus a few float32 ulps of R divided by 2h
        double noise = 1e-6 * (Math.abs(plus) + Math.abs(minus)) / (2 * h);
        assertThat(exact).as("trial %d", trial).isCloseTo(fd, within(1e-2 * Math.abs(fd) + noise));
      }
    });
  }

  @Test
  void aFileWithAMissingOrMisShapedTensorIsRefusedNamingIt() throws Exception {
    AestheticHead head = AestheticHead.create(64, Rng.of(1));
    Map<String, INDArray> tensors = new LinkedHashMap<>(head.parameters().asMap());
    tensors.remove("layers.4.bias");
    Path missing = dir.resolve("missing.safetensors");
    Safetensors.write(missing, tensors, Map.of());
    assertThatThrownBy(() -> AestheticHead.create(64, Rng.of(0)).load(missing)).hasMessageContaining("layers.4.bias");
    tensors = new LinkedHashMap<>(head.parameters().asMap());
    tensors.put("layers.6.weight", Rng.of(2).gaussian(16, 63));
    Path shaped = dir.resolve("shaped.safetensors");
    Safetensors.write(shaped, tensors, Map.of());
    assertThatThrownBy(() -> AestheticHead.create(64, Rng.of(0)).load(shaped)).hasMessageContaining("layers.6.weight");
    assertThatThrownBy(() -> new AestheticReward(Classifier.create(1, 10, Rng.of(0)), AestheticHead.create(32, Rng.of(0))))
        .hasMessageContaining("embedding = 32");
  }
}

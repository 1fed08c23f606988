package io.github.nablagfn.diffusion.unet;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The small U-Net and the flow U-Net against the PyTorch twin (twin README: outputs within 1e-4, embeddings 1e-5). */
class UNetTwinConformanceTest {
  @TempDir Path dir;

  @Test
  void smallUNetHasTheTwinsParameterNamesShapesAndCount() {
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0));
    assertThat(unet.parameters().count()).isEqualTo(795_105);
    Map<String, INDArray> twin = TwinFixtures.read("unet.safetensors").tensors();
    assertThat(unet.parameters().names()).containsExactlyInAnyOrderElementsOf(twin.keySet());
    twin.forEach((k, v) -> assertThat(unet.parameters().get(k).shape()).as(k).isEqualTo(v.shape()));
    assertThat(unet.parameters().names()).hasSize(113);
  }

  @Test
  void flowUNetHasTheTwinsParameterNamesShapesAndCountAndStartsAtZero() {
    UNet flow = UNet.create(UNetConfig.flowSmall(), Rng.of(0));
    assertThat(flow.parameters().count()).isEqualTo(226_673);
    Map<String, INDArray> twin = TwinFixtures.read("flow.safetensors").tensors();
    assertThat(flow.parameters().names()).containsExactlyInAnyOrderElementsOf(twin.keySet());
    assertThat(flow.parameters().names()).hasSize(107);
    INDArray out = new DenoiserGraph(flow).predict(Rng.of(1).gaussian(2, 1, 32, 32), new int[] {5, 900},
        Nd4j.createFromArray(1L, 10L));
    assertThat(out.amaxNumber().doubleValue()).isZero();
  }

  @Test
  void epsilonMatchesTheTwinOnItsFixtureInputs() throws IOException {
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0)).load(TwinFixtures.dir().resolve("unet.safetensors"));
    Safetensors.Contents fix = TwinFixtures.read("unet_forward.safetensors");
    INDArray x = fix.get("unet.x");
    long[] tl = fix.get("unet.t").toLongVector();
    int[] t = new int[tl.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = (int) tl[i];
    }
    INDArray eps = new DenoiserGraph(unet).predict(x, t, fix.get("unet.c"));
    assertRelMax("unet.eps", eps, fix.get("unet.eps"), 1e-4);

    SameDiff sd = SameDiff.create();
    SDVariable tv = sd.placeHolder("t", DataType.DOUBLE, -1);
    SDVariable cv = sd.placeHolder("c", DataType.INT64, -1);
    SDVariable emb = unet.embedding(GraphScope.of(sd, "", unet.parameters()), tv, cv);
    INDArray e = sd.output(Map.of("t", fix.get("unet.t").castTo(DataType.DOUBLE), "c", fix.get("unet.c")), emb.name())
        .get(emb.name());
    assertRelMax("unet.emb", e, fix.get("unet.emb"), 1e-5);
  }

  @Test
  void saveThenLoadRoundTripsAndAMisshapedFileIsRejectedNamingTheTensor() throws IOException {
    UNet a = UNet.create(UNetConfig.flowSmall(), Rng.of(3));
    a.parameters().get("conv_out.weight").assign(Rng.of(4).gaussian(1, 16, 3, 3));
    Path f = dir.resolve("flow.safetensors");
    a.save(f);
    UNet b = UNet.create(UNetConfig.flowSmall(), Rng.of(5)).load(f);
    for (String n : a.parameters().names()) {
      assertThat(b.parameters().get(n)).as(n).isEqualTo(a.parameters().get(n));
    }
    Map<String, INDArray> broken = new LinkedHashMap<>(Safetensors.read(f).tensors());
    broken.put("up0.conv2.weight", Nd4j.zeros(DataType.FLOAT, 16, 16, 1, 1));
    Path g = dir.resolve("broken.safetensors");
    Safetensors.write(g, broken);
    assertThatThrownBy(() -> UNet.create(UNetConfig.flowSmall(), Rng.of(5)).load(g))
        .hasMessageContaining("broken.safetensors").hasMessageContaining("up0.conv2.weight")
        .hasMessageContaining("[16, 16, 1, 1]");
    broken.remove("up0.conv2.weight");
    Safetensors.write(g, broken);
    assertThatThrownBy(() -> UNet.create(UNetConfig.flowSmall(), Rng.of(5)).load(g))
        .hasMessageContaining("missing tensor 'up0.conv2.weight'");
    assertThat(Files.exists(f)).isTrue();
  }

  @Test
  void invalidConfigsAreRejectedNamingTheField() {
    assertThatThrownBy(() -> new UNetConfig(1, 30, new int[] {32, 64, 64}, true, 8, 32, 128, 10, false,
        io.github.nablagfn.core.sampler.PredictionType.EPSILON)).hasMessageContaining("UNetConfig.imageSize = 30");
    assertThatThrownBy(() -> new UNetConfig(1, 32, new int[] {30, 64}, true, 8, 32, 128, 10, false,
        io.github.nablagfn.core.sampler.PredictionType.EPSILON)).hasMessageContaining("UNetConfig.channels = [30, 64]");
  }
}

package io.github.nablagfn.diffusion.lora;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.DataSource;
import io.github.nablagfn.core.train.Pretrainer;
import io.github.nablagfn.core.train.Reference;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LoraDenoiserTest {
  private static final UNetConfig TINY = new UNetConfig(1, 8, new int[] {8, 8}, true, 4, 8, 16, 3, false,
      PredictionType.EPSILON);
  private static final LoraConfig LORA = new LoraConfig(2, 4.0, List.of("attn.qkv.weight", "attn.proj.weight",
      "time_fc1.weight"), LoraConfig.Init.KAIMING_UNIFORM);
  @TempDir Path dir;

  private static final INDArray X = Rng.of(9).gaussian(3, 1, 8, 8);
  private static final int[] T = {10, 500, 990};
  private static final INDArray C = Nd4j.createFromArray(0L, 2L, 3L);

  private static INDArray out(io.github.nablagfn.core.model.Denoiser d) {
    return new DenoiserGraph(d).predict(X, T, C);
  }

  @Test
  void zeroInitialisedBGivesExactlyTheBaseOutput() {
    UNet base = UNet.create(TINY, Rng.of(1));
    LoraDenoiser lora = LoraDenoiser.wrap(base, LORA, Rng.of(2));
    // r·(fan_in + out) per target: qkv (8 → 24), proj (8 → 8), time_fc1 (8 → 16)
    assertThat(lora.parameters().count()).isEqualTo(2L * (8 + 24) + 2L * (8 + 8) + 2L * (8 + 16));
    assertThat(out(lora)).isEqualTo(out(base));
  }

  @Test
  void mergedAdaptersGiveTheSameOutputAsUnmergedOnes() {
    UNet base = UNet.create(TINY, Rng.of(1));
    LoraDenoiser lora = LoraDenoiser.wrap(base, LORA, Rng.of(2));
    lora.parameters().asMap().forEach((k, v) -> v.assign(Rng.of(k.hashCode()).gaussian(v.shape()).muli(0.3)));
    INDArray before = out(lora);
    assertThat(before.sub(out(base)).amaxNumber().doubleValue()).as("adapters change the output").isGreaterThan(1e-3);
    lora.merge();
    assertRelMax("merged base vs adapted", out(base), before, 1e-5);
    assertRelMax("merged adapted (B = 0) vs adapted", out(lora), before, 1e-5);
  }

  @Test
  void trainingOnlyTheAdaptersLeavesTheBaseBitIdentical() {
    UNet base = UNet.create(TINY, Rng.of(1));
    Map<String, INDArray> frozen = new java.util.LinkedHashMap<>();
    base.parameters().asMap().forEach((k, v) -> frozen.put(k, v.dup()));
    LoraDenoiser lora = LoraDenoiser.wrap(base, LORA, Rng.of(2));
    INDArray bBefore = lora.parameters().get("attn.qkv.weight.lora_B").dup();
    DataSource data = (rng, n) -> new DataSource.Batch(rng.gaussian(n, 1, 8, 8).muli(0.5),
        Nd4j.createFromArray(new long[n]));
    new Pretrainer(lora, NoiseSchedule.ddpmDefault(), AdamW.lr(1e-2), 4, 3).fit(data, 3);
    frozen.forEach((k, v) -> assertThat(base.parameters().get(k)).as("base %s", k).isEqualTo(v));
    assertThat(lora.parameters().get("attn.qkv.weight.lora_B")).isNotEqualTo(bBefore);
    // the reference with adapters disabled is the very base network
    assertThat(Reference.adaptersDisabled().resolve(lora)).isSameAs(base);
  }

  @Test
  void adaptersSaveAndLoadAloneAndMismatchesAreRejected() throws IOException {
    LoraDenoiser a = LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)), LORA, Rng.of(2));
    a.parameters().get("attn.proj.weight.lora_B").assign(Rng.of(3).gaussian(8, 2));
    Path f = dir.resolve("adapter");
    a.saveAdapters(f, "tiny-unet.safetensors");
    LoraDenoiser b = LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)), LORA, Rng.of(4));
    b.loadAdapters(f);
    assertThat(b.parameters().get("attn.proj.weight.lora_B")).isEqualTo(a.parameters().get("attn.proj.weight.lora_B"));
    LoraDenoiser r4 = LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)),
        new LoraConfig(4, 4.0, LORA.targets(), LoraConfig.Init.GAUSSIAN), Rng.of(4));
    assertThatThrownBy(() -> r4.loadAdapters(f)).hasMessageContaining("adapters of rank 2; this model has rank 4");
    assertThatThrownBy(() -> LoraDenoiser.wrap(UNet.create(TINY, Rng.of(1)),
        new LoraConfig(2, 2, List.of("nope.weight"), LoraConfig.Init.GAUSSIAN), Rng.of(1)))
        .hasMessageContaining("LoRA target 'nope.weight' is not a parameter");
    assertThatThrownBy(() -> new LoraConfig(0, 1, LORA.targets(), LoraConfig.Init.GAUSSIAN))
        .hasMessageContaining("LoraConfig.rank = 0");
  }
}
